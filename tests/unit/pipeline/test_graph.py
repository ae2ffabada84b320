"""The step graph: order, selection, unknown needs and cycles."""

from __future__ import annotations

import pytest

from code_engine.pipeline.graph import order, select, waves
from code_engine.pipeline.model import PipelineError, Step


def step(name: str, stage: str = "lint", needs: tuple[str, ...] = ()) -> Step:
    return Step(name, stage, ("true",), needs=needs, origin="steps.0")


def test_steps_come_in_stage_order_each_after_what_it_needs() -> None:
    steps = [step("wheel", "build", ("pytest",)), step("pytest", "test"), step("ruff")]
    assert [s.name for s in order(steps)] == ["ruff", "pytest", "wheel"]


def test_an_unknown_need_names_the_step_and_field() -> None:
    with pytest.raises(PipelineError) as caught:
        order([step("ruff", needs=("black",))])
    assert str(caught.value) == "step 'ruff': needs unknown step 'black'"
    assert caught.value.field == ("steps", 0, "needs", 0)


def test_a_cycle_is_shown_whole() -> None:
    with pytest.raises(PipelineError, match=r"dependency cycle: a -> b -> c -> a"):
        order([step("a", needs=("b",)), step("b", needs=("c",)), step("c", needs=("a",))])


def test_selection_by_stage_and_name_waits_only_for_selected_needs() -> None:
    steps = order([step("ruff"), step("pytest", "test", ("ruff",)), step("bandit", "security")])
    chosen = select(steps, stages=["test"], names=["bandit"])
    assert [s.name for s in chosen] == ["pytest", "bandit"]
    assert waves(chosen) == {"pytest": set(), "bandit": set()}
    assert waves(steps)["pytest"] == {"ruff"}
