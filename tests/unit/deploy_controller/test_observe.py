"""A version's state as the rollout sees it, and the router's backends."""

from __future__ import annotations

from pathlib import Path

import pytest

from code_engine.deploy.controller.observe import backends_for, version_state
from code_engine.deploy.local import InstanceInfo
from code_engine.deploy.local import InstanceState as P
from code_engine.deploy.rollout import InstanceState as S


def info(version: str, index: int, state: P, port: int = 0) -> InstanceInfo:
    port = port or 8000 + index
    return InstanceInfo(version, index, port, 1, state, 0.0, 0, Path("log"))


@pytest.mark.parametrize(
    ("infos", "expected", "starting", "failed", "state"),
    [
        ([], 1, False, False, S.ABSENT),
        ([], 1, True, False, S.STARTING),
        ([], 1, False, True, S.CRASHED),
        ([info("v2", 0, P.STARTING)], 1, True, False, S.STARTING),
        ([info("v2", 0, P.READY)], 1, True, False, S.READY),
        ([info("v2", 0, P.READY)], 2, False, False, S.STARTING),
        ([info("v2", 0, P.READY), info("v2", 1, P.READY)], 2, False, False, S.READY),
        ([info("v2", 0, P.READY), info("v2", 1, P.CRASHED)], 2, False, False, S.CRASHED),
        ([info("v2", 0, P.BACKOFF)], 1, False, True, S.STARTING),
        ([info("v1", 0, P.READY)], 1, False, False, S.ABSENT),
    ],
)
def test_version_state(
    infos: list[InstanceInfo], expected: int, starting: bool, failed: bool, state: S
) -> None:
    assert version_state("v2", infos, expected, starting=starting, failed=failed) is state


def test_backends_are_the_ready_instances() -> None:
    infos = [info("v1", 0, P.READY), info("v1", 1, P.STARTING), info("v2", 0, P.READY, 9000)]
    assert backends_for(infos, {"v1": 100}, {}) == {
        "v1": ["127.0.0.1:8000"],
        "v2": ["127.0.0.1:9000"],
    }


def test_a_weighted_version_without_ready_instances_keeps_its_backends() -> None:
    previous = {"v2": ["127.0.0.1:9000"]}
    infos = [info("v1", 0, P.READY), info("v2", 0, P.BACKOFF, 9000)]
    kept = backends_for(infos, {"v1": 80, "v2": 20}, previous)
    assert kept == {"v1": ["127.0.0.1:8000"], "v2": ["127.0.0.1:9000"]}
    assert backends_for(infos, {"v1": 100}, previous) == {"v1": ["127.0.0.1:8000"]}
