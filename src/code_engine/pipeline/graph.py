"""The step graph: defaults merged with the spec's steps, checked, selected and ordered."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from code_engine.pipeline.defaults import default_steps
from code_engine.pipeline.model import STAGES, PipelineError, Step
from code_engine.spec.pipeline import Pipeline, PipelineStep


def pipeline_steps(repo: Path, service: str, spec: Pipeline) -> list[Step]:
    """The pipeline of a repository: defaults (unless turned off) and the declared steps."""
    steps: dict[str, Step] = {}
    if spec.defaults:
        defaults = default_steps(repo, service, tuple(spec.source), spec.lock_file, spec.osv_db)
        steps = {step.name: step for step in defaults}
        for index, name in enumerate(spec.skip):
            if name not in steps:
                known = ", ".join(sorted(steps))
                raise PipelineError(
                    name, f"is not a default step (defaults: {known})", ("skip", index)
                )
            del steps[name]
    for index, declared in enumerate(spec.steps):
        steps[declared.name] = _step(declared, index)
    ordered = order(list(steps.values()))
    return ordered


def _step(declared: PipelineStep, index: int) -> Step:
    return Step(
        name=declared.name,
        stage=declared.stage,
        run=tuple(declared.run),
        inputs=tuple(declared.inputs),
        outputs=tuple(declared.outputs),
        reports=tuple(declared.reports.items()),
        needs=tuple(declared.needs),
        after=tuple(declared.after),
        tools=tuple(declared.tools),
        env=tuple(sorted(declared.env.items())),
        env_inputs=tuple(declared.env_inputs),
        ok_exit_codes=tuple(declared.ok_exit_codes),
        engine=declared.engine,
        cache=declared.cache,
        origin=f"steps.{index}",
    )


def _field(step: Step, *rest: str | int) -> tuple[str | int, ...]:
    if not step.origin.startswith("steps."):
        return ()
    return ("steps", int(step.origin.split(".")[1]), *rest)


def order(steps: Sequence[Step]) -> list[Step]:
    """Steps in stage order, each after what it needs; unknown needs and cycles are errors."""
    by_name = {step.name: step for step in steps}
    for step in steps:
        for relation, names in (("needs", step.needs), ("after", step.after)):
            for index, need in enumerate(names):
                if need not in by_name:
                    raise PipelineError(
                        step.name,
                        f"{relation} unknown step {need!r}"
                        if relation == "needs"
                        else f"runs after unknown step {need!r}",
                        _field(step, relation, index),
                    )
    done: list[Step] = []
    state: dict[str, str] = {}

    def visit(step: Step, path: tuple[str, ...]) -> None:
        if state.get(step.name) == "done":
            return
        if state.get(step.name) == "visiting":
            cycle = " -> ".join((*path[path.index(step.name) :], step.name))
            raise PipelineError(step.name, f"dependency cycle: {cycle}", _field(step, "needs"))
        state[step.name] = "visiting"
        for need in (*step.needs, *step.after):
            visit(by_name[need], (*path, step.name))
        state[step.name] = "done"
        done.append(step)

    for step in sorted(steps, key=lambda s: STAGES.index(s.stage)):
        visit(step, ())
    return done


def select(
    steps: Sequence[Step], stages: Iterable[str] = (), names: Iterable[str] = ()
) -> list[Step]:
    """The steps of the given stages and names (all when both are empty), in order."""
    stages, names = set(stages), set(names)
    for stage in stages:
        if stage not in STAGES:
            raise PipelineError(stage, f"is not a stage (one of: {', '.join(STAGES)})")
    known = {step.name for step in steps}
    for name in sorted(names - known):
        raise PipelineError(name, f"no such step (steps: {', '.join(sorted(known))})")
    if not stages and not names:
        return list(steps)
    return [step for step in steps if step.stage in stages or step.name in names]


def waves(steps: Sequence[Step]) -> dict[str, set[str]]:
    """What each selected step waits for: its needs and afters that are selected too."""
    selected = {step.name for step in steps}
    return {step.name: {n for n in (*step.needs, *step.after) if n in selected} for step in steps}
