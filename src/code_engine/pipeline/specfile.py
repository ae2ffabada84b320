"""The pipeline's part of `code.yaml`, remembered by the file's hash between runs.

A warm `codectl ci` must answer in well under a second; parsing the YAML with positions (for
error locations) is a good part of that, so a file already validated is read back from a
JSON copy of its pipeline, gates and service name, keyed by its bytes and CODE's version.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from code_engine import __version__
from code_engine.spec.pipeline import Pipeline
from code_engine.spec.quality import QualityGates


def pipeline_spec(spec_file: Path, memo_dir: Path) -> tuple[str, Pipeline, QualityGates]:
    """The service name, pipeline and gates of a spec file; InvalidFileError when invalid."""
    raw = spec_file.read_bytes()
    digest = hashlib.sha256(raw + __version__.encode()).hexdigest()
    memo = memo_dir / f"{digest}.json"
    try:
        data = json.loads(memo.read_text(encoding="utf-8"))
        return (
            str(data["service"]),
            Pipeline.model_validate(data["pipeline"]),
            QualityGates.model_validate(data["quality_gates"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no copy yet, or an unusable one: validate the file itself
    from code_engine.spec.loader import load_spec

    spec = load_spec(spec_file)
    data = {
        "service": spec.service,
        "pipeline": spec.pipeline.model_dump(mode="json", by_alias=True),
        "quality_gates": spec.quality_gates.model_dump(mode="json"),
    }
    try:
        memo_dir.mkdir(parents=True, exist_ok=True)
        tmp = memo.with_name(f"{memo.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        tmp.replace(memo)
    except OSError:
        pass  # a read-only cache only costs the next run the parse
    return spec.service, spec.pipeline, spec.quality_gates
