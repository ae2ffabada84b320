"""Masking secret values in instance logs from keyed digests, without keeping the values."""

from __future__ import annotations

import stat
from pathlib import Path

from code_engine.secrets.fingerprints import Fingerprints, record

OLD = "first-rotation-value"  # pragma: allowlist secret
NEW = "second-rotation-value-longer"  # pragma: allowlist secret


def test_values_are_masked_in_lines_and_never_written(tmp_path: Path) -> None:
    record(tmp_path, [OLD, "ab"])
    record(tmp_path, [NEW])
    saved = (tmp_path / ".secret-fingerprints.json").read_text()
    assert OLD not in saved and NEW not in saved
    assert stat.S_IMODE((tmp_path / ".secret-fingerprints.json").stat().st_mode) == 0o600
    masks = Fingerprints.load(tmp_path)
    assert masks is not None
    line = f"env: {{'DB': '{NEW}', 'OLD': '{OLD}', 'X': 'ab'}}"
    assert masks.redact(line) == "env: {'DB': '[redacted]', 'OLD': '[redacted]', 'X': 'ab'}"
    assert masks.redact("nothing here") == "nothing here"


def test_no_file_means_nothing_to_mask(tmp_path: Path) -> None:
    assert Fingerprints.load(tmp_path) is None
    record(tmp_path, [])
    assert Fingerprints.load(tmp_path) is None


def test_values_and_lines_beyond_ascii(tmp_path: Path) -> None:
    record(tmp_path, ["pässwörd-ünïcode"])
    masks = Fingerprints.load(tmp_path)
    assert masks is not None
    assert masks.redact("→ DB=pässwörd-ünïcode ←") == "→ DB=[redacted] ←"
