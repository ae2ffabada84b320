"""One service's events in one environment, sorted and joined once.

`build` does the only pass over the events (commit delivery, incident linking, recovery
pairing) on plain columns: sorted finish times, statuses, identities and commit lists.
`prepare` feeds it from event objects; `dora.query` feeds it straight from database
columns. Afterwards any window is answered with binary searches over sorted timestamp
lists, so the weekly trend costs no more than the headline figures.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import accumulate
from operator import itemgetter

from code_engine.dora.events import CommitEvent, DeploymentEvent, DeploymentStatus, IncidentEvent

SUCCEEDED = DeploymentStatus.SUCCEEDED
FAILED = DeploymentStatus.FAILED
ROLLED_BACK = DeploymentStatus.ROLLED_BACK
DEFAULT_INCIDENT_LINK_WINDOW = timedelta(hours=24)

IncidentColumns = tuple[float, float | None, Hashable | None]
"""An incident as (opened, resolved or None, identity of the deployment it names or None)."""


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


@dataclass
class DeployColumns:
    """Deployments of one service and environment, sorted by finish then a tie-breaker.

    `ids` identify deployments for incidents that name one.
    """

    finished: list[float] = field(default_factory=list)
    status: list[DeploymentStatus] = field(default_factory=list)
    ids: list[Hashable] = field(default_factory=list)


Delivery = tuple[float, Hashable, float | None]
"""A commit a successful deployment delivered: (its finish, the commit's identity, when
the change started or None when the commit is unknown)."""


def _deploy_columns(
    deployments: Iterable[DeploymentEvent], service: str, environment: str
) -> DeployColumns:
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
    return DeployColumns(
        finished=[row[0] for row in rows],
        status=[row[4].status for row in rows],
        ids=[row[2] for row in rows],
    )


def _deliveries(
    deployments: Iterable[DeploymentEvent], service: str, environment: str,
    starts: Mapping[str, float],
) -> list[Delivery]:  # fmt: skip
    return [
        (d.finished_at.timestamp(), sha, starts.get(sha))
        for d in deployments
        if d.service == service and d.environment == environment and d.status is SUCCEEDED
        for sha in d.commits
    ]


def _incident_columns(
    incidents: Iterable[IncidentEvent], service: str, environment: str
) -> list[IncidentColumns]:
    return [
        (
            i.opened_at.timestamp(),
            None if i.resolved_at is None else i.resolved_at.timestamp(),
            i.deployment_id or None,
        )
        for i in incidents
        if i.service == service and i.environment == environment
    ]


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
    deliveries: Iterable[Delivery], delivered_before: Iterable[Hashable]
) -> tuple[list[float], list[float], list[float]]:
    """Each commit counts once, at the first successful deployment that delivered it."""
    ordered = sorted(deliveries, key=itemgetter(0))  # stable: ties keep their order
    keys = [row[1] for row in ordered]
    if not delivered_before and len(set(keys)) == len(keys):
        # The common case, each commit delivered once: whole-list passes, no set per row.
        return (
            [f for f, _, s in ordered if s is not None],
            [f - s if f > s else 0.0 for f, _, s in ordered if s is not None],
            [f for f, _, s in ordered if s is None],
        )
    lead_ts: list[float] = []
    lead_seconds: list[float] = []
    unmatched_ts: list[float] = []
    delivered: set[Hashable] = set(delivered_before)
    for finished, key, started in ordered:
        if key in delivered:
            continue
        delivered.add(key)
        if started is None:
            unmatched_ts.append(finished)
            continue
        lead_ts.append(finished)
        # A commit stamped after its own deployment is clock skew, not negative time.
        lead_seconds.append(finished - started if finished > started else 0.0)
    return lead_ts, lead_seconds, unmatched_ts


def _linked_flags(
    deploys: DeployColumns, incidents: Sequence[IncidentColumns], link_window: timedelta
) -> list[int]:
    """1 for a successful deployment an incident is attributed to, else 0.

    An incident naming a deployment is attributed to it alone; any other incident to the
    deployment finished last before it opened, if it opened within the link window and
    before the next deployment of the same service and environment.
    """
    named = {named for _, _, named in incidents if named is not None}
    opened = sorted(opened for opened, _, named in incidents if named is None)
    window = link_window.total_seconds()
    deploy_ts = deploys.finished
    flags: list[int] = []
    last = len(deploy_ts) - 1
    for index, (finished, status, ident) in enumerate(
        zip(deploy_ts, deploys.status, deploys.ids, strict=True)
    ):
        if status is not SUCCEEDED:
            flags.append(0)
            continue
        if ident in named:
            flags.append(1)
            continue
        until = finished + window
        if index < last and deploy_ts[index + 1] < until:
            until = deploy_ts[index + 1]
        position = bisect_left(opened, finished)
        flags.append(int(position < len(opened) and opened[position] < until))
    return flags


def _deploy_recoveries(deploys: DeployColumns) -> tuple[list[float], list[float]]:
    """A run of failed or rolled back deployments recovers at the next successful one.

    The run is measured once, from its first failure, so three retries of one broken
    change are one recovery, not three.
    """
    recovered_ts: list[float] = []
    seconds: list[float] = []
    failing_since: float | None = None
    for finished, status in zip(deploys.finished, deploys.status, strict=True):
        if status is SUCCEEDED:
            if failing_since is not None:
                recovered_ts.append(finished)
                seconds.append(finished - failing_since)
                failing_since = None
        elif failing_since is None:
            failing_since = finished
    return recovered_ts, seconds


def _incident_recoveries(
    incidents: Sequence[IncidentColumns],
) -> tuple[list[float], list[float]]:
    pairs = sorted(
        (resolved, resolved - opened) for opened, resolved, _ in incidents if resolved is not None
    )
    return [ts for ts, _ in pairs], [seconds for _, seconds in pairs]


def _prefix(flags: Iterable[int]) -> list[int]:
    return list(accumulate(flags, initial=0))


def build(
    deploys: DeployColumns,
    incidents: Sequence[IncidentColumns],
    deliveries: Iterable[Delivery],
    *,
    service: str,
    environment: str = "prod",
    incident_link_window: timedelta = DEFAULT_INCIDENT_LINK_WINDOW,
    delivered_before: Iterable[Hashable] = (),
) -> Timeline:
    """Join sorted deployment columns, incidents and the commits successful ones delivered.

    `delivered_before` are commits a successful deployment older than `deploys` delivered:
    they are not counted again (the database path loads a bounded history).
    """
    if incident_link_window < timedelta(0):
        raise ValueError("incident_link_window: must not be negative")
    lead_ts, lead_seconds, unmatched_ts = _lead_times(deliveries, delivered_before)
    success_ts = [
        f for f, s in zip(deploys.finished, deploys.status, strict=True) if s is SUCCEEDED
    ]
    incident_ts, incident_seconds = _incident_recoveries(incidents)
    deploy_rec_ts, deploy_rec_seconds = _deploy_recoveries(deploys)
    return Timeline(
        service=service,
        environment=environment,
        deploy_ts=deploys.finished,
        failed_prefix=_prefix(int(s is FAILED) for s in deploys.status),
        rolled_back_prefix=_prefix(int(s is ROLLED_BACK) for s in deploys.status),
        linked_prefix=_prefix(_linked_flags(deploys, incidents, incident_link_window)),
        success_ts=success_ts,
        lead_ts=lead_ts,
        lead_seconds=lead_seconds,
        unmatched_ts=unmatched_ts,
        incident_restore_ts=incident_ts,
        incident_restore_seconds=incident_seconds,
        deploy_restore_ts=deploy_rec_ts,
        deploy_restore_seconds=deploy_rec_seconds,
    )


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
    deployments = list(deployments)
    starts = _change_starts(commits, service)
    return build(
        _deploy_columns(deployments, service, environment),
        _incident_columns(incidents, service, environment),
        _deliveries(deployments, service, environment, starts),
        service=service,
        environment=environment,
        incident_link_window=incident_link_window,
    )
