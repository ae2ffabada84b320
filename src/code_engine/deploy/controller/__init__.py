"""The rollout controller: drives each environment's deployments through its `Target`.

`EnvironmentController` runs `decide` for one environment; `Target` is what it drives
(the local target: supervised processes behind a `Router`); `code_engine.worker` runs the
controllers of every environment.
"""

from code_engine.deploy.controller.environment import ControllerConfig, EnvironmentController
from code_engine.deploy.controller.routerstats import RouterStatsProvider
from code_engine.deploy.controller.target import Observed, Target, TargetOpener, TargetSite

__all__ = [
    "ControllerConfig",
    "EnvironmentController",
    "Observed",
    "RouterStatsProvider",
    "Target",
    "TargetOpener",
    "TargetSite",
]
