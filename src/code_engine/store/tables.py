"""ORM tables of the first-cut domain (DESIGN.md): one row class per table, no behaviour."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from code_engine.store.base import Base


class ServiceRow(Base):
    __tablename__ = "services"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    repo: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class EnvironmentRow(Base):
    __tablename__ = "environments"
    __table_args__ = (UniqueConstraint("service_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(63))
    position: Mapped[int] = mapped_column(default=0)
    target_kind: Mapped[str] = mapped_column(String(32), default="local")
    requires_previous: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]


class ChangeRow(Base):
    __tablename__ = "changes"
    __table_args__ = (UniqueConstraint("service_id", "sha"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    sha: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text, default="")
    conventional_type: Mapped[str | None] = mapped_column(String(32))
    authored_at: Mapped[datetime]
    committed_at: Mapped[datetime]
    first_commit_at: Mapped[datetime | None]


class ReleaseRow(Base):
    __tablename__ = "releases"
    __table_args__ = (UniqueConstraint("service_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String(128))
    sha: Mapped[str] = mapped_column(String(64), default="")
    artifact: Mapped[str] = mapped_column(String(1000), default="")
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]


# A deployment CODE runs that holds its environment (awaiting approval or being rolled out).
IN_FLIGHT = text(
    "source = 'code' AND status IN ('awaiting_approval', 'pending', 'progressing', 'paused')"
)


class DeploymentRow(Base):
    __tablename__ = "deployments"
    __table_args__ = (
        Index("ix_deployments_service_env_finished", "service_id", "environment_id", "finished_at"),
        # the last successful deployment before a window starts: one index seek per service
        Index(
            "ix_deployments_service_env_status_finished",
            "service_id",
            "environment_id",
            "status",
            "finished_at",
        ),
        # the controller's "environments with deployments it ran": one seek per environment
        Index("ix_deployments_env_source_status", "environment_id", "source", "status"),
        # one rollout per environment: at most one deployment CODE runs is in flight there
        # (a second concurrent insert fails in the database, not in a check-then-insert)
        Index(
            "ux_deployments_env_in_flight",
            "environment_id",
            unique=True,
            sqlite_where=IN_FLIGHT,
            postgresql_where=IN_FLIGHT,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    release_id: Mapped[int | None] = mapped_column(ForeignKey("releases.id", ondelete="SET NULL"))
    version: Mapped[str] = mapped_column(String(128), default="")
    strategy: Mapped[str] = mapped_column(String(32), default="all_at_once")
    status: Mapped[str] = mapped_column(String(32), default="pending")
    trigger: Mapped[str] = mapped_column(String(64), default="manual")
    source: Mapped[str] = mapped_column(String(64), default="code")
    created_by: Mapped[str] = mapped_column(String(200), default="")
    # who approved or rejected it, where code.yaml asks for an approval (the review itself,
    # with its time and comment, is in `state`)
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # What a successful deployment delivered first (`dora.deliveries` keeps them): the
    # lead time in seconds of each such commit with a known change start, as little-endian
    # doubles in ascending order, and how many had no known start. NULL and 0 otherwise.
    lead_times: Mapped[bytes | None] = mapped_column(LargeBinary)
    lead_unknown: Mapped[int] = mapped_column(default=0, server_default="0")


class DeploymentChangeRow(Base):
    """The commits a deployment delivered (the git range since the previous one).

    `change_started_epoch` copies the commit's change start (its first commit's time when
    earlier, else its authored time) from `changes`, as POSIX seconds, so lead times need
    no lookup there and no conversion of a million timestamps; NULL while the commit is
    unknown. `dora.changestarts` keeps it equal whatever arrives first.
    """

    __tablename__ = "deployment_changes"
    __table_args__ = (Index("ix_deployment_changes_sha", "sha"),)

    deployment_id: Mapped[int] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), primary_key=True
    )
    sha: Mapped[str] = mapped_column(String(64), primary_key=True)
    change_started_epoch: Mapped[float | None]


class IncidentRow(Base):
    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_service_opened", "service_id", "opened_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    environment_id: Mapped[int | None] = mapped_column(
        ForeignKey("environments.id", ondelete="SET NULL")
    )
    deployment_id: Mapped[int | None] = mapped_column(
        ForeignKey("deployments.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(String(500))
    severity: Mapped[str] = mapped_column(String(32), default="major")
    source: Mapped[str] = mapped_column(String(64), default="api")
    opened_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]


class AssessmentRow(Base):
    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    level: Mapped[int]
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]


class AuditEventRow(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    principal: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    resource: Mapped[str] = mapped_column(String(300), default="")
    outcome: Mapped[str] = mapped_column(String(32), default="ok")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class PrincipalRow(Base):
    """A human user (password) or a machine client (client_credentials)."""

    __tablename__ = "principals"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(300))
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]


class RoleBindingRow(Base):
    __tablename__ = "role_bindings"
    __table_args__ = (UniqueConstraint("principal_id", "role", "environment"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    principal_id: Mapped[int] = mapped_column(ForeignKey("principals.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    environment: Mapped[str | None] = mapped_column(String(63))


class RevokedTokenRow(Base):
    """A token withdrawn before its expiry (a logout); kept until it would have expired."""

    __tablename__ = "revoked_tokens"

    token_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    principal: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class LockRow(Base):
    """A lease: one controller acts on an environment at a time."""

    __tablename__ = "locks"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime]


class DeploymentCommandRow(Base):
    """A person's request to a running deployment (pause, resume, abort, promote_full).

    The API appends; the controller consumes each one in the transaction that applies it.
    """

    __tablename__ = "deployment_commands"

    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), index=True
    )
    command: Mapped[str] = mapped_column(String(32))
    principal: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    consumed_at: Mapped[datetime | None]
