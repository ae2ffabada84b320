from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from code_engine.errors import NotFoundError
from code_engine.spec import (
    AllAtOnceStrategy,
    AnalysisStep,
    Backup,
    BlueGreenStrategy,
    CanaryStrategy,
    KubernetesTarget,
    LocalTarget,
    PauseStep,
    ServiceSpec,
    SetWeightStep,
)

LOCAL = {"kind": "local", "command": "uvicorn app:app --port {port}"}


def spec(**fields: Any) -> ServiceSpec:
    data: dict[str, Any] = {
        "service": "shop",
        "repo": ".",
        "environments": [{"name": "dev", "target": LOCAL}],
    }
    return ServiceSpec.model_validate({**data, **fields})


def only_error(exc: pytest.ExceptionInfo[ValidationError]) -> tuple[Any, str, Any]:
    [error] = exc.value.errors()
    return error["loc"], error["msg"], (error.get("ctx") or {}).get("at")


def test_defaults_follow_the_seed() -> None:
    service = spec(backup={"store": "/var/backups/shop"})
    assert service.slos.p95_latency_ms == 200
    assert service.slos.error_rate_percent == 0.1
    assert service.slos.availability_percent == 99.9
    assert service.quality_gates.min_coverage_percent == 80
    assert service.quality_gates.max_critical_vulnerabilities == 0
    assert service.quality_gates.max_complexity == 10
    assert service.quality_gates.max_duplication_percent == 3
    assert service.pipeline.defaults is True
    assert service.backup is not None
    assert service.backup.rpo == timedelta(hours=1)
    assert service.backup.rto == timedelta(hours=4)
    assert service.rollout == AllAtOnceStrategy(kind="all_at_once")
    target = service.environments[0].target
    assert isinstance(target, LocalTarget)
    assert (target.instances, target.health_path, target.router) == (1, "/healthz", "builtin")


def test_models_are_frozen() -> None:
    with pytest.raises(ValidationError, match="frozen"):
        spec().service = "other"  # type: ignore[misc]


def test_json_dump_round_trips() -> None:
    original = spec(
        rollout={"kind": "canary", "steps": [{"set_weight": 20}, {"pause": {"duration": "90s"}}]},
        backup={"store": "s3://bucket/shop", "rpo": "30m", "schedule": "*/30 * * * *"},
    )
    dumped = original.model_dump(mode="json")
    assert dumped["rollout"]["steps"][1] == {"pause": {"duration": "1m30s"}}
    assert dumped["backup"]["rpo"] == "30m"
    assert ServiceSpec.model_validate(dumped) == original


def test_chain_helpers() -> None:
    service = spec(
        environments=[
            {"name": "dev", "target": LOCAL, "strategy": {"kind": "all_at_once"}},
            {"name": "prod", "target": {"kind": "kubernetes", "namespace": "shop"}},
        ],
        rollout={"kind": "blue_green"},
    )
    assert service.environment_names == ["dev", "prod"]
    assert service.previous_environment("dev") is None
    assert service.previous_environment("prod") == service.environment("dev")
    assert isinstance(service.strategy_for("dev"), AllAtOnceStrategy)
    assert isinstance(service.strategy_for("prod"), BlueGreenStrategy)
    assert isinstance(service.environment("prod").target, KubernetesTarget)
    with pytest.raises(NotFoundError, match=r"no environment 'qa' \(has: dev, prod\)"):
        service.environment("qa")


