"""`codectl --help` as people read it: defaults in the help text survive, flags show no type,
and shell completion is there (`--install-completion`, `--show-completion`)."""

from __future__ import annotations

import pytest

from code_engine.cli.main import run


def codectl(
    capsys: pytest.CaptureFixture[str], *args: str, env: dict[str, str] | None = None
) -> tuple[int, str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COLUMNS", "120")
        for key, value in (env or {}).items():
            patch.setenv(key, value)
        try:
            run(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, capsys.readouterr().out


def test_help_texts_keep_their_bracketed_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = codectl(capsys, "dora", "--help")
    assert code == 0
    assert "One service [default: all]." in out
    assert "Explicit end [default: now]." in out
    assert "[default: prod]" in out


def test_flags_show_no_type(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = codectl(capsys, "--help")
    assert code == 0
    version = next(line for line in out.splitlines() if "--version" in line)
    assert "<bool>" not in out and "Print the version." in version
    assert "--install-completion" in out and "--show-completion" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from code_engine import __version__

    assert codectl(capsys, "--version") == (0, f"codectl {__version__}\n")


def test_show_completion_prints_the_bash_script(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = codectl(capsys, "--show-completion", "bash")
    assert code == 0
    assert "_CODECTL_COMPLETE=complete_bash" in out
    assert "complete -o default -F _codectl_completion codectl" in out


@pytest.mark.parametrize(
    ("line", "word", "expected"),
    [("codectl dor", 1, {"dora"}), ("codectl dora --wi", 2, {"--window"})],
)
def test_completion_completes_commands_and_options(
    capsys: pytest.CaptureFixture[str], line: str, word: int, expected: set[str]
) -> None:
    env = {"_CODECTL_COMPLETE": "complete_bash", "COMP_WORDS": line, "COMP_CWORD": str(word)}
    code, out = codectl(capsys, env=env)
    assert code == 0
    assert set(out.split()) == expected
