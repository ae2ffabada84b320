"""Four keys on hand-computed scenarios (numbers worked out in the comments)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from code_engine.dora.bands import Band, Target, Targets
from code_engine.dora.events import CommitEvent, DeploymentEvent, DeploymentStatus, IncidentEvent
from code_engine.dora.metrics import compute_four_keys, lower_median, percentile
from code_engine.dora.timeline import prepare

UTC = timezone.utc
T0 = datetime(2024, 6, 3, tzinfo=UTC)  # a Monday
END = T0 + timedelta(days=7)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def sha(name: str) -> str:
    return (name.encode().hex() * 40)[:40]


def deploy(
    ident: str,
    hours: float,
    status: str = "succeeded",
    commits: tuple[str, ...] = (),
    environment: str = "prod",
) -> DeploymentEvent:
    return DeploymentEvent(
        external_id=ident,
        service="api",
        environment=environment,
        status=DeploymentStatus(status),
        started_at=at(hours - 0.5),
        finished_at=at(hours),
        commits=tuple(sha(c) for c in commits),
    )


def commit(name: str, hours: float, first: float | None = None) -> CommitEvent:
    return CommitEvent(
        sha=sha(name),
        service="api",
        authored_at=at(hours),
        committed_at=at(hours),
        first_commit_at=None if first is None else at(first),
    )


def incident(
    ident: str, opened: float, resolved: float | None, deployment_id: str | None = None
) -> IncidentEvent:
    return IncidentEvent(
        external_id=ident,
        service="api",
        environment="prod",
        opened_at=at(opened),
        resolved_at=None if resolved is None else at(resolved),
        deployment_id=deployment_id,
    )


COMMITS = [
    commit("c1", 0),
    commit("c2", 2),
    commit("c3", 10),
    commit("c4", 30, first=20),  # a merge: the change began at 20h
    # the same sha in another service's history must not change api's lead time
    CommitEvent(sha=sha("c1"), service="web", authored_at=at(-500), committed_at=at(0)),
]
DEPLOYS = [
    deploy("d1", 4, commits=("c1", "c2")),  # leads 4h and 2h
    deploy("d2", 12, "rolled_back", commits=("c3",)),  # c3 not delivered by a rollback
    deploy("d3", 14, commits=("c3", "c2")),  # c3: 4h; c2 already delivered by d1
    deploy("d4", 40, commits=("c4",)),  # 40 - 20 = 20h; incident i1 follows it
    deploy("d5", 50, "failed"),
    deploy("d6", 52),  # named by incident i3
    deploy("d7", 100, commits=("zz",)),  # a commit CODE never imported
    deploy("s1", 1, commits=("c1", "c2", "c3", "c4"), environment="staging"),
]
INCIDENTS = [
    incident("i1", 41, 43),  # 1h after d4, before d5: d4 failed; restored in 2h
    incident("i2", -10, 1),  # opened before the window, resolved inside: 11h
    incident("i3", 101, None, deployment_id="d6"),  # still open; attributed to d6 only
]


@pytest.fixture
def keys():
    return compute_four_keys(DEPLOYS, INCIDENTS, COMMITS, service="api", start=T0, end=END)


def test_lead_time_counts_each_commit_at_its_first_successful_deployment(keys) -> None:
    lead = keys.lead_time
    # hours [2, 4, 4, 20]: median 4; p90 at rank 2.7 → 4 + 0.7 × 16 = 15.2
    assert lead.value == 4
    assert lead.details["p90_hours"] == pytest.approx(15.2)
    assert lead.sample_size == 4
    assert lead.details["unmatched_commits"] == 1
    assert (lead.band, lead.passed, lead.unit) == (Band.ELITE, True, "hours")


def test_deployment_frequency_per_week_and_deployment_days(keys) -> None:
    frequency = keys.deployment_frequency
    # d1, d3, d4, d6, d7 succeeded; day slots back from the end: 6, 6, 5, 4, 2
    assert frequency.value == 5
    assert frequency.details["per_day"] == pytest.approx(5 / 7)
    assert frequency.details["deployment_days"] == 4
    assert frequency.details["deployment_days_per_week"] == 4
    assert frequency.details["deployment_days_per_month"] is None
    assert (frequency.band, frequency.passed) == (Band.HIGH, False)


def test_change_failure_rate_counts_rollbacks_failures_and_linked_incidents(keys) -> None:
    cfr = keys.change_failure_rate
    # d2 rolled back, d5 failed, d4 linked by time, d6 named: 4 of 7
    assert cfr.value == pytest.approx(400 / 7)
    assert cfr.details == {
        "deployments": 7,
        "failed": 1,
        "rolled_back": 1,
        "incident_linked": 2,
    }
    assert (cfr.band, cfr.passed, cfr.unit) == (Band.LOW, False, "%")


def test_recovery_time_is_per_failed_deployment(keys) -> None:
    restore = keys.time_to_restore
    # d2 → d3 2h; d5 → d6 2h; d4, followed by i1: opened 41h, resolved 43h, 2h.
    # i2 follows no deployment (no failed deployment of this service); i3 is still open.
    assert restore.value == 2
    assert restore.details == {"median_hours": 2, "incidents": 1, "failed_deployments": 2}
    assert (restore.band, restore.passed) == (Band.HIGH, False)


def test_four_keys_lists_metrics_in_dora_order(keys) -> None:
    assert [m.key for m in keys.metrics] == [
        "deployment_frequency",
        "lead_time",
        "change_failure_rate",
        "time_to_restore",
    ]
    assert (keys.service, keys.environment, keys.start, keys.end) == ("api", "prod", T0, END)


def test_other_environment_is_measured_apart() -> None:
    keys = compute_four_keys(
        DEPLOYS, INCIDENTS, COMMITS, service="api", environment="staging", start=T0, end=END
    )
    assert keys.deployment_frequency.sample_size == 1
    # staging delivered c1..c4 at 1h: c1 took 1h; c2..c4 are stamped later (skew) → 0
    assert keys.lead_time.details["median_hours"] == 0
    assert keys.lead_time.details["p90_hours"] == pytest.approx(0.7)
    assert keys.change_failure_rate.value == 0
    assert keys.time_to_restore.value is None


def test_empty_window_has_no_samples() -> None:
    keys = compute_four_keys([], [], [], service="api", start=T0, end=END)
    assert keys.deployment_frequency.value == 0
    assert keys.deployment_frequency.band is Band.LOW
    assert keys.deployment_frequency.passed is False
    for metric in (keys.lead_time, keys.change_failure_rate, keys.time_to_restore):
        assert (metric.value, metric.band, metric.passed, metric.sample_size) == (
            None,
            None,
            None,
            0,
        )


def test_window_includes_start_and_excludes_end() -> None:
    deploys = [deploy("a", 0), deploy("b", 24 * 7)]
    keys = compute_four_keys(deploys, [], [], service="api", start=T0, end=END)
    assert keys.deployment_frequency.sample_size == 1


def test_duplicate_commits_keep_the_earliest_start() -> None:
    deploys = [deploy("a", 10, commits=("c1",))]
    commits = [commit("c1", 4), commit("c1", 2), commit("c1", 6)]
    keys = compute_four_keys(deploys, [], commits, service="api", start=T0, end=END)
    assert keys.lead_time.value == 8


def test_commit_delivered_before_the_window_is_not_counted_again() -> None:
    deploys = [deploy("old", -30, commits=("c1",)), deploy("new", 5, commits=("c1", "c2"))]
    commits = [commit("c1", -40), commit("c2", 1)]
    keys = compute_four_keys(deploys, [], commits, service="api", start=T0, end=END)
    assert keys.lead_time.sample_size == 1
    assert keys.lead_time.value == 4


def test_incident_links_only_within_window_and_before_next_deploy() -> None:
    deploys = [deploy("a", 0), deploy("b", 30), deploy("c", 40), deploy("d", 100)]
    incidents = [
        incident("late", 25, 26),  # 25h after a: outside the 24h link window
        incident("next", 41, 42),  # after c, so c's, not b's
    ]
    keys = compute_four_keys(deploys, incidents, [], service="api", start=T0, end=END)
    assert keys.change_failure_rate.details["incident_linked"] == 1
    wide = compute_four_keys(
        deploys,
        incidents,
        [],
        service="api",
        start=T0,
        end=END,
        incident_link_window=timedelta(hours=26),
    )
    assert wide.change_failure_rate.details["incident_linked"] == 2


def test_incident_spanning_the_window_end_is_counted_when_resolved() -> None:
    incidents = [incident("open", 160, 170)]  # follows d at 150h; resolved after END
    deploys = [deploy("d", 150)]
    keys = compute_four_keys(deploys, incidents, [], service="api", start=T0, end=END)
    assert keys.time_to_restore.sample_size == 0
    later = compute_four_keys(
        deploys, incidents, [], service="api", start=T0, end=END + timedelta(days=1)
    )
    assert later.time_to_restore.value == 10


def test_each_failed_deployment_of_a_streak_recovers_at_the_next_success() -> None:
    deploys = [deploy("a", 1, "failed"), deploy("b", 2, "rolled_back"), deploy("c", 4)]
    keys = compute_four_keys(deploys, [], [], service="api", start=T0, end=END)
    # a: 4 - 1 = 3h, b: 4 - 2 = 2h → median 2.5
    assert keys.time_to_restore.sample_size == 2
    assert keys.time_to_restore.value == 2.5


def test_an_incident_that_follows_no_deployment_is_no_failed_deployment() -> None:
    deploys = [deploy("a", 1)]
    incidents = [incident("late", 30, 31), incident("named", 40, 42, deployment_id="a")]
    keys = compute_four_keys(deploys, incidents, [], service="api", start=T0, end=END)
    # "late" opened 29h after a (link window 24h): no deployment's; "named" is a's: 2h
    assert keys.time_to_restore.value == 2
    assert keys.change_failure_rate.details["incident_linked"] == 1


def test_offsets_are_converted_before_comparing() -> None:
    # 09:00 in New York (14:00Z) shipped 18:30 in Berlin (16:30Z): 2.5 hours, not 9.5
    authored = datetime.fromisoformat("2024-06-03T09:00:00-05:00")
    shipped = datetime.fromisoformat("2024-06-03T18:30:00+02:00")
    commits = [
        CommitEvent(sha=sha("tz"), service="api", authored_at=authored, committed_at=authored)
    ]
    deploys = [
        DeploymentEvent(
            external_id="tz",
            service="api",
            environment="prod",
            status=DeploymentStatus.SUCCEEDED,
            started_at=shipped - timedelta(minutes=5),
            finished_at=shipped,
            commits=(sha("tz"),),
        )
    ]
    keys = compute_four_keys(deploys, [], commits, service="api", start=T0, end=END)
    assert keys.lead_time.value == 2.5


def test_custom_targets_change_the_verdict(keys) -> None:
    lenient = Targets(change_failure_rate=Target("<=", 60, "%"))
    custom = compute_four_keys(
        DEPLOYS, INCIDENTS, COMMITS, service="api", start=T0, end=END, targets=lenient
    )
    assert custom.change_failure_rate.passed is True
    assert keys.change_failure_rate.passed is False


def test_window_shorter_than_a_week_scales_deployment_days() -> None:
    deploys = [deploy("a", 1), deploy("b", 30)]
    keys = compute_four_keys(deploys, [], [], service="api", start=T0, end=at(48))
    assert keys.deployment_frequency.details["deployment_days_per_week"] == 7
    assert keys.deployment_frequency.band is Band.ELITE
    assert keys.deployment_frequency.value == 7


def test_monthly_deployment_days_decide_between_medium_and_low() -> None:
    start = T0 - timedelta(days=60)
    # the oldest 4 days are not a whole week: that deployment counts in months only
    deploys = [deploy("a", -24 * 50), deploy("b", -24 * 20), deploy("c", -24 * 57)]
    keys = compute_four_keys(deploys, [], [], service="api", start=start, end=T0)
    assert keys.deployment_frequency.details["deployment_days_per_month"] == 1
    assert keys.deployment_frequency.band is Band.MEDIUM


def test_rejects_empty_or_inverted_window() -> None:
    with pytest.raises(ValueError, match="end: must be after start"):
        compute_four_keys([], [], [], service="api", start=END, end=T0)


def test_rejects_negative_link_window() -> None:
    with pytest.raises(ValueError, match="incident_link_window"):
        prepare([], [], [], service="api", incident_link_window=timedelta(hours=-1))


def test_percentile_interpolates_linearly() -> None:
    assert percentile([1.0], 0.9) == 1
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([0.0, 10.0], 0.9) == 9
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_lower_median_is_devlakes() -> None:
    assert lower_median([3.0, 1.0, 2.0, 4.0]) == 2
    assert lower_median([5.0]) == 5
