"""One service's events in one environment, sorted and joined once.

`build` does the only pass over the events (incident linking, recovery pairing) on plain
columns: sorted finish times, statuses, identities, and the lead times of the commits
each successful deployment delivered first. `prepare` feeds it from event objects (and
finds the first deliveries itself); `dora.query` feeds it straight from database columns,
where each deployment keeps its own lead times (`dora.deliveries`). Afterwards any
window is answered with binary searches over sorted timestamp lists, so the weekly trend
costs no more than the headline figures.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import accumulate, compress, repeat
from operator import is_, is_not, itemgetter, sub

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
    lead_ts: Sequence[float]
    lead_seconds: Sequence[float]
    unmatched_ts: Sequence[float]
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


@dataclass
class DeliveryColumns:
    """The commits successful deployments delivered, as aligned columns sorted by finish.

    Columns rather than rows: the database path fills them from a million rows with
    C-level passes only (`zip`, `map`), and every figure is a whole-column pass too.
    """

    finished: Sequence[float] = ()
    keys: Sequence[Hashable] = ()
    started: Sequence[float | None] = ()

    @classmethod
    def of(cls, deliveries: Iterable[Delivery]) -> DeliveryColumns:
        """From rows in any order; rows with the same finish keep their order."""
        ordered = sorted(deliveries, key=itemgetter(0))
        if not ordered:
            return cls()
        finished, keys, started = zip(*ordered, strict=True)
        return cls(finished, keys, started)


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


@dataclass(frozen=True)
class LeadColumns:
    """The commits counted for lead time, each at the first successful deployment that
    delivered it: that deployment's finish and the lead time (aligned, sorted by finish),
    and the finishes that delivered a commit whose change start is unknown."""

    lead_ts: Sequence[float] = ()
    lead_seconds: Sequence[float] = ()
    unmatched_ts: Sequence[float] = ()


def lead_columns(deliveries: DeliveryColumns) -> LeadColumns:
    """Each commit counts once, at the first successful deployment that delivered it."""
    finished, keys, started = deliveries.finished, deliveries.keys, deliveries.started
    if len(set(keys)) != len(keys):
        first = _first_deliveries(keys)
        finished = list(compress(finished, first))
        started = list(compress(started, first))
    known = list(map(is_not, started, repeat(None)))
    lead_ts = list(compress(finished, known))
    # A commit stamped after its own deployment is clock skew, not negative time.
    lead_seconds = [d if d > 0.0 else 0.0 for d in map(sub, lead_ts, compress(started, known))]
    unmatched_ts = list(compress(finished, map(is_, started, repeat(None))))
    return LeadColumns(lead_ts, lead_seconds, unmatched_ts)


def _first_deliveries(keys: Iterable[Hashable]) -> list[bool]:
    """True where a key shows up for the first time."""
    seen: set[Hashable] = set()
    first = []
    for key in keys:
        first.append(key not in seen)
        seen.add(key)
    return first


def _incident_links(
    deploys: DeployColumns, incidents: Sequence[IncidentColumns], link_window: timedelta
) -> dict[int, list[IncidentColumns]]:
    """The incidents attributed to each deployment (by position), for the failed changes.

    An incident naming a deployment is attributed to it alone; any other incident to the
    deployment finished last before it opened, if it opened within the link window and
    before the next deployment of the same service and environment. The pass runs over
    the incidents, which are few, not over the deployments.
    """
    deploy_ts = deploys.finished
    links: dict[int, list[IncidentColumns]] = {}
    named = {name for _, _, name in incidents if name is not None}
    positions = {}
    if named:
        positions = {
            deployment_id: index
            for index, deployment_id in enumerate(deploys.ids)
            if deployment_id in named
        }
    window = link_window.total_seconds()
    for incident in incidents:
        opened, _, name = incident
        if name is not None:
            index = positions.get(name, -1)
        else:
            # the last deployment finished at or before the opening: the next one is later
            index = bisect_right(deploy_ts, opened) - 1
            if index >= 0 and not opened < deploy_ts[index] + window:
                index = -1
        if index >= 0:
            links.setdefault(index, []).append(incident)
    return links


def _linked_flags(deploys: DeployColumns, links: Mapping[int, object]) -> list[int]:
    """1 for a successful deployment an incident is attributed to, else 0."""
    status = deploys.status
    return [1 if s is SUCCEEDED and i in links else 0 for i, s in enumerate(status)]


def _deploy_recoveries(deploys: DeployColumns) -> tuple[list[float], list[float]]:
    """Each failed or rolled back deployment recovers at the next successful one.

    One sample per failed deployment, from its own finish: three retries of one broken
    change are three failed deployments, recovered 3, 2 and 1 steps later.
    """
    pairs: list[tuple[float, float]] = []
    recovered_at: float | None = None
    for finished, status in zip(reversed(deploys.finished), reversed(deploys.status), strict=True):
        if status is SUCCEEDED:
            recovered_at = finished
        elif recovered_at is not None:
            pairs.append((recovered_at, recovered_at - finished))
    pairs.sort()
    return [ts for ts, _ in pairs], [seconds for _, seconds in pairs]


def _incident_recoveries(
    deploys: DeployColumns, links: Mapping[int, Sequence[IncidentColumns]]
) -> tuple[list[float], list[float]]:
    """A successful deployment that incidents follow (a failed change) recovers when the
    last of them is resolved, from the opening of the first; not while one is open.

    Incidents of failed or rolled back deployments are not counted again: those recover
    at the next successful deployment. Incidents attributed to no deployment are no
    failed deployment's, so they are not counted at all.
    """
    pairs = []
    for index, linked in links.items():
        if deploys.status[index] is not SUCCEEDED:
            continue
        resolved = [r for _, r, _ in linked]
        if any(r is None for r in resolved):
            continue
        last = max(r for r in resolved if r is not None)
        pairs.append((last, last - min(opened for opened, _, _ in linked)))
    pairs.sort()
    return [ts for ts, _ in pairs], [seconds for _, seconds in pairs]


def _prefix(flags: Iterable[int]) -> list[int]:
    return list(accumulate(flags, initial=0))


def _count_of(status: Sequence[DeploymentStatus], kind: DeploymentStatus) -> list[int]:
    """Running count of deployments with `kind` (a prefix list)."""
    return _prefix(map(is_, status, repeat(kind)))


def build(
    deploys: DeployColumns,
    incidents: Sequence[IncidentColumns],
    leads: LeadColumns,
    *,
    service: str,
    environment: str = "prod",
    incident_link_window: timedelta = DEFAULT_INCIDENT_LINK_WINDOW,
) -> Timeline:
    """Join sorted deployment columns, incidents and the commits counted for lead time."""
    if incident_link_window < timedelta(0):
        raise ValueError("incident_link_window: must not be negative")
    success_ts = list(compress(deploys.finished, map(is_, deploys.status, repeat(SUCCEEDED))))
    links = _incident_links(deploys, incidents, incident_link_window)
    incident_ts, incident_seconds = _incident_recoveries(deploys, links)
    deploy_rec_ts, deploy_rec_seconds = _deploy_recoveries(deploys)
    return Timeline(
        service=service,
        environment=environment,
        deploy_ts=deploys.finished,
        failed_prefix=_count_of(deploys.status, FAILED),
        rolled_back_prefix=_count_of(deploys.status, ROLLED_BACK),
        linked_prefix=_prefix(_linked_flags(deploys, links)),
        success_ts=success_ts,
        lead_ts=leads.lead_ts,
        lead_seconds=leads.lead_seconds,
        unmatched_ts=leads.unmatched_ts,
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
        lead_columns(DeliveryColumns.of(_deliveries(deployments, service, environment, starts))),
        service=service,
        environment=environment,
        incident_link_window=incident_link_window,
    )
