"""tox environments and nox sessions resolve to the commands they run, by line."""

from __future__ import annotations

import ast

from code_engine.assess import sessions

TOX = """\
[tox]
envlist = py, lint

[testenv]
commands =
    pytest {posargs:tests}
    py311: coverage report

[testenv:lint]
commands = ruff check {toxinidir}
"""


def test_tox_default_environments_and_inheritance() -> None:
    config = sessions.parse_ini(TOX)
    lines = sessions.tox_commands(config, None)
    assert [(x.line, x.text) for x in lines] == [
        (6, "pytest tests"),
        (7, "coverage report"),
        (10, "ruff check ."),
    ]
    assert [x.text for x in sessions.tox_commands(config, ["docs"])][0] == "pytest tests"


def test_tox_environments_named_on_the_command_line() -> None:
    assert sessions.tox_environments(" -e lint,py --parallel") == ["lint", "py"]
    assert sessions.tox_environments(" --env=type") == ["type"]
    assert sessions.tox_environments("") is None


def test_nox_sessions_follow_notify_and_skip_accepted_failures() -> None:
    module = ast.parse(
        "import nox\n"
        "@nox.session(python=['3.12'])\n"
        "def tests(s):\n"
        "    s.run('pytest')\n"
        "    s.notify('cover')\n"
        "@nox.session\n"
        "def cover(session):\n"
        "    session.run('coverage', 'xml', success_codes=[0, 1])\n"
        "    session.run('coverage', 'report')\n"
    )
    lines = sessions.nox_commands(module, sessions.nox_sessions(" -s tests"))
    assert [(x.line, x.text) for x in lines] == [(4, "pytest"), (9, "coverage report")]
    assert sessions.nox_sessions(" --session a b -r") == ["a", "b"]
