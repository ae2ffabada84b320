from __future__ import annotations

from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

from code_engine.errors import InvalidFileError, UserError
from code_engine.spec import CanaryStrategy, json_schema, load_spec, render_reference

ROOT = Path(__file__).resolve().parents[3]
MINIMAL = """\
service: shop
repo: .
environments:
  - name: dev
    target: {kind: local, command: "run --port {port}"}
"""


def test_root_code_yaml_is_valid() -> None:
    spec = load_spec(ROOT / "code.yaml")
    assert spec.service == "code-engine"
    assert spec.environment_names == ["dev", "staging", "prod"]
    assert spec.strategy_for("dev").kind == "all_at_once"
    for name in ("staging", "prod"):
        rollout = spec.strategy_for(name)
        assert isinstance(rollout, CanaryStrategy)
        kinds = {type(step).__name__ for step in rollout.steps}
        assert kinds == {"SetWeightStep", "AnalysisStep", "PauseStep"}
    assert spec.backup is not None


def test_root_code_yaml_satisfies_the_json_schema() -> None:
    data = YAML(typ="safe").load((ROOT / "code.yaml").read_text(encoding="utf-8"))
    errors = list(Draft202012Validator(json_schema()).iter_errors(data))
    assert errors == []


def test_docs_match_the_models() -> None:
    docs = (ROOT / "docs" / "spec.md").read_text(encoding="utf-8")
    assert docs == render_reference(), (
        "docs/spec.md is out of date: python -m code_engine.spec.docs > docs/spec.md"
    )


def test_load_spec_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "code.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    assert load_spec(path).service == "shop"
    assert load_spec(str(path)).service == "shop"


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "code.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode())
    assert load_spec(path).service == "shop"


def test_missing_file(tmp_path: Path) -> None:
    name = str(tmp_path / "code.yaml")
    with pytest.raises(UserError, match=f"^{name}: no such file$"):
        load_spec(name)


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="is a directory, expected a code.yaml file"):
        load_spec(tmp_path)


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Path, *_args: object, **_kwargs: object) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    # chmod cannot take read access away from root, so refuse the read itself
    (tmp_path / "code.yaml").write_text("service: shop\n")
    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(UserError, match="code.yaml: cannot read: Permission denied"):
        load_spec(tmp_path / "code.yaml")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "code.yaml"
    path.write_bytes(b"service: shop\nrepo: caf\xe9\n")
    with pytest.raises(InvalidFileError) as caught:
        load_spec(path)
    assert str(caught.value) == f"{path}:2: file is not UTF-8 text"


def test_errors_name_the_file_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "code.yaml").write_text(MINIMAL + "extra: 1\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidFileError) as caught:
        load_spec("svc/code.yaml")
    assert str(caught.value).startswith("svc/code.yaml:6:1: extra: unknown field 'extra'")


def test_a_file_over_the_size_limit_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "code.yaml"
    path.write_bytes(b"# padding\n" * 100_000)  # 1 MB, four times the limit
    with pytest.raises(InvalidFileError) as caught:
        load_spec(path)
    assert str(caught.value) == f"{path}:1: file is over the limit of 262144 bytes"
