from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner

from code_engine.cli import logs_cmd
from code_engine.deploy.local import LaunchSpec, LogLimits, LogLine, Supervisor, tail_logs
from code_engine.deploy.local.logfiles import last_lines, rotate, rotated


class _Done(Exception):
    pass


def _scripted_sleep(steps: list[Callable[[], None]]) -> Callable[[float], None]:
    """A `sleep` for `tail_logs` that runs the next step each time, then stops the tail."""
    pending = iter(steps)

    def sleep(_seconds: float) -> None:
        step = next(pending, None)
        if step is None:
            raise _Done
        step()

    return sleep


def _collect(lines: Iterator[LogLine]) -> list[LogLine]:
    seen: list[LogLine] = []
    with pytest.raises(_Done):
        seen.extend(lines)
    return seen


def test_last_lines_reads_backwards_across_blocks(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_text("".join(f"line {n}\n" for n in range(1000)))
    assert last_lines(path, 3, block=16) == ["line 997", "line 998", "line 999"]
    assert last_lines(path, 0) == []
    assert len(last_lines(path, 5000)) == 1000


def test_rotation_keeps_a_bounded_number_of_files(tmp_path: Path) -> None:
    path = tmp_path / "1.0-0.log"
    for generation in range(4):
        path.write_text(f"generation {generation}\n")
        rotate(path, keep=2)
    assert path.read_text() == ""
    assert rotated(path, 1).read_text() == "generation 3\n"
    assert rotated(path, 2).read_text() == "generation 2\n"
    assert not rotated(path, 3).exists()


def test_tail_then_follow_new_lines_new_files_and_rotation(tmp_path: Path) -> None:
    a = tmp_path / "1.0-0.log"
    a.write_text("old 1\nold 2\nold 3\n")

    def append(path: Path, text: str) -> Callable[[], None]:
        def step() -> None:
            with path.open("a") as handle:
                handle.write(text)

        return step

    steps = [
        append(a, "new 1\nhalf"),
        append(a, " line\n"),
        append(tmp_path / "2.0-0.log", "other\n"),
        append(a, "before rotation\n"),
        lambda: rotate(a, keep=1),
        append(a, "after rotation\n"),
    ]
    lines = tail_logs(tmp_path, lines=2, follow=True, sleep=_scripted_sleep(steps))
    seen = [(line.source, line.text) for line in _collect(lines)]
    assert seen == [
        ("1.0-0", "old 2"),
        ("1.0-0", "old 3"),
        ("1.0-0", "new 1"),
        ("1.0-0", "half line"),
        ("2.0-0", "other"),
        ("1.0-0", "before rotation"),
        ("1.0-0", "after rotation"),
    ]


def test_supervisor_rotates_a_running_instance_log(
    data_dir: Path, hello_spec: Callable[..., LaunchSpec]
) -> None:
    supervisor = Supervisor("hello", "test", data_dir, log_limits=LogLimits(max_bytes=2048, keep=2))
    spec = hello_spec("1.0.0")
    spec = LaunchSpec(**{**spec.__dict__, "command": spec.command.replace("warning", "info")})
    try:
        info = supervisor.start(spec)[0]
        with httpx.Client(base_url=f"http://{info.address}") as client:
            for round_ in range(3):
                for n in range(40):
                    client.get(f"/round-{round_}-{n}")
                supervisor.check()
        log = info.log_path
        assert rotated(log, 1).exists() and rotated(log, 2).exists()
        assert log.stat().st_size < 8192
        with httpx.Client(base_url=f"http://{info.address}") as client:
            client.get("/after-rotation")
        texts = [line.text for line in tail_logs(log.parent, lines=1000)]
        assert any("/after-rotation" in t for t in texts), "the instance keeps writing"
    finally:
        supervisor.stop_all(grace=5)


def test_codectl_logs_prints_each_line_with_its_source(tmp_path: Path) -> None:
    log_dir = tmp_path / "logs" / "hello" / "prod"
    log_dir.mkdir(parents=True)
    (log_dir / "1.0.0-0.log").write_text("a\nb\nc\n")
    (log_dir / "router.log").write_text("router: serving\n")
    app = typer.Typer()
    logs_cmd.register(app)
    app.callback()(lambda: None)
    runner = CliRunner()
    args = ["logs", "hello", "--env", "prod", "-n", "2", "--data-dir", str(tmp_path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["1.0.0-0 | b", "1.0.0-0 | c", "router | router: serving"]
    missing = runner.invoke(app, ["logs", "nope", "--data-dir", str(tmp_path)])
    assert missing.exit_code != 0
