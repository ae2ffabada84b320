"""Backups: when they run, how long they are kept, where they go, and the RPO/RTO promise."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from code_engine.spec.base import SpecModel, rule_error
from code_engine.spec.cron import CronExpression, parse_cron
from code_engine.spec.duration import PositiveDuration, format_duration


class Retention(SpecModel):
    """How many backups survive pruning, per calendar bucket."""

    keep_daily: int = Field(
        default=7, ge=0, description="Newest backup of each of the last N days."
    )
    keep_weekly: int = Field(
        default=4, ge=0, description="Newest backup of each of the last N weeks."
    )
    keep_monthly: int = Field(
        default=12, ge=0, description="Newest backup of each of the last N months."
    )

    @model_validator(mode="after")
    def _keeps_something(self) -> Retention:
        if not (self.keep_daily or self.keep_weekly or self.keep_monthly):
            raise rule_error("retention keeps no backup at all; set one keep_* above 0")
        return self


class Backup(SpecModel):
    """Scheduled backups of the service's data, and the recovery objectives they serve."""

    schedule: CronExpression = Field(
        default="0 * * * *", description="When backups run: a 5-field cron expression (UTC)."
    )
    retention: Retention = Field(
        default=Retention(), description="Which backups are kept when pruning."
    )
    rpo: PositiveDuration = Field(
        default=timedelta(hours=1),
        description="Recovery point objective: data loss tolerated; the schedule must run "
        "at least this often.",
    )
    rto: PositiveDuration = Field(
        default=timedelta(hours=4),
        description="Recovery time objective: a restore drill must finish within it.",
    )
    store: str = Field(
        description="Where backups go: a directory, or `s3://bucket/prefix`.",
        examples=["/var/backups/code-engine", "s3://backups/code-engine"],
    )

    @field_validator("store")
    @classmethod
    def _check_store(cls, store: str) -> str:
        if not store.strip():
            raise PydanticCustomError("store", "must not be empty")
        if "://" in store:
            url = urlsplit(store)
            if url.scheme not in ("s3", "file"):
                raise PydanticCustomError(
                    "store",
                    "unsupported store {url}: use a directory or s3://bucket/prefix",
                    {"url": repr(store)},
                )
            if url.scheme == "s3" and not url.netloc:
                raise PydanticCustomError("store", "s3 store needs a bucket: s3://bucket/prefix")
        return store

    @model_validator(mode="after")
    def _schedule_meets_rpo(self) -> Backup:
        gap = parse_cron(self.schedule).longest_gap()
        if gap is not None and gap > self.rpo:
            raise rule_error(
                f"schedule leaves up to {format_duration(gap)} between backups, more than "
                f"the rpo of {format_duration(self.rpo)}",
                "schedule",
            )
        return self
