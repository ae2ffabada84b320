"""The content cache with real tools: replay, invalidation by input, corruption, SIGKILL,
two runs at once, and the steps and tools a pipeline cannot run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.pipeline_repo import CODECTL, ci, code_yaml, make_repo, steps_by_name

PY = sys.executable

# cheap real steps: ruff over each half of the repository, and a step that counts its runs
STEPS = f"""\
    defaults: false
    steps:
      - name: lint-src
        stage: lint
        run: [ruff, check, --no-cache, src]
        inputs: ["src/**/*.py"]
      - name: lint-tests
        stage: lint
        run: [ruff, check, --no-cache, tests]
        inputs: ["tests/**/*.py"]
      - name: count
        stage: build
        run: [{PY}, -c, "import time; time.sleep(1); open('runs.log', 'a').write('run\\\\n'); open('build/out.txt', 'w').write('made')"]
        inputs: ["src/**/*.py"]
        outputs: [build/out.txt]
        needs: [lint-src]
"""  # noqa: E501


def _repo(tmp_path: Path, pipeline: str = STEPS) -> Path:
    repo = make_repo(tmp_path / "shop", yaml=code_yaml("all_tests_pass: false\n", pipeline))
    (repo / "build").mkdir()
    return repo


def _cached(report: dict[str, object]) -> dict[str, bool]:
    return {name: step["cached"] for name, step in steps_by_name(report).items()}  # type: ignore[arg-type]


def test_an_unchanged_step_is_replayed_and_a_change_reruns_only_its_readers(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    first = ci(repo, "--stage", "lint", "--stage", "build")[1]
    assert first is not None
    assert _cached(first) == {"lint-src": False, "lint-tests": False, "count": False}
    (repo / "build" / "out.txt").unlink()

    second = ci(repo, "--stage", "lint", "--stage", "build")[1]
    assert second is not None
    assert _cached(second) == {"lint-src": True, "lint-tests": True, "count": True}
    assert (repo / "build" / "out.txt").read_text() == "made"  # outputs restored
    assert (repo / "runs.log").read_text().count("run") == 1

    with (repo / "tests" / "test_price.py").open("a") as handle:
        handle.write("\n\ndef test_more() -> None:\n    assert True\n")
    third = ci(repo, "--stage", "lint", "--stage", "build")[1]
    assert third is not None
    assert _cached(third) == {"lint-src": True, "lint-tests": False, "count": True}

    fourth = ci(repo, "--stage", "lint", "--no-cache")[1]
    assert fourth is not None
    assert _cached(fourth) == {"lint-src": False, "lint-tests": False}


def test_a_corrupted_entry_is_discarded_and_the_step_run_again(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    assert ci(repo, "--step", "lint-src")[0] == 0
    records = list((repo / "build" / "ci-cache" / "entries").glob("*/*/result.json"))
    assert len(records) == 1
    records[0].write_text('{"sha256": "0", "body": {"truncated', encoding="utf-8")

    code, report, stderr = ci(repo, "--step", "lint-src")

    assert code == 0, stderr
    assert report is not None
    step = steps_by_name(report)["lint-src"]
    assert step["cached"] is False
    assert step["reason"].startswith("corrupted cache entry discarded (its record is unreadable")
    assert ci(repo, "--step", "lint-src")[1]["steps"][0]["cached"] is True  # type: ignore[index]


def test_a_step_killed_by_sigkill_fails_and_caches_nothing(tmp_path: Path) -> None:
    pipeline = f"""\
        defaults: false
        steps:
          - name: doomed
            stage: build
            run: [{PY}, -c, "import os, signal; open('build/half.txt', 'w').write('x'); os.kill(os.getpid(), signal.SIGKILL)"]
            outputs: [build/half.txt]
    """  # noqa: E501
    repo = _repo(tmp_path, pipeline)

    code, report, _ = ci(repo)

    assert code == 1
    assert report is not None
    step = steps_by_name(report)["doomed"]
    assert step["status"] == "failed"
    assert step["reason"] == "killed by SIGKILL; nothing cached"
    assert not list((repo / "build" / "ci-cache").glob("entries/*/*"))


def test_two_runs_at_once_share_the_cache_and_run_a_step_once(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    env = {**os.environ, "NO_COLOR": "1"}
    argv = [CODECTL, "ci", "--step", "count", "-o", "json"]
    runs = [
        subprocess.Popen(argv, cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=300) for run in runs]

    assert [run.returncode for run in runs] == [0, 0], [err for _, err in outputs]
    cached = sorted(json.loads(out)["steps"][0]["cached"] for out, _ in outputs)
    assert cached == [False, True]
    assert (repo / "runs.log").read_text().count("run") == 1
    assert not list((repo / "build" / "ci-cache" / "tmp").iterdir())


def test_an_image_without_an_engine_is_skipped_never_passed(tmp_path: Path) -> None:
    pipeline = """\
        defaults: false
        steps:
          - name: image
            stage: build
            run: [docker, build, .]
            engine: docker
    """
    repo = _repo(tmp_path, pipeline)
    env_path = f"{tmp_path}/nothing"  # no docker binary anywhere on this PATH
    done = subprocess.run(
        [CODECTL, "ci", "-o", "json"], cwd=repo, capture_output=True, text=True, check=False,
        env={**os.environ, "PATH": env_path},
    )  # fmt: skip
    report = json.loads(done.stdout)
    image = steps_by_name(report)["image"]
    assert image["status"] == "skipped"
    assert image["reason"].startswith("skipped: no engine")


def test_damaged_memos_of_hashes_tools_and_spec_are_rebuilt_not_trusted(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    assert ci(repo, "--step", "lint-src")[0] == 0
    cache = repo / "build" / "ci-cache"
    (cache / "hashes.json").write_text('{"src/shop/__init__.py": 5, "x": [1]}')
    (cache / "tools.json").write_text("[not json")
    for memo in (cache / "spec").glob("*.json"):
        memo.write_text('{"service": "shop", "pipeline": {"jobs": "many"}}')

    code, report, stderr = ci(repo, "--step", "lint-src")

    assert code == 0, stderr
    assert report is not None
    assert steps_by_name(report)["lint-src"]["cached"] is True
