"""Properties of the four keys over generated event histories."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from hypothesis import assume, given
from hypothesis import strategies as st

from code_engine.dora.dedupe import dedupe
from code_engine.dora.events import CommitEvent, DeploymentEvent, DeploymentStatus, IncidentEvent
from code_engine.dora.metrics import compute_four_keys
from code_engine.dora.timeline import DEFAULT_INCIDENT_LINK_WINDOW

T0 = datetime(2024, 6, 3, tzinfo=timezone.utc)
START, END = T0, T0 + timedelta(days=14)
SHAS = [f"{n:040x}" for n in range(12)]
OFFSETS = [timezone.utc, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5))]

minutes = st.integers(min_value=-3 * 24 * 60, max_value=16 * 24 * 60)
zones = st.sampled_from(OFFSETS)


def at(minute: int, zone: timezone = timezone.utc) -> datetime:
    return (T0 + timedelta(minutes=minute)).astimezone(zone)


@st.composite
def deployments(draw: st.DrawFn) -> list[DeploymentEvent]:
    count = draw(st.integers(min_value=0, max_value=25))
    result = []
    for index in range(count):
        finished = draw(minutes)
        zone = draw(zones)
        result.append(
            DeploymentEvent(
                external_id=f"d{index}",
                service="api",
                environment=draw(st.sampled_from(["prod", "prod", "prod", "staging"])),
                status=draw(st.sampled_from(list(DeploymentStatus))),
                started_at=at(finished - draw(st.integers(0, 90)), zone),
                finished_at=at(finished, zone),
                commits=tuple(draw(st.lists(st.sampled_from(SHAS), max_size=4))),
            )
        )
    return result


@st.composite
def incidents(draw: st.DrawFn) -> list[IncidentEvent]:
    count = draw(st.integers(min_value=0, max_value=10))
    result = []
    for index in range(count):
        opened = draw(minutes)
        duration = draw(st.one_of(st.none(), st.integers(0, 3000)))
        result.append(
            IncidentEvent(
                external_id=f"i{index}",
                service="api",
                environment="prod",
                opened_at=at(opened, draw(zones)),
                resolved_at=None if duration is None else at(opened + duration),
                deployment_id=draw(st.one_of(st.none(), st.sampled_from(["d0", "d1", "zz"]))),
            )
        )
    return result


@st.composite
def commits(draw: st.DrawFn) -> list[CommitEvent]:
    result = []
    for sha in SHAS[:-2]:  # two shas are never imported: unmatched commits
        authored = draw(st.integers(min_value=-10 * 24 * 60, max_value=14 * 24 * 60))
        first = draw(st.one_of(st.none(), st.integers(authored - 3000, authored)))
        result.append(
            CommitEvent(
                sha=sha,
                service="api",
                authored_at=at(authored, draw(zones)),
                committed_at=at(authored),
                first_commit_at=None if first is None else at(first),
            )
        )
    return result


def keys(deploys, incs, changes):  # type: ignore[no-untyped-def]
    return compute_four_keys(deploys, incs, changes, service="api", start=START, end=END)


def older_version(event: DeploymentEvent | IncidentEvent) -> DeploymentEvent | IncidentEvent:
    """A version the latest-wins rule must discard."""
    if isinstance(event, DeploymentEvent):
        earlier = event.finished_at - timedelta(minutes=1)
        return replace(event, started_at=min(event.started_at, earlier), finished_at=earlier)
    if event.resolved_at is not None:
        return replace(event, resolved_at=None)
    return event


@given(deployments(), incidents(), commits(), minutes, st.randoms(use_true_random=False))
def test_a_successful_deploy_no_incident_follows_never_raises_cfr(
    deploys: list[DeploymentEvent],
    incs: list[IncidentEvent],
    changes: list[CommitEvent],
    minute: int,
    rnd: random.Random,
) -> None:
    # A deployment an incident follows within the link window is itself a failed change,
    # so the property holds for the deployments the definition counts as successful.
    added_at = at(minute)
    assume(
        not any(
            added_at <= inc.opened_at < added_at + DEFAULT_INCIDENT_LINK_WINDOW
            and inc.deployment_id is None
            for inc in incs
        )
    )
    before = keys(deploys, incs, changes).change_failure_rate.value
    added = DeploymentEvent("new", "api", "prod", DeploymentStatus.SUCCEEDED, added_at, added_at)
    after = keys([*deploys, added], incs, changes).change_failure_rate.value
    if before is not None and after is not None:
        assert after <= before + 1e-9


@given(deployments(), incidents(), commits(), st.randoms(use_true_random=False))
def test_metrics_ignore_ingestion_order(
    deploys: list[DeploymentEvent],
    incs: list[IncidentEvent],
    changes: list[CommitEvent],
    rnd: random.Random,
) -> None:
    expected = keys(deploys, incs, changes)
    rnd.shuffle(deploys)
    rnd.shuffle(incs)
    rnd.shuffle(changes)
    assert keys(deploys, incs, changes) == expected


@given(deployments(), incidents(), commits(), st.randoms(use_true_random=False))
def test_metrics_ignore_duplicates_and_stale_versions_after_dedupe(
    deploys: list[DeploymentEvent],
    incs: list[IncidentEvent],
    changes: list[CommitEvent],
    rnd: random.Random,
) -> None:
    expected = keys(deploys, incs, changes)
    noisy_deploys = (
        deploys + [older_version(d) for d in deploys] + rnd.sample(deploys, len(deploys) // 2)
    )
    noisy_incs = incs + [older_version(i) for i in incs] + incs
    noisy_changes = changes + [
        replace(c, first_commit_at=None) for c in changes if c.first_commit_at
    ]
    for events in (noisy_deploys, noisy_incs, noisy_changes):
        rnd.shuffle(events)
    assert keys(dedupe(noisy_deploys), dedupe(noisy_incs), dedupe(noisy_changes)) == expected


@given(deployments(), incidents(), commits())
def test_values_stay_in_range(
    deploys: list[DeploymentEvent], incs: list[IncidentEvent], changes: list[CommitEvent]
) -> None:
    result = keys(deploys, incs, changes)
    cfr = result.change_failure_rate.value
    assert cfr is None or 0 <= cfr <= 100
    for metric in (result.lead_time, result.time_to_restore):
        assert metric.value is None or metric.value >= 0
    lead = result.lead_time.details
    if lead["median_hours"] is not None:
        assert lead["p90_hours"] is not None and lead["p90_hours"] >= lead["median_hours"]
    frequency = result.deployment_frequency.details
    assert 0 <= (frequency["deployment_days_per_week"] or 0) <= 7
