from __future__ import annotations

import itertools

import pytest

from code_engine.deploy.router.errors import RouterError
from code_engine.deploy.router.table import RoutingTable, WeightTable, parse_address


def test_weight_table_maps_uniform_draws_to_versions_by_weight() -> None:
    table = WeightTable.build({"v1": 80, "v2": 20, "v0": 0})
    assert table.versions == ("v1", "v2")
    assert table.choose(0.0) == "v1"
    assert table.choose(0.7999) == "v1"
    assert table.choose(0.8) == "v2"
    assert table.choose(0.9999) == "v2"


def test_weight_table_without_weight_chooses_nothing() -> None:
    assert WeightTable.build({"v1": 0}).choose(0.5) is None


def test_weight_table_distribution_over_a_grid_of_draws_is_exact() -> None:
    table = WeightTable.build({"a": 3, "b": 1})
    picks = [table.choose(i / 1000) for i in range(1000)]
    assert picks.count("a") == 750
    assert picks.count("b") == 250


def test_routing_table_picks_by_injected_randomness_and_round_robins_instances() -> None:
    draws = itertools.cycle([0.1, 0.9])
    table = RoutingTable(rand=lambda: next(draws))
    table.set_backends({"v1": ["127.0.0.1:1001", "127.0.0.1:1002"], "v2": ["127.0.0.1:2001"]})
    table.set_weights({"v1": 50, "v2": 50})
    picks = [table.pick() for _ in range(4)]
    assert picks == [
        ("v1", ("127.0.0.1", 1001)),
        ("v2", ("127.0.0.1", 2001)),
        ("v1", ("127.0.0.1", 1002)),
        ("v2", ("127.0.0.1", 2001)),
    ]


def test_weight_on_a_version_without_backends_is_refused() -> None:
    table = RoutingTable()
    table.set_backends({"v1": ["127.0.0.1:1001"]})
    with pytest.raises(RouterError, match="no backends"):
        table.set_weights({"v2": 10})
    with pytest.raises(RouterError, match="negative"):
        table.set_weights({"v1": -1})


def test_removing_the_backends_of_a_weighted_version_is_refused() -> None:
    table = RoutingTable()
    table.set_backends({"v1": ["127.0.0.1:1001"]})
    table.set_weights({"v1": 100})
    with pytest.raises(RouterError):
        table.set_backends({"v2": ["127.0.0.1:2001"]})
    table.set_weights({"v1": 0})
    table.set_backends({"v2": ["127.0.0.1:2001"]})
    assert table.pick() is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("127.0.0.1:80", ("127.0.0.1", 80)), ("[::1]:8080", ("::1", 8080)), ("h:1", ("h", 1))],
)
def test_parse_address(text: str, expected: tuple[str, int]) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["nohost", ":80", "h:0", "h:70000", "h:x"])
def test_parse_address_rejects_garbage(text: str) -> None:
    with pytest.raises(RouterError):
        parse_address(text)
