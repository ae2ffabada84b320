"""The service spec `code.yaml`: models, loading with error locations, JSON Schema, reference."""

from __future__ import annotations

from code_engine.spec.backup import Backup, BackupSource, Retention
from code_engine.spec.cron import CronSchedule, parse_cron
from code_engine.spec.duration import Duration, format_duration, parse_duration
from code_engine.spec.environment import Environment, Protection
from code_engine.spec.loader import SPEC_FILENAME, load_spec, load_spec_text, locate_in_file
from code_engine.spec.policies import PolicyBundle
from code_engine.spec.quality import QualityGates, Slos
from code_engine.spec.reference import render_reference
from code_engine.spec.schema import json_schema
from code_engine.spec.service import ServiceSpec
from code_engine.spec.strategy import (
    AllAtOnceStrategy,
    Analysis,
    AnalysisStep,
    BlueGreenStrategy,
    CanaryStep,
    CanaryStrategy,
    Pause,
    PauseStep,
    SetWeightStep,
    Strategy,
)
from code_engine.spec.targets import (
    GitOps,
    KubernetesTarget,
    LocalTarget,
    RouterLimits,
    Target,
)

__all__ = [
    "SPEC_FILENAME",
    "AllAtOnceStrategy",
    "Analysis",
    "AnalysisStep",
    "Backup",
    "BackupSource",
    "BlueGreenStrategy",
    "CanaryStep",
    "CanaryStrategy",
    "CronSchedule",
    "Duration",
    "Environment",
    "GitOps",
    "KubernetesTarget",
    "LocalTarget",
    "Pause",
    "PolicyBundle",
    "PauseStep",
    "Protection",
    "QualityGates",
    "Retention",
    "RouterLimits",
    "ServiceSpec",
    "SetWeightStep",
    "Slos",
    "Strategy",
    "Target",
    "format_duration",
    "json_schema",
    "load_spec",
    "load_spec_text",
    "locate_in_file",
    "parse_cron",
    "parse_duration",
    "render_reference",
]
