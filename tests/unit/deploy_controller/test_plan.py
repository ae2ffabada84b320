"""From code.yaml to the rollout: strategies, SLO-based analysis, launches and routers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from code_engine.deploy import plan
from code_engine.deploy.rollout import (
    AllAtOnce,
    Analysis,
    AnalysisSpec,
    BlueGreen,
    Canary,
    Pause,
    SetWeight,
    plan_of,
)
from code_engine.deploy.router import ProxyConfig
from code_engine.errors import ConfigError
from code_engine.spec import ServiceSpec, load_spec_text

SPEC = """\
service: shop
repo: .
environments:
  - name: dev
    target: {kind: local, command: "run --port {port}", env: {A: "1"}}
  - name: staging
    target: {kind: local, command: "run --port {port}", instances: 2, port: 9000}
    strategy:
      kind: canary
      steps:
        - set_weight: 20
        - pause: {duration: 30s}
        - analysis: {interval: 10s, count: 3, min_requests: 50, failure_limit: 1}
        - pause: {}
  - name: prod
    target: {kind: local, command: "run --port {port}", router: haproxy}
    strategy: {kind: blue_green, auto_promote: false, analysis: {count: 2}}
  - name: cloud
    target: {kind: kubernetes, namespace: shop}
slos: {p95_latency_ms: 250, error_rate_percent: 0.5}
"""


@pytest.fixture
def spec() -> ServiceSpec:
    return load_spec_text(SPEC)


def test_canary_steps_and_analysis_judged_against_the_slos(spec: ServiceSpec) -> None:
    rollout = plan.rollout_spec(spec, "staging", first=False)
    assert rollout.instances == 2
    analysis = AnalysisSpec(
        interval=timedelta(seconds=10),
        count=3,
        failure_limit=1,
        min_requests=50,
        max_error_rate=0.005,
        max_p95_ms=250,
        fail_fast=True,
        # the tail objectives default to five times the p95 one
        max_p99_ms=1250,
        slow_ms=1250,
        max_slow_rate=0.005,
        inconclusive_timeout=timedelta(minutes=10),
    )
    assert rollout.strategy == Canary(
        (SetWeight(20), Pause(timedelta(seconds=30)), Analysis(analysis), Pause(None))
    )


def test_a_first_deployment_goes_straight_to_100_percent(spec: ServiceSpec) -> None:
    assert plan.rollout_spec(spec, "staging", first=True).strategy == AllAtOnce()
    assert plan.rollout_spec(spec, "dev", first=False).strategy == AllAtOnce()


def test_blue_green_previews_then_waits_for_a_person(spec: ServiceSpec) -> None:
    strategy = plan.rollout_spec(spec, "prod", first=False).strategy
    assert isinstance(strategy, BlueGreen)
    assert strategy.auto_promote is False
    assert strategy.preview_analysis is not None and strategy.preview_analysis.count == 2


def test_a_timed_blue_green_preview_is_a_pause_in_front() -> None:
    text = SPEC.replace("auto_promote: false, analysis: {count: 2}", "preview_duration: 1m")
    strategy = plan.rollout_spec(load_spec_text(text), "prod", first=False).strategy
    assert strategy == BlueGreen(None, True, timedelta(minutes=1))
    assert plan_of(strategy) == (Pause(timedelta(minutes=1)),)


def test_launches_and_routers(spec: ServiceSpec) -> None:
    launch = plan.launch_of(spec, "dev", "1.0", "abc", "/src/shop")
    assert launch == plan.Launch("1.0", "abc", "/src/shop", "run --port {port}", env={"A": "1"})
    assert plan.Launch.from_dict(launch.to_dict()) == launch
    assert plan.router_plan(spec, "staging") == plan.RouterPlan("builtin", 9000, 0.0)
    assert plan.router_plan(spec, "prod") == plan.RouterPlan("haproxy", None, 30.0)
    assert plan.RouterPlan.from_dict(plan.RouterPlan("haproxy", 1).to_dict()).port == 1
    old = {"kind": "builtin", "port": 9000, "scale_down_delay": 0.0}  # stored before previews
    assert plan.RouterPlan.from_dict(old).preview_port is None
    assert plan.RouterPlan.from_dict(old).limits == ProxyConfig()


def test_tail_objectives_timeouts_and_router_limits_come_from_code_yaml() -> None:
    text = (
        SPEC.replace(
            "slos: {p95_latency_ms: 250, error_rate_percent: 0.5}",
            "slos: {p95_latency_ms: 250, p99_latency_ms: 400, slow_request_ms: 800, "
            "slow_request_percent: 2}",
        )
        .replace(
            'command: "run --port {port}", instances: 2, port: 9000}',
            'command: "run --port {port}", instances: 2, port: 9000, ready_timeout: 2m, '
            "router_limits: {response_timeout: 5s, client_header_timeout: 3s, max_headers: 20}}",
        )
        .replace("failure_limit: 1}", "failure_limit: 1, inconclusive_timeout: 90s}")
    )
    spec = load_spec_text(text)
    [*_, analysis_step, _] = plan.rollout_spec(spec, "staging", first=False).strategy.steps  # type: ignore[union-attr]
    assert isinstance(analysis_step, Analysis)
    analysis = analysis_step.spec
    assert (analysis.max_p99_ms, analysis.slow_ms, analysis.max_slow_rate) == (400, 800, 0.02)
    assert analysis.inconclusive_timeout == timedelta(seconds=90)
    assert plan.launch_of(spec, "staging", "1", "abc", "/r").ready_timeout == 120.0
    limits = plan.router_plan(spec, "staging").limits
    assert (limits.response_timeout, limits.client_header_timeout) == (5.0, 3.0)
    assert limits.max_headers == 20 and limits.read_timeout == 60.0
    restored = plan.RouterPlan.from_dict(plan.router_plan(spec, "staging").to_dict())
    assert restored == plan.router_plan(spec, "staging")


def test_other_targets_are_refused_clearly(spec: ServiceSpec) -> None:
    with pytest.raises(ConfigError, match="targets kubernetes; this controller runs the local"):
        plan.rollout_spec(spec, "cloud", first=False)
