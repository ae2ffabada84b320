"""The one table DORA adds: which deployment (by external id) an incident names.

An incident may arrive before the deployment it names (webhooks come out of order), so
the name is kept until that deployment exists; ingestion then sets the incident's
`deployment_id`, whichever of the two arrived first.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from code_engine.store.base import Base


class IncidentReferenceRow(Base):
    __tablename__ = "dora_incident_refs"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    deployment_external_id: Mapped[str] = mapped_column(String(200), index=True)
