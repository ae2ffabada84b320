"""The service's objectives: SLOs in production and quality gates in the pipeline."""

from __future__ import annotations

from pydantic import Field

from code_engine.spec.base import SpecModel


class Slos(SpecModel):
    """Service level objectives; canary analysis fails a release that breaks them."""

    p95_latency_ms: float = Field(
        default=200, gt=0, description="95th percentile response time must stay below this."
    )
    error_rate_percent: float = Field(
        default=0.1,
        ge=0,
        le=100,
        description="Share of failed requests must stay below this: 5xx answers, the "
        "router's timeouts (504) and connection errors (502), and requests still in flight "
        "for longer than `slow_request_ms`.",
    )
    p99_latency_ms: float | None = Field(
        default=None,
        gt=0,
        description="99th percentile response time must stay below this; unset is five "
        "times `p95_latency_ms`.",
    )
    slow_request_ms: float | None = Field(
        default=None,
        gt=0,
        description="A request slower than this, or still unanswered after it, is slow; "
        "unset is five times `p95_latency_ms`.",
    )
    slow_request_percent: float = Field(
        default=0.5,
        ge=0,
        le=100,
        description="Share of slow requests must stay below this. The defaults fail a "
        "release that answers 1 % of requests ten times slower than `p95_latency_ms`, or "
        "leaves them hanging.",
    )

    @property
    def p99_ms(self) -> float:
        """The p99 objective, explicit or derived from the p95 one."""
        return self.p99_latency_ms or 5 * self.p95_latency_ms

    @property
    def slow_ms(self) -> float:
        """The slow-request threshold, explicit or derived from the p95 objective."""
        return self.slow_request_ms or 5 * self.p95_latency_ms

    availability_percent: float = Field(
        default=99.9, ge=0, le=100, description="Share of successful health probes to keep."
    )


class QualityGates(SpecModel):
    """Thresholds the pipeline enforces before a build becomes a release."""

    min_coverage_percent: float = Field(
        default=80, ge=0, le=100, description="Line coverage of the test suite, at least."
    )
    max_critical_vulnerabilities: int = Field(
        default=0, ge=0, description="Critical findings of the security scans, at most."
    )
    max_complexity: int | None = Field(
        default=10, ge=1, description="Cyclomatic complexity of any function, at most."
    )
    max_high_vulnerabilities: int | None = Field(
        default=None, ge=0, description="High-severity findings of the dependency scan, at most."
    )
    max_medium_vulnerabilities: int | None = Field(
        default=None, ge=0, description="Medium-severity findings of the dependency scan, at most."
    )
    max_low_vulnerabilities: int | None = Field(
        default=None, ge=0, description="Low-severity findings of the dependency scan, at most."
    )
    max_unrated_vulnerabilities: int | None = Field(
        default=None, ge=0, description="Findings of the dependency scan without a severity."
    )
    max_duplication_percent: float | None = Field(
        default=3,
        ge=0,
        le=100,
        description="Share of duplicated code lines (runs of at least 50 equal tokens), at most.",
    )
    max_high_sast_findings: int | None = Field(
        default=0, ge=0, description="High-severity findings of static analysis (SAST), at most."
    )
    max_medium_sast_findings: int | None = Field(
        default=None, ge=0, description="Medium-severity findings of static analysis, at most."
    )
    max_low_sast_findings: int | None = Field(
        default=None, ge=0, description="Low-severity findings of static analysis, at most."
    )
    max_credential_findings: int | None = Field(
        default=0, ge=0, description="Secrets found by the scan and not in its baseline, at most."
    )
    all_tests_pass: bool = Field(
        default=True, description="Every test of the JUnit report passed (none failed or erred)."
    )
