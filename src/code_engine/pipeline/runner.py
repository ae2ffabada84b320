"""The runner: steps in dependency order, independent ones at once, each through the cache."""

from __future__ import annotations

import fnmatch
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from code_engine.pipeline.cache import ContentCache, CorruptEntryError, Entry, step_key
from code_engine.pipeline.files import ContentHashes, existing, file_sha256, matching
from code_engine.pipeline.graph import waves
from code_engine.pipeline.model import PipelineError, Step, StepResult
from code_engine.pipeline.tools import ToolVersions, resolve, search_path

Progress = Callable[[str, Step, StepResult | None], None]


def missing_tools(steps: Sequence[Step], repo: Path) -> None:
    """A declared step whose tool is nowhere to be found is a spec error, before any run."""
    for step in steps:
        if step.engine is not None:
            continue  # without its engine the step is skipped, whatever else is missing
        if step.origin != "default" and resolve(step.run[0], repo) is None:
            raise PipelineError(
                step.name,
                f"tool {step.run[0]!r} not found in .venv/bin or on PATH",
                ("steps", int(step.origin.split(".")[1]), "run", 0),
            )


@dataclass
class Runner:
    """Runs selected steps of one repository; `progress` hears each start and finish."""

    repo: Path
    cache: ContentCache
    files: list[str]
    hashes: ContentHashes
    versions: ToolVersions
    use_cache: bool = True
    jobs: int = 1
    progress: Progress | None = None
    _keys: dict[str, str] = field(default_factory=dict)  # the keys of the steps decided so far

    def run(self, steps: Sequence[Step]) -> list[StepResult]:
        """Every step's result, in the order of `steps`."""
        pending = waves(steps)
        by_name = {step.name: step for step in steps}
        results: dict[str, StepResult] = {}
        running: dict[Future[StepResult], str] = {}
        with ThreadPoolExecutor(max_workers=max(1, self.jobs)) as pool:
            while pending or running:
                for name in [n for n, needs in pending.items() if needs <= results.keys()]:
                    del pending[name]
                    blocked = [n for n in by_name[name].needs if n in results and
                               results[n].status != "passed"]  # fmt: skip
                    if blocked:
                        step = by_name[name]
                        reason = f"needs {blocked[0]}, which {results[blocked[0]].status}"
                        results[name] = StepResult(name, step.stage, "skipped", False, 0.0, reason)
                        self._tell("finished", step, results[name])
                        continue
                    running[pool.submit(self._one, by_name[name])] = name
                if not running:
                    continue
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    results[running.pop(future)] = future.result()
        return [results[step.name] for step in steps]

    def _tell(self, event: str, step: Step, result: StepResult | None = None) -> None:
        if self.progress is not None:
            self.progress(event, step, result)

    def _one(self, step: Step) -> StepResult:
        self._tell("started", step)
        result = self._decide(step)
        self._tell("finished", step, result)
        return result

    def _decide(self, step: Step) -> StepResult:
        started = time.monotonic()
        if step.engine is not None and not _engine_answers(step.engine, self.repo):
            reason = f"skipped: no engine ({step.engine} does not answer)"
            return StepResult(step.name, step.stage, "skipped", False, 0.0, reason)
        tool = resolve(step.run[0], self.repo)
        if tool is None:
            reason = f"tool {step.run[0]!r} not found in .venv/bin or on PATH"
            return StepResult(step.name, step.stage, "failed", False, 0.0, reason)
        unkeyed = [name for name in step.after if name not in self._keys]
        if not (self.use_cache and step.cache) or unkeyed:
            return self._execute(step, tool, None)  # an unkeyed input: nothing to key it on
        key = self.key(step)
        self._keys[step.name] = key
        with self.cache.locked(key):
            note = None
            try:
                entry = self.cache.load(key)
            except CorruptEntryError as exc:
                self.cache.discard(key)
                entry, note = None, f"corrupted cache entry discarded ({exc}); ran again"
            if entry is not None:
                self.cache.restore(self.repo, entry)
                return StepResult(step.name, step.stage, "passed", True,
                                  time.monotonic() - started, None, entry.exit_code,
                                  entry.output)  # fmt: skip
            return self._execute(step, tool, key, note)

    def key(self, step: Step) -> str:
        """The step's cache key as the work tree stands now."""
        inputs = matching(self.files, step.inputs)
        tools = sorted({step.run[0], *step.tools})
        environment = sorted(
            (name, value)
            for name, value in os.environ.items()
            if any(fnmatch.fnmatchcase(name, pattern) for pattern in step.env_inputs)
        )
        # a step that runs after others reads their outputs: their keys are part of its own
        after = {"after": [self._keys.get(name, "") for name in step.after]} if step.after else {}
        return step_key(
            {
                **after,
                "step": [step.name, step.stage, list(step.run), list(step.outputs),
                         list(step.reports), list(step.env), list(step.ok_exit_codes)],
                "inputs": [[path, self.hashes.of(path)] for path in inputs],
                "environment": environment,
                "tools": [self.versions.fingerprint(tool, self.repo) for tool in tools],
            }
        )  # fmt: skip

    def _execute(
        self, step: Step, tool: str, key: str | None, note: str | None = None
    ) -> StepResult:
        env = {**os.environ, **dict(step.env), "PATH": search_path(self.repo)}
        for _, report in step.reports:  # a report left by an earlier run is no evidence
            (self.repo / report).unlink(missing_ok=True)
        for written in (*step.outputs, *(path for _, path in step.reports)):
            fixed = Path(written.split("*")[0].split("?")[0])  # the directory part before a glob
            directory = fixed if written.endswith(("/", "*")) else fixed.parent
            (self.repo / directory).mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        try:
            done = subprocess.run(  # noqa: S603 - the step as the spec declares it
                [tool, *step.run[1:]],
                cwd=self.repo,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except OSError as exc:
            reason = f"cannot start {step.run[0]}: {exc.strerror or exc}"
            return StepResult(step.name, step.stage, "failed", False, 0.0, reason)
        duration = time.monotonic() - started
        output = done.stdout.decode("utf-8", "replace")
        code = done.returncode
        if code < 0:
            reason = f"killed by {signal.Signals(-code).name}; nothing cached"
            return StepResult(
                step.name, step.stage, "failed", False, duration, reason, code, output
            )
        if code not in step.ok_exit_codes:
            return StepResult(step.name, step.stage, "failed", False, duration,
                              f"exit code {code}", code, output)  # fmt: skip
        if key is not None:
            produced = existing(self.repo, step.outputs)
            files = {path: file_sha256(self.repo / path) for path in produced}
            self.cache.store(self.repo, Entry(key, code, output, duration, files))
        return StepResult(step.name, step.stage, "passed", False, duration, note, code, output)


def _engine_answers(engine: str, repo: Path) -> bool:
    path = resolve(engine, repo)
    if path is None:
        return False
    try:
        argv = [path, "info"]
        probe = subprocess.run(argv, capture_output=True, timeout=20, check=False)  # noqa: S603
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0