def test_local_argv_substitutes_port_per_word() -> None:
    target = LocalTarget(kind="local", command="app --bind '127.0.0.1:{port}' --name 'a b'")
    assert target.argv(8001) == ["app", "--bind", "127.0.0.1:8001", "--name", "a b"]


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("uvicorn app:app", "must contain {port}"),
        ("", "must not be empty"),
        ("run '{port}", "cannot split command: No closing quotation"),
    ],
)
def test_local_command_rules(command: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        LocalTarget(kind="local", command=command)


def test_canary_steps_are_told_apart_by_their_key() -> None:
    strategy = CanaryStrategy.model_validate(
        {"kind": "canary", "steps": [{"set_weight": 5}, {"analysis": {}}, {"pause": {}}]}
    )
    assert [type(step) for step in strategy.steps] == [SetWeightStep, AnalysisStep, PauseStep]
    assert strategy.steps[2] == PauseStep.model_validate({"pause": {}})


def test_canary_weights_must_not_decrease() -> None:
    steps = [{"set_weight": 50}, {"pause": {}}, {"set_weight": 20}]
    with pytest.raises(ValidationError) as caught:
        CanaryStrategy.model_validate({"kind": "canary", "steps": steps})
    assert only_error(caught) == (
        ("steps",),
        "weight 20 is lower than the 50 before it; canary weights must not decrease",
        (2, "set_weight"),
    )


def test_canary_weights_may_end_at_100_or_below() -> None:
    for last in (99, 100):
        steps = [{"set_weight": 10}, {"set_weight": last}, {"set_weight": last}]
        CanaryStrategy.model_validate({"kind": "canary", "steps": steps})


def test_canary_analysis_needs_traffic_first() -> None:
    steps = [{"set_weight": 0}, {"analysis": {}}]
    with pytest.raises(ValidationError) as caught:
        CanaryStrategy.model_validate({"kind": "canary", "steps": steps})
    assert only_error(caught)[2] == (1, "analysis")


@pytest.mark.parametrize("limit", ["failure_limit", "inconclusive_limit"])
def test_analysis_limits_below_count(limit: str) -> None:
    steps = [{"set_weight": 10}, {"analysis": {"count": 3, limit: 3}}]
    with pytest.raises(ValidationError) as caught:
        CanaryStrategy.model_validate({"kind": "canary", "steps": steps})
    loc, message, at = only_error(caught)
    assert loc == ("steps", 1, "AnalysisStep", "analysis")
    assert (message, at) == (f"{limit} must be lower than count (3)", (limit,))


def test_environment_names_are_unique() -> None:
    environments = [{"name": "dev", "target": LOCAL}, {"name": "dev", "target": LOCAL}]
    with pytest.raises(ValidationError) as caught:
        spec(environments=environments)
    assert only_error(caught) == (
        ("environments",),
        "environment 'dev' is defined twice",
        (1, "name"),
    )


def test_first_environment_cannot_require_a_previous_one() -> None:
    environments = [{"name": "dev", "target": LOCAL, "protection": {"requires_previous": True}}]
    with pytest.raises(ValidationError) as caught:
        spec(environments=environments)
    assert only_error(caught)[2] == (0, "protection", "requires_previous")


@pytest.mark.parametrize("name", ["Dev", "-dev", "dev-", "d_v", "a" * 64, ""])
def test_names_are_dns_labels(name: str) -> None:
    with pytest.raises(ValidationError, match="is not a DNS label"):
        spec(service=name)


def test_backup_schedule_must_meet_the_rpo() -> None:
    with pytest.raises(ValidationError) as caught:
        Backup.model_validate({"store": "/b", "schedule": "0 2 * * *", "rpo": "1h"})
    assert only_error(caught) == (
        (),
        "schedule leaves up to 1d between backups, more than the rpo of 1h",
        ("schedule",),
    )
    Backup.model_validate({"store": "/b", "schedule": "0 2 * * *", "rpo": "1d"})


@pytest.mark.parametrize(
    ("store", "message"),
    [
        ("", "must not be empty"),
        ("s3://", "needs a bucket"),
        ("gs://bucket", "unsupported store 'gs://bucket'"),
    ],
)
def test_backup_store_is_a_path_or_s3(store: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Backup.model_validate({"store": store})


@pytest.mark.parametrize("store", ["backups", "/var/backups", "s3://b/p", "file:///srv/b"])
def test_backup_store_accepts_paths_and_urls(store: str) -> None:
    assert Backup.model_validate({"store": store}).store == store


def test_retention_must_keep_something() -> None:
    retention = {"keep_daily": 0, "keep_weekly": 0, "keep_monthly": 0}
    with pytest.raises(ValidationError, match="keeps no backup"):
        Backup.model_validate({"store": "/b", "retention": retention})


def test_strict_types_refuse_conversions() -> None:
    with pytest.raises(ValidationError, match="valid integer"):
        LocalTarget.model_validate({**LOCAL, "instances": "2"})
    with pytest.raises(ValidationError, match="valid boolean"):
        spec(environments=[{"name": "dev", "target": LOCAL, "protection": {"approval": "yes"}}])
