"""Assess a repository's DevOps maturity (Level 0 -> 3) across nine categories, with evidence."""

from code_engine.assess.engine import assess_repository
from code_engine.assess.model import (
    Category,
    CategoryResult,
    Check,
    CheckResult,
    Evidence,
    PackageResult,
    Report,
    Status,
)
from code_engine.assess.report import SCHEMA_VERSION, report_to_dict

__all__ = [
    "SCHEMA_VERSION",
    "Category",
    "CategoryResult",
    "Check",
    "CheckResult",
    "Evidence",
    "PackageResult",
    "Report",
    "Status",
    "assess_repository",
    "report_to_dict",
]
