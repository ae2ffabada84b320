"""The local target: releases run as supervised processes on this machine.

`build_release` makes the immutable snapshot (source + virtualenv) of a release,
`Supervisor` runs its instances, restarts crashed ones and adopts them after a controller
restart, `tail_logs` reads what they wrote.
"""

from code_engine.deploy.local.artifact import ArtifactError, ReleaseArtifact, build_release
from code_engine.deploy.local.backoff import RestartPolicy
from code_engine.deploy.local.errors import InstanceStartError
from code_engine.deploy.local.logfiles import LogLimits, environment_log_dir
from code_engine.deploy.local.logtail import LogLine, tail_logs
from code_engine.deploy.local.model import InstanceInfo, InstanceState, LaunchSpec
from code_engine.deploy.local.supervisor import Supervisor

__all__ = [
    "ArtifactError",
    "InstanceInfo",
    "InstanceStartError",
    "InstanceState",
    "LaunchSpec",
    "LogLimits",
    "LogLine",
    "ReleaseArtifact",
    "RestartPolicy",
    "Supervisor",
    "build_release",
    "environment_log_dir",
    "tail_logs",
]
