"""The tables DR adds: one row per backup (and where it went), one per drill."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from code_engine.store.base import Base


class BackupRow(Base):
    __tablename__ = "dr_backups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    snapshot_id: Mapped[str] = mapped_column(String(40), index=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    store: Mapped[str] = mapped_column(String(500))
    replica: Mapped[str | None] = mapped_column(String(500), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(16), default="manual")
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    taken_at: Mapped[datetime | None] = mapped_column(nullable=True)
    duration_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    raw_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    stored_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    verified_at: Mapped[datetime | None] = mapped_column(nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")


class DrillRow(Base):
    __tablename__ = "dr_drills"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(index=True)
    finished_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(16), default="manual")
    rto_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    rpo_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    rto_objective_seconds: Mapped[float] = mapped_column(Float)
    rpo_objective_seconds: Mapped[float] = mapped_column(Float)
    sources: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")
