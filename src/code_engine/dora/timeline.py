"""One service's events in one environment, sorted and joined once.

`prepare` does the only pass over all events (sort, commit delivery, incident linking,
recovery pairing); afterwards any window is answered with binary searches over sorted
timestamp lists, so the weekly trend costs no more than the headline figures.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from itertools import accumulate

from code_engine.dora.events import CommitEvent, DeploymentEvent, DeploymentStatus, IncidentEvent

SUCCEEDED = DeploymentStatus.SUCCEEDED
FAILED = DeploymentStatus.FAILED
ROLLED_BACK = DeploymentStatus.ROLLED_BACK
DEFAULT_INCIDENT_LINK_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Timeline:
    """Sorted POSIX timestamps (seconds) and durations derived from the events.

    Prefix lists hold running totals aligned with `deploy_ts` (length + 1), so the count
    of a kind between positions i and j is `prefix[j] - prefix[i]`.
    """

    service: str
    environment: str
    deploy_ts: list[float]
    failed_prefix: list[int]
    rolled_back_prefix: list[int]
    linked_prefix: list[int]
    success_ts: list[float]
    lead_ts: list[float]
    lead_seconds: list[float]
    unmatched_ts: list[float]
    incident_restore_ts: list[float]
    incident_restore_seconds: list[float]
    deploy_restore_ts: list[float]
    deploy_restore_seconds: list[float]


def _sorted_deployments(
    deployments: Iterable[DeploymentEvent], service: str, environment: str
) -> tuple[list[DeploymentEvent], list[float]]:
    """By finish, start, then id: a total order, so the input order never matters.

    Plain tuples of floats sort several times faster than a key of datetimes; the index
    only separates exact duplicates, which `dedupe` removes beforehand.
    """
    rows = [
        (d.finished_at.timestamp(), d.started_at.timestamp(), d.external_id, index, d)
        for index, d in enumerate(deployments)
        if d.service == service and d.environment == environment
    ]
    rows.sort()
    return [row[4] for row in rows], [row[0] for row in rows]


def _sorted_incidents(
    incidents: Iterable[IncidentEvent], service: str, environment: str
) -> list[IncidentEvent]:
    rows = [
        (i.opened_at.timestamp(), i.external_id, index, i)
        for index, i in enumerate(incidents)
        if i.service == service and i.environment == environment
    ]
    rows.sort()
    return [row[3] for row in rows]


def _change_starts(commits: Iterable[CommitEvent], service: str) -> dict[str, float]:
    """Sha → when the change started; duplicates keep the earliest, whatever their order."""
    starts: dict[str, float] = {}
    for commit in commits:
        if commit.service != service:
            continue
        started = commit.change_started_at.timestamp()
        known = starts.get(commit.sha)
        if known is None or started < known:
            starts[commit.sha] = started
    return starts


def _lead_times(
    deploys: list[DeploymentEvent], deploy_ts: list[float], starts: dict[str, float]
) -> tuple[list[float], list[float], list[float], list[float]]:
    """Each commit counts once, at the first successful deployment that delivered it."""
    success_ts: list[float] = []
    lead_ts: list[float] = []
    lead_seconds: list[float] = []
    unmatched_ts: list[float] = []
    delivered: set[str] = set()
    for finished, deploy in zip(deploy_ts, deploys, strict=True):
        if deploy.status is not SUCCEEDED:
            continue
        success_ts.append(finished)
        for sha in deploy.commits:
            if sha in delivered:
                continue
            delivered.add(sha)
            started = starts.get(sha)
            if started is None:
                unmatched_ts.append(finished)
                continue
            lead_ts.append(finished)
            # A commit stamped after its own deployment is clock skew, not negative time.
            lead_seconds.append(finished - started if finished > started else 0.0)
    return success_ts, lead_ts, lead_seconds, unmatched_ts


def _linked_flags(
    deploys: list[DeploymentEvent],
    deploy_ts: list[float],
    incidents: list[IncidentEvent],
    link_window: timedelta,
) -> list[int]:
    """1 for a successful deployment an incident is attributed to, else 0.

    An incident naming a deployment (`deployment_id`) is attributed to it alone; any other
    incident to the deployment finished last before it opened, if it opened within the
    link window and before the next deployment of the same service and environment.
    """
    named = {incident.deployment_id for incident in incidents if incident.deployment_id}
    opened = [inc.opened_at.timestamp() for inc in incidents if not inc.deployment_id]
    window = link_window.total_seconds()
    flags: list[int] = []
    last = len(deploys) - 1
    for index, (finished, deploy) in enumerate(zip(deploy_ts, deploys, strict=True)):
        if deploy.status is not SUCCEEDED:
            flags.append(0)
            continue
        if deploy.external_id in named:
            flags.append(1)
            continue
        until = finished + window
        if index < last and deploy_ts[index + 1] < until:
            until = deploy_ts[index + 1]
        position = bisect_left(opened, finished)
        flags.append(int(position < len(opened) and opened[position] < until))
    return flags


def _deploy_recoveries(
    deploys: list[DeploymentEvent], deploy_ts: list[float]
) -> tuple[list[float], list[float]]:
    """A run of failed or rolled back deployments recovers at the next successful one.

    The run is measured once, from its first failure, so three retries of one broken
    change are one recovery, not three.
    """
    recovered_ts: list[float] = []
    seconds: list[float] = []
    failing_since: float | None = None
    for finished, deploy in zip(deploy_ts, deploys, strict=True):
        if deploy.status is SUCCEEDED:
            if failing_since is not None:
                recovered_ts.append(finished)
                seconds.append(finished - failing_since)
                failing_since = None
        elif failing_since is None:
            failing_since = finished
    return recovered_ts, seconds


def _incident_recoveries(incidents: list[IncidentEvent]) -> tuple[list[float], list[float]]:
    pairs = sorted(
        (inc.resolved_at.timestamp(), (inc.resolved_at - inc.opened_at).total_seconds())
        for inc in incidents
        if inc.resolved_at is not None
    )
    return [ts for ts, _ in pairs], [seconds for _, seconds in pairs]


def _prefix(flags: Iterable[int]) -> list[int]:
    return list(accumulate(flags, initial=0))


def prepare(
    deployments: Iterable[DeploymentEvent],
    incidents: Iterable[IncidentEvent],
    commits: Iterable[CommitEvent],
    *,
    service: str,
    environment: str = "prod",
    incident_link_window: timedelta = DEFAULT_INCIDENT_LINK_WINDOW,
) -> Timeline:
    """Sort and join the events of `service` in `environment` once (O(n log n))."""
    if incident_link_window < timedelta(0):
        raise ValueError("incident_link_window: must not be negative")
    deploys, deploy_ts = _sorted_deployments(deployments, service, environment)
    scoped = _sorted_incidents(incidents, service, environment)
    success_ts, lead_ts, lead_seconds, unmatched_ts = _lead_times(
        deploys, deploy_ts, _change_starts(commits, service)
    )
    incident_ts, incident_seconds = _incident_recoveries(scoped)
    deploy_rec_ts, deploy_rec_seconds = _deploy_recoveries(deploys, deploy_ts)
    return Timeline(
        service=service,
        environment=environment,
        deploy_ts=deploy_ts,
        failed_prefix=_prefix(int(d.status is FAILED) for d in deploys),
        rolled_back_prefix=_prefix(int(d.status is ROLLED_BACK) for d in deploys),
        linked_prefix=_prefix(_linked_flags(deploys, deploy_ts, scoped, incident_link_window)),
        success_ts=success_ts,
        lead_ts=lead_ts,
        lead_seconds=lead_seconds,
        unmatched_ts=unmatched_ts,
        incident_restore_ts=incident_ts,
        incident_restore_seconds=incident_seconds,
        deploy_restore_ts=deploy_rec_ts,
        deploy_restore_seconds=deploy_rec_seconds,
    )
