"""The table the policy capability owns: one row per decision, allowed or refused."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from code_engine.store.base import Base


class PolicyDecisionRow(Base):
    __tablename__ = "policy_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(32))
    principal: Mapped[str] = mapped_column(String(200))
    service: Mapped[str | None] = mapped_column(String(200), nullable=True)
    environment: Mapped[str | None] = mapped_column(String(200), nullable=True)
    version: Mapped[str | None] = mapped_column(String(200), nullable=True)
    allowed: Mapped[bool] = mapped_column(Boolean)
    input_hash: Mapped[str] = mapped_column(String(64))
    duration_ms: Mapped[float] = mapped_column(Float)
    # what each policy set said: [{"policy", "query", "messages", "error"}]
    verdicts: Mapped[list[Any]] = mapped_column(JSON, default=list)
