"""Pure helpers of the controller's observation: a version's state, the router's backends."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from code_engine.deploy.local import InstanceInfo
from code_engine.deploy.local import InstanceState as Process
from code_engine.deploy.rollout import InstanceState

LIVE = (Process.STARTING, Process.READY, Process.BACKOFF)


def version_state(
    version: str,
    infos: Sequence[InstanceInfo],
    expected: int,
    *,
    starting: bool = False,
    failed: bool = False,
) -> InstanceState:
    """READY only when `expected` instances answer their health check; CRASHED when the
    supervisor gave up on one or the last start failed; ABSENT when nothing runs."""
    mine = [i for i in infos if i.version == version]
    if any(i.state is Process.CRASHED for i in mine):
        return InstanceState.CRASHED
    if failed and not any(i.state in LIVE for i in mine):
        return InstanceState.CRASHED
    if sum(1 for i in mine if i.state is Process.READY) >= expected:
        return InstanceState.READY
    if mine or starting:
        return InstanceState.STARTING
    return InstanceState.ABSENT


def backends_for(
    infos: Sequence[InstanceInfo],
    weights: Mapping[str, int],
    previous: Mapping[str, Sequence[str]],
) -> dict[str, list[str]]:
    """Ready addresses per version; a version that still has weight but no ready instance
    keeps its previous addresses (a router refuses weight without backends, and the
    controller is about to move that weight away)."""
    backends: dict[str, list[str]] = {}
    for info in infos:
        if info.state is Process.READY:
            backends.setdefault(info.version, []).append(info.address)
    for version, weight in weights.items():
        if weight > 0 and version not in backends and previous.get(version):
            backends[version] = list(previous[version])
    return {v: sorted(a) for v, a in sorted(backends.items())}
