"""The background worker: one loop that runs the controller of every managed environment."""

from code_engine.worker.loop import Worker, WorkerConfig, default_targets, start_worker_thread

__all__ = ["Worker", "WorkerConfig", "default_targets", "start_worker_thread"]
