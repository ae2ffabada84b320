"""Backups: when they run, how long they are kept, where they go, and the RPO/RTO promise."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from code_engine.spec.base import NonBlank, SpecModel, rule_error
from code_engine.spec.cron import CronExpression, parse_cron
from code_engine.spec.duration import PositiveDuration, format_duration

SOURCE_NAME = r"^[a-z0-9][a-z0-9_.-]{0,62}$"


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
    max_age: PositiveDuration | None = Field(
        default=None, description="Snapshots older than this are pruned whatever the buckets say."
    )

    @model_validator(mode="after")
    def _keeps_something(self) -> Retention:
        if not (self.keep_daily or self.keep_weekly or self.keep_monthly):
            raise rule_error("retention keeps no backup at all; set one keep_* above 0")
        return self


class BackupSource(SpecModel):
    """One data source of the service: a PostgreSQL database, a SQLite file or a directory."""

    name: str = Field(pattern=SOURCE_NAME, description="Unique name of the source.")
    kind: Literal["postgres", "sqlite", "directory"] = Field(description="What the source is.")
    url_env: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="postgres: the environment variable holding the database URL.",
    )
    path: NonBlank | None = Field(default=None, description="sqlite/directory: where it is.")
    smoke: list[NonBlank] = Field(
        default_factory=list,
        description="Drill checks: SQL queries (databases) or glob patterns (directories).",
    )
    pitr: bool = Field(
        default=False,
        description="postgres: point-in-time recovery through pgBackRest (CODE beside the server).",
    )
    pg_data: NonBlank | None = Field(
        default=None, description="postgres with pitr: the cluster's data directory."
    )

    @model_validator(mode="after")
    def _location_fits_kind(self) -> BackupSource:
        if self.kind == "postgres" and not self.url_env:
            raise rule_error("a postgres source needs url_env", "url_env")
        if self.kind != "postgres" and not self.path:
            raise rule_error(f"a {self.kind} source needs path", "path")
        if self.pitr and self.kind != "postgres":
            raise rule_error("pitr applies to postgres sources only", "pitr")
        if self.pitr and not self.pg_data:
            raise rule_error("pitr needs pg_data: the cluster's data directory", "pg_data")
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
    replica: str | None = Field(
        default=None,
        description="A second store (another region): every snapshot is copied and verified there.",
    )
    sources: list[BackupSource] = Field(
        default_factory=list, description="The service's data, besides CODE's own state."
    )
    drill_schedule: CronExpression = Field(
        default="0 4 1 * *", description="When restore drills run: a cron expression (UTC)."
    )

    @field_validator("store", "replica")
    @classmethod
    def _check_store(cls, store: str | None) -> str | None:
        if store is None:
            return None
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
    def _unique_sources(self) -> Backup:
        seen: set[str] = set()
        for index, source in enumerate(self.sources):
            if source.name in seen or source.name.startswith("code-"):
                raise rule_error(
                    f"source name {source.name!r} is taken (code-* names are CODE's own)",
                    "sources",
                    index,
                    "name",
                )
            seen.add(source.name)
        return self

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
