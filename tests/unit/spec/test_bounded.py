"""The bounded YAML reader: refusals name the line, arrive at once, and real files pass."""

from __future__ import annotations

import pytest

from code_engine.errors import InvalidFileError
from code_engine.spec import load_spec_text
from code_engine.spec.bounded import YamlLimits, check_bounds, compose_bounded, load_bounded

# nine levels of ten aliases each: a billion nodes once expanded, 700 bytes of text
BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)
SPEC = """\
service: shop
repo: .
environments:
  - name: dev
    target: &local {kind: local, command: "run --port {port}"}
  - name: qa
    target: *local
"""


def _refusal(text: str, limits: YamlLimits = YamlLimits()) -> str:
    # the limits are counted before anything is built: a bomb never gets to expand (no timing
    # is asserted here; an unbounded expansion would run into the test's time limit)
    with pytest.raises(InvalidFileError) as caught:
        check_bounds(text, "code.yaml", limits)
    return str(caught.value)


def test_billion_laughs_is_refused_at_the_alias_that_crosses_the_limit() -> None:
    message = _refusal(BILLION_LAUGHS)
    assert message.startswith("code.yaml:")
    line = int(message.split(":")[1])
    assert 2 <= line <= 9
    assert "aliases expand to more than 100000 nodes" in message


def test_the_spec_loader_refuses_the_bomb_as_a_validation_error() -> None:
    with pytest.raises(InvalidFileError, match=r"code.yaml@abc:\d+:\d+: aliases expand"):
        load_spec_text(BILLION_LAUGHS, "code.yaml@abc")


def test_deep_nesting_is_refused_before_the_recursive_composer_sees_it() -> None:
    text = "[" * 100_000 + "]" * 100_000
    assert _refusal(text) == "code.yaml:1:65: nested deeper than 64 levels"


def test_block_nesting_counts_too() -> None:
    text = "".join(f"{'  ' * depth}k{depth}:\n" for depth in range(5)) + "          leaf: 1\n"
    assert _refusal(text, YamlLimits(max_depth=4)) == "code.yaml:5:9: nested deeper than 4 levels"


def test_size_is_checked_before_parsing() -> None:
    message = _refusal("a: 1\n" * 100, YamlLimits(max_bytes=100))
    assert message == "code.yaml:1: file is 500 bytes, over the limit of 100 bytes"


def test_alias_count_is_limited() -> None:
    text = "a: &x 1\nb: [" + ", ".join(["*x"] * 11) + "]\n"
    assert "more than 10 aliases" in _refusal(text, YamlLimits(max_aliases=10))


def test_plain_node_count_is_limited() -> None:
    text = "[" + ", ".join(["1"] * 50) + "]"
    assert "more than 20 nodes" in _refusal(text, YamlLimits(max_nodes=20))


def test_an_alias_costs_the_size_of_its_anchor() -> None:
    # map, key a, the anchored list (4), key b, list b, three aliases of 4 each: 20 nodes
    text = "a: &x [1, 2, 3]\nb: [*x, *x, *x]\n"
    check_bounds(text, "f", YamlLimits(max_nodes=20))
    with pytest.raises(InvalidFileError, match="f:2:13: aliases expand to more than 19 nodes"):
        check_bounds(text, "f", YamlLimits(max_nodes=19))


def test_real_specs_with_aliases_pass() -> None:
    spec = load_spec_text(SPEC)
    assert [environment.name for environment in spec.environments] == ["dev", "qa"]
    assert compose_bounded(SPEC, "code.yaml") is not None


def test_load_bounded_reports_syntax_errors_with_their_line() -> None:
    with pytest.raises(InvalidFileError, match=r"^f.yaml:2:1: "):
        load_bounded("a: [1, 2\n", "f.yaml")
    assert load_bounded("a: [1, 2]\n", "f.yaml") == {"a": [1, 2]}
    with pytest.raises(InvalidFileError, match="expand to more than"):
        load_bounded(BILLION_LAUGHS, "f.yaml")


def test_brackets_in_quotes_and_comments_do_not_count_but_a_plain_apostrophe_does_not_hide() -> (
    None
):
    deep = "[" * 70
    check_bounds(f'x: "{deep}"\ny: 1 # {deep}\n', "f")
    check_bounds(f"x: '{deep}'\n", "f")
    with pytest.raises(InvalidFileError, match="f:2:68: nested deeper than 64 levels"):
        check_bounds(f"x: don't\ny: {deep}\n", "f")
