"""Parsers keep line numbers and turn bad input into `ParseError`, never an exception."""

from __future__ import annotations

from code_engine.assess import parsers
from code_engine.assess.parsers import ParseError, YamlMap, YamlSeq


def test_yaml_keeps_lines_and_yaml_1_2_booleans() -> None:
    docs = parsers.parse_yaml(
        "ci.yml", "name: CI\non:\n  push: {}\nflag: yes\nok: true\n---\n- a\n"
    )
    assert isinstance(docs, list)
    first, second = docs
    assert isinstance(first, YamlMap)
    assert "on" in first and first.line_of("on") == 2
    assert first["flag"] == "yes" and first["ok"] is True
    assert isinstance(second, YamlSeq) and second.line == 7


def test_yaml_error_has_the_line() -> None:
    error = parsers.parse_yaml("bad.yml", "a: 1\nb: [1\nc: 2\n")
    assert isinstance(error, ParseError)
    assert error.file == "bad.yml" and error.line is not None and error.line >= 2
    assert error.message.startswith("invalid YAML")


def test_yaml_merge_keys_and_empty_documents() -> None:
    docs = parsers.parse_yaml("m.yml", "base: &b {x: 1}\nuse:\n  <<: *b\n  y: 2\n---\n")
    assert docs == [{"base": {"x": 1}, "use": {"x": 1, "y": 2}}]


def test_jsonc_comments_and_trailing_commas() -> None:
    text = '{\n  // comment with "quotes"\n  "url": "http://x//y", /* block */\n  "a": [1,],\n}\n'
    assert parsers.parse_json("d.json", text, comments=True) == {"url": "http://x//y", "a": [1]}
    error = parsers.parse_json("d.json", text)
    assert isinstance(error, ParseError) and error.line == 2


def test_toml_error() -> None:
    assert parsers.parse_toml("p.toml", "[a]\nb = 1\n") == {"a": {"b": 1}}
    error = parsers.parse_toml("p.toml", "[a]\nb = \n")
    assert isinstance(error, ParseError) and error.line == 2


def test_hcl_parses_and_reports_errors() -> None:
    doc = parsers.parse_hcl("m.tf", 'module "m" {\n  source = "./x"\n}\n')
    assert doc == {"module": [{"m": {"source": "./x"}}]}
    error = parsers.parse_hcl("bad.tf", 'resource "x" {\n  a = \n}\n')
    assert isinstance(error, ParseError) and error.message.startswith("invalid HCL")


def test_dockerfile_stages_substitute_build_args() -> None:
    text = (
        "ARG PY=3.12\nFROM python:${PY}-slim AS build\nRUN make\n"
        "FROM gcr.io/distroless/python3\nCOPY --from=build /a /a\nUSER nonroot\n"
    )
    stages = parsers.parse_dockerfile("Dockerfile", text)
    assert isinstance(stages, tuple)
    assert [(s.base, s.alias, s.line) for s in stages] == [
        ("python:3.12-slim", "build", 2),
        ("gcr.io/distroless/python3", None, 4),
    ]
    assert [i.name for i in stages[1].instructions] == ["COPY", "USER"]
    assert isinstance(parsers.parse_dockerfile("Dockerfile", "RUN x\n"), ParseError)


def test_makefile_rules_recipes_and_continuations() -> None:
    text = (
        ".PHONY: test\nVAR := 1\n"
        "test: setup ## run tests\n\tpytest \\\n\t  --cov\n"
        "setup:\n\tpip install -e .\n# comment\nbuild lint: ; echo both\n"
    )
    targets = parsers.parse_makefile(text)
    assert targets["test"].prerequisites == ["setup"]
    assert targets["test"].recipe == ["pytest  --cov"]
    assert targets["setup"].recipe == ["pip install -e ."]
    assert targets["build"].recipe == ["echo both"] and "lint" in targets
    assert "VAR" not in targets and ".PHONY" not in targets


def test_make_variables_expand_in_recipes() -> None:
    text = "PY ?= python\nPYTEST = $(PY) -m pytest\nPY = python3\ntest:\n\t$(PYTEST) -q $$HOME\n"
    variables = parsers.parse_make_variables(text)
    rule = parsers.parse_makefile(text)["test"]
    assert rule.lines == [5]
    assert parsers.expand_make(rule.recipe[0], variables) == "python3 -m pytest -q $HOME"
    assert parsers.expand_make("$(MAKE) lint $(UNKNOWN)", {}) == "make lint $(UNKNOWN)"


def test_a_self_multiplying_make_variable_stops_growing() -> None:
    variables = {"T": "$(T)" * 100}
    assert len(parsers.expand_make("$(T)", variables)) <= parsers.MAX_EXPANSION


def test_a_huge_make_variable_is_not_expanded_many_times() -> None:
    variables = {"V": "x" * 200_000}
    assert parsers.expand_make("$(V) " * 1000, variables) == "$(V) " * 1000
