"""Every package of CODE has its place in the import contracts (docs/architecture.md)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SRC = ROOT / "src" / "code_engine"


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts: list[dict[str, object]] = config["tool"]["importlinter"]["contracts"]
    return contracts


def _named(layers: object) -> set[str]:
    assert isinstance(layers, list)
    return set(re.findall(r"code_engine\.(\w+)", " ".join(layers)))


def test_every_package_and_module_is_in_a_layer() -> None:
    [layers] = [c for c in _contracts() if c["id"] == "layers"]
    present = {p.name for p in SRC.iterdir() if (p / "__init__.py").is_file()}
    present |= {p.stem for p in SRC.glob("*.py")} - {"__init__", "__main__"}
    assert present - _named(layers["layers"]) == set()


def test_the_layers_are_documented() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    [layers] = [c for c in _contracts() if c["id"] == "layers"]
    assert {name for name in _named(layers["layers"]) if f"`{name}`" not in text} == set()
