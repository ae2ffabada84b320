"""Globs over the repository's files, and the cache's own integrity checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from code_engine.pipeline.cache import ContentCache, CorruptEntryError, Entry
from code_engine.pipeline.files import file_sha256, matching

FILES = ["pyproject.toml", "src/a.py", "src/pkg/b.py", "tests/test_a.py", "docs/x.md"]


@pytest.mark.parametrize(
    ("glob", "expected"),
    [
        ("**/*.py", ["src/a.py", "src/pkg/b.py", "tests/test_a.py"]),
        ("src/*.py", ["src/a.py"]),
        ("src/**/*.py", ["src/a.py", "src/pkg/b.py"]),
        ("pyproject.toml", ["pyproject.toml"]),
        ("./docs/*", ["docs/x.md"]),
        ("**/*", sorted(FILES)),
    ],
)
def test_globs_match_relative_paths(glob: str, expected: list[str]) -> None:
    assert matching(FILES, [glob]) == expected


def test_an_entry_whose_file_copy_changed_is_corrupt(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "out.txt").write_text("made")
    cache = ContentCache(tmp_path / "cache")
    digest = file_sha256(repo / "out.txt")
    cache.store(repo, Entry("k" * 64, 0, "ok\n", 1.0, {"out.txt": digest}))
    assert cache.load("k" * 64) is not None
    [copy] = (tmp_path / "cache" / "entries").glob("*/*/files/0")
    copy.write_text("tampered")
    with pytest.raises(CorruptEntryError, match="its copy of out.txt is missing or changed"):
        cache.load("k" * 64)
    cache.discard("k" * 64)
    assert cache.load("k" * 64) is None
