"""From `code.yaml` to what the controller runs: the rollout spec and each version's launch."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from code_engine.deploy import rollout
from code_engine.deploy.router.config import ProxyConfig
from code_engine.errors import ConfigError
from code_engine.spec import Analysis as SpecAnalysis
from code_engine.spec import (
    AnalysisStep,
    BlueGreenStrategy,
    CanaryStrategy,
    LocalTarget,
    PauseStep,
    ServiceSpec,
    SetWeightStep,
    Slos,
)
from code_engine.spec import Strategy as SpecStrategy

BUILD_ALLOWANCE = timedelta(minutes=10)  # building the release's virtualenv, once
INSTANCE_READY_SECONDS = 60.0
STOP_GRACE_SECONDS = 10.0


def analysis_spec(analysis: SpecAnalysis, slos: Slos) -> rollout.AnalysisSpec:
    """The spec's analysis judged against the service's SLOs; always fail-fast."""
    return rollout.AnalysisSpec(
        interval=analysis.interval,
        count=analysis.count,
        failure_limit=analysis.failure_limit,
        inconclusive_limit=analysis.inconclusive_limit,
        min_requests=analysis.min_requests,
        max_error_rate=slos.error_rate_percent / 100.0,
        max_p95_ms=slos.p95_latency_ms,
        fail_fast=True,
        max_p99_ms=slos.p99_ms,
        slow_ms=slos.slow_ms,
        max_slow_rate=slos.slow_request_percent / 100.0,
        inconclusive_timeout=analysis.inconclusive_timeout,
    )


def rollout_strategy(strategy: SpecStrategy, slos: Slos) -> rollout.Strategy:
    """The rollout state machine's strategy for a spec strategy."""
    if isinstance(strategy, CanaryStrategy):
        steps: list[rollout.Step] = []
        for step in strategy.steps:
            if isinstance(step, SetWeightStep):
                steps.append(rollout.SetWeight(step.set_weight))
            elif isinstance(step, PauseStep):
                steps.append(rollout.Pause(step.pause.duration))
            elif isinstance(step, AnalysisStep):
                steps.append(rollout.Analysis(analysis_spec(step.analysis, slos)))
        return rollout.Canary(tuple(steps))
    if isinstance(strategy, BlueGreenStrategy):
        preview = None if strategy.analysis is None else analysis_spec(strategy.analysis, slos)
        return rollout.BlueGreen(preview, strategy.auto_promote, strategy.preview_duration)
    return rollout.AllAtOnce()


def local_target(spec: ServiceSpec, environment: str) -> LocalTarget:
    """The environment's local target; other targets are refused with a clear message."""
    target = spec.environment(environment).target
    if not isinstance(target, LocalTarget):
        raise ConfigError(
            f"environment {environment!r} targets {target.kind}; this controller runs the "
            "local target only"
        )
    return target


def rollout_spec(spec: ServiceSpec, environment: str, *, first: bool) -> rollout.RolloutSpec:
    """How to roll out in `environment`; a first deployment has no traffic to shift from,
    so it goes to 100% as soon as it is ready (as Argo Rollouts does)."""
    target = local_target(spec, environment)
    strategy = spec.strategy_for(environment)
    chosen: rollout.Strategy = (
        rollout.AllAtOnce() if first else rollout_strategy(strategy, spec.slos)
    )
    # a backstop: each instance is failed sooner, `target.ready_timeout` after its start
    deadline = BUILD_ALLOWANCE + 2 * target.ready_timeout
    return rollout.RolloutSpec(chosen, instances=target.instances, ready_timeout=deadline)


@dataclass(frozen=True)
class Launch:
    """How to run one version in one environment: the release and the target's command."""

    version: str
    sha: str
    repo: str
    command: str
    instances: int = 1
    health_path: str = "/healthz"
    env: Mapping[str, str] = field(default_factory=dict)
    ready_timeout: float = INSTANCE_READY_SECONDS
    stop_grace: float = STOP_GRACE_SECONDS
    # variable -> secret reference (never a value), resolved when each instance starts
    secrets: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["env"] = dict(self.env)
        data["secrets"] = dict(self.secrets)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Launch:
        env, secrets = dict(data.get("env", {})), dict(data.get("secrets", {}))
        return cls(**{**data, "env": env, "secrets": secrets})


def launch_of(spec: ServiceSpec, environment: str, version: str, sha: str, repo: str) -> Launch:
    """The launch of release `version` (at `sha` of `repo`) in `environment`."""
    target = local_target(spec, environment)
    return Launch(
        version=version,
        sha=sha,
        repo=repo,
        command=target.command,
        instances=target.instances,
        health_path=target.health_path,
        env=dict(target.env),
        ready_timeout=target.ready_timeout.total_seconds(),
        secrets=dict(spec.environment(environment).secrets),
    )


@dataclass(frozen=True)
class RouterPlan:
    """The router in front of an environment: its kind, the port it listens on and the
    port of its preview listener (None: picked once per environment and kept)."""

    kind: str = "builtin"
    port: int | None = None
    scale_down_delay: float = 0.0
    preview_port: int | None = None
    limits: ProxyConfig = field(default_factory=ProxyConfig)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RouterPlan:
        return cls(**{**data, "limits": ProxyConfig.from_dict(data.get("limits"))})


def router_plan(spec: ServiceSpec, environment: str) -> RouterPlan:
    target = local_target(spec, environment)
    strategy = spec.strategy_for(environment)
    delay = strategy.scale_down_delay if isinstance(strategy, BlueGreenStrategy) else timedelta(0)
    limits = target.router_limits
    config = ProxyConfig(
        connect_timeout=limits.connect_timeout.total_seconds(),
        response_timeout=limits.response_timeout.total_seconds(),
        read_timeout=limits.read_timeout.total_seconds(),
        client_header_timeout=limits.client_header_timeout.total_seconds(),
        client_idle_timeout=limits.client_idle_timeout.total_seconds(),
        max_header_bytes=limits.max_header_bytes,
        max_headers=limits.max_headers,
    )
    return RouterPlan(
        target.router, target.port, delay.total_seconds(), target.preview_port, config
    )
