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
        default=0.1, ge=0, le=100, description="Share of 5xx responses must stay below this."
    )
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
        default=None, ge=1, description="Cyclomatic complexity of any function, at most."
    )
