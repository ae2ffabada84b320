"""The token-based duplication detector."""

from __future__ import annotations

from pathlib import Path

from code_engine.pipeline.duplication import measure

BODY = """
def total(lines, discount, tax):
    subtotal = 0.0
    for name, amount, unit in lines:
        if not name or amount <= 0:
            continue
        subtotal += amount * unit
    subtotal = subtotal - subtotal * discount
    return round(subtotal + subtotal * tax, 2)
"""


def test_copied_code_is_measured_in_both_copies(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(BODY)
    (tmp_path / "b.py").write_text('"""Doc."""\n# a comment\n' + BODY + "\nx = 1\n")
    result = measure([tmp_path / "a.py", tmp_path / "b.py"])
    assert result.to_dict()["duplicated_lines"] == 16
    assert result.to_dict()["code_lines"] == 17  # docstrings and comments are no code
    assert len(result.blocks) == 1
    assert round(result.percent, 1) == 94.1


def test_code_of_the_same_shape_with_other_names_is_no_copy(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(BODY)
    (tmp_path / "b.py").write_text(BODY.replace("subtotal", "running").replace("unit", "each"))
    assert measure([tmp_path / "a.py", tmp_path / "b.py"]).percent == 0


def test_an_unparsable_file_is_listed_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("def broken(:\n    '''\n")
    result = measure([tmp_path / "bad.py"])
    assert result.unreadable == [(tmp_path / "bad.py").as_posix()]
    assert result.percent == 0
