"""Disaster recovery: backup, verify, restore and drill CODE's and its services' data.

The database layer (`records`, the audit trail) is imported where evidence is written, not
here: a backup or restore starts moving data before SQLAlchemy is loaded.
"""

from __future__ import annotations

from code_engine.dr.config import DrConfig, load_config
from code_engine.dr.drill import DrillResult, drill
from code_engine.dr.prune import prune
from code_engine.dr.service import DrContext, backup, list_all, restore, verify

__all__ = [
    "DrConfig",
    "DrContext",
    "DrillResult",
    "backup",
    "drill",
    "list_all",
    "load_config",
    "prune",
    "restore",
    "verify",
]
