"""The walkthrough of docs/delivery.md, run as written: its commands are extracted from the
markdown and run in order in one shell (background traffic, `cd` and all), against a real
server and worker, with the real `codectl`, `git` and `curl`.

Three things are filled in, as a reader would: the pasted `code.yaml` (`cat > code.yaml`
gets the page's yaml block), the client id and secret the server printed, and free ports
instead of 18081/18082 (tests never take fixed ports). One is shortened: the analysis windows
last 5 s instead of the page's 10 s (the page's background traffic still gives each window
twice the `min_requests` it needs), which halves the waiting. Each command must exit 0, except one
shown answering `error:`; each answer the page shows must be seen: a JSON line exactly, a
`status · ...` line by its status.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tests.support.local_down import processes_of

from .harness import CLIENT_ID, CLIENT_SECRET, Engine, free_port

DOCS = Path(__file__).resolve().parents[3] / "docs" / "delivery.md"
EXAMPLES = DOCS.parents[1] / "examples"
START = "The same, step by step, on a service of your own"
PASTE = "cat > code.yaml"
PAGE_INTERVAL = "interval: 10s"


@dataclass
class Step:
    command: str
    expected: list[str] = field(default_factory=list)


def walkthrough() -> tuple[str, list[Step]]:
    """The page's `code.yaml` and its commands, each with the answers shown under it."""
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index(START) :]
    spec = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert spec is not None, "no code.yaml in the walkthrough"
    steps: list[Step] = []
    for block in re.findall(r"```console\n(.*?)```", section, re.S):
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("$ "):
                steps.append(Step(line[2:]))
            elif line and steps:
                steps[-1].expected.append(line)
    return spec[1], steps


def script(spec: str, steps: list[Step], ports: dict[str, str]) -> str:
    """One shell script: every command between markers that carry its exit code."""
    lines = ["set +e"]
    for index, step in enumerate(steps):
        command = step.command
        if command.startswith(PASTE):
            command = f"cat > code.yaml <<'YAML'\n{spec}YAML"
        command = command.replace("admin-…", CLIENT_ID).replace("--client-secret …", "")
        if "--client-secret" not in command and "codectl login" in command:
            command += f" --client-secret {shlex.quote(CLIENT_SECRET)}"
        for old, new in ports.items():
            command = command.replace(old, new)
        lines += [f"echo '@@@ {index}'", command, f'echo "@@@ {index} rc=$?"']
    return "\n".join(lines) + "\n"


def answers(output: str, count: int) -> list[tuple[int, str]]:
    """(exit code, output) of each command, from the markers."""
    found = []
    for index in range(count):
        match = re.search(rf"@@@ {index}\n(.*?)@@@ {index} rc=(\d+)\n", output, re.S)
        assert match is not None, f"command {index} did not run:\n{output[-3000:]}"
        found.append((int(match[2]), match[1]))
    return found


@pytest.mark.timeout(1500)
# The walkthrough is the embedded default's (SQLite in the data directory); the same commands
# on PostgreSQL are the other e2e tests' subject, and a second two-minute run here bought nothing.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_walkthrough_passes_as_written(tmp_path: Path, database_url: str) -> None:
    spec, steps = walkthrough()
    assert any(s.command.startswith("codectl deploy") for s in steps)
    ports = {"18081": str(free_port()), "18082": str(free_port())}
    for old, new in ports.items():
        spec = spec.replace(old, new)
    assert spec.count(PAGE_INTERVAL) == 3, "the page's analysis windows changed"
    spec = spec.replace(PAGE_INTERVAL, "interval: 5s")
    engine = Engine(tmp_path / "engine", database_url)
    engine.root.mkdir()
    (tmp_path / "work" / "examples").mkdir(parents=True)
    (tmp_path / "work" / "examples" / "hello").symlink_to(EXAMPLES / "hello")
    engine.start()
    env = {k: v for k, v in engine.env().items() if k != "CODE_TOKEN"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for key in ("AUTHOR", "COMMITTER"):
        env[f"GIT_{key}_NAME"], env[f"GIT_{key}_EMAIL"] = "Reader", "reader@example.test"
    log = tmp_path / "walkthrough.log"  # a file: the background traffic keeps it open
    with log.open("w") as out:
        shell = subprocess.Popen(  # noqa: S603
            ["/bin/bash", "-c", script(spec, steps, ports)],  # noqa: S607
            cwd=tmp_path / "work",
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the background traffic is in its process group
        )
    try:
        shell.wait(timeout=1200)
    finally:
        os.killpg(shell.pid, signal.SIGTERM)  # the curl loops the page leaves running
        engine.stop()
    assert processes_of(engine.data_dir) == [], "a router or instance outlived the walkthrough"
    output = log.read_text()
    for step, (code, said) in zip(steps, answers(output, len(steps)), strict=True):
        failing = any(line.startswith("error:") for line in step.expected)
        assert (code != 0) is failing, f"$ {step.command} exited {code}:\n{said}"
        for line in step.expected:
            if line.startswith("{"):
                assert line in said, f"$ {step.command}: no {line} in:\n{said}"
            elif " · " in line:
                status = line.split(" · ")[0]
                assert status in said, f"$ {step.command}: not {status}:\n{said}"
