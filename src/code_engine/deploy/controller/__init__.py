"""The rollout controller: a worker loop that runs `decide` against real processes and routers."""

from code_engine.deploy.controller.routerstats import RouterStatsProvider
from code_engine.deploy.controller.worker import Worker, WorkerConfig, start_worker_thread

__all__ = ["RouterStatsProvider", "Worker", "WorkerConfig", "start_worker_thread"]
