from __future__ import annotations

import pytest

from code_engine.deploy.local.command import command_argv, render, render_env
from code_engine.errors import ConfigError

VALUES = {"python": "/r/.venv/bin/python", "port": "8001", "host": "127.0.0.1", "version": "1.2"}


def test_command_is_split_like_a_shell_and_filled_per_word() -> None:
    argv = command_argv("{python} -m uvicorn app:app --host {host} --port={port}", VALUES)
    assert argv == [
        "/r/.venv/bin/python",
        "-m",
        "uvicorn",
        "app:app",
        "--host",
        "127.0.0.1",
        "--port=8001",
    ]


def test_quoted_words_stay_whole_and_values_are_never_resplit() -> None:
    argv = command_argv("""{python} -c 'print("a b")' {version}""", {**VALUES, "version": "x y"})
    assert argv == ["/r/.venv/bin/python", "-c", 'print("a b")', "x y"]


def test_double_braces_are_literal() -> None:
    assert render('{{"port": {port}}}', VALUES) == '{"port": 8001}'


def test_unknown_placeholder_is_a_config_error_naming_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"\{prot\}.*known: \{host\}, \{port\}"):
        command_argv("{python} --port {prot}", VALUES)


@pytest.mark.parametrize("template", ["", "   ", "'unclosed"])
def test_empty_or_unparsable_command_is_a_config_error(template: str) -> None:
    with pytest.raises(ConfigError):
        command_argv(template, VALUES)


def test_env_values_use_the_same_placeholders() -> None:
    assert render_env({"HELLO_VERSION": "{version}", "N": "3"}, VALUES) == {
        "HELLO_VERSION": "1.2",
        "N": "3",
    }


def test_instances_never_inherit_engine_settings_or_its_python_path() -> None:
    from code_engine.deploy.local.launcher import default_base_env

    environ = {
        "PATH": "/bin",
        "CODE_JWT_KEY_PASSPHRASE": "s3cret",
        "PYTHONPATH": "/engine",
        "LANG": "C",
    }
    assert default_base_env(environ) == {"PATH": "/bin", "LANG": "C"}
