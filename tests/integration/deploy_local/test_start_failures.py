"""Why an instance cannot start, said at once: errors of the system are classified and named
with the path involved, and nothing half-started stays behind."""

from __future__ import annotations

import errno
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pytest

from code_engine.deploy.local import InstanceStartError, LaunchSpec, Supervisor
from code_engine.deploy.local.errors import is_retryable, start_error
from code_engine.deploy.local.launcher import Launcher


class FullDisk(Launcher):
    """The process-start seam fails as it would on a full disk."""

    @staticmethod
    def popen(
        argv: list[str],  # noqa: ARG004 - the seam's signature
        cwd: Path,
        env: dict[str, str],  # noqa: ARG004
        log: BinaryIO,  # noqa: ARG004
    ) -> subprocess.Popen[bytes]:
        raise OSError(errno.ENOSPC, "No space left on device", str(cwd / "app.log"))


def test_a_full_disk_at_start_is_not_retryable_and_names_the_path(
    supervisor: Supervisor, hello_spec: Callable[..., LaunchSpec]
) -> None:
    supervisor.launcher.__class__ = FullDisk
    with pytest.raises(InstanceStartError) as caught:
        supervisor.start(hello_spec("1.0.0"))
    error = caught.value
    assert error.kind == "cannot_start" and not error.retryable
    assert "No space left on device (ENOSPC)" in str(error)
    assert "app.log" in str(error)
    assert supervisor.instances() == []  # nothing half-started stays behind


def test_a_missing_command_says_which(supervisor: Supervisor, tmp_path: Path) -> None:
    spec = LaunchSpec("1", "no-such-server-binary --port {port}", cwd=tmp_path)
    with pytest.raises(InstanceStartError) as caught:
        supervisor.start(spec)
    assert caught.value.kind == "cannot_start" and not caught.value.retryable
    assert "No such file or directory (ENOENT): 'no-such-server-binary'" in str(caught.value)
    assert supervisor.instances() == []


def test_a_command_without_permission(supervisor: Supervisor, tmp_path: Path) -> None:
    script = tmp_path / "serve"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o644)
    spec = LaunchSpec("1", f"{script} --port {{port}}", cwd=tmp_path)
    with pytest.raises(InstanceStartError) as caught:
        supervisor.start(spec)
    assert "Permission denied (EACCES)" in str(caught.value)
    assert str(script) in str(caught.value)


def test_a_port_in_use_is_named(supervisor: Supervisor, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = f"{sys.executable} -m http.server {port} --bind 127.0.0.1"
        with pytest.raises(InstanceStartError) as caught:
            supervisor.start(LaunchSpec("1", server, cwd=tmp_path))
    assert caught.value.kind == "port_in_use"
    assert "is in use by another process" in str(caught.value)


def test_passing_shortages_are_retryable() -> None:
    assert is_retryable(OSError(errno.EAGAIN, "Resource temporarily unavailable"))
    assert is_retryable(start_error("x", OSError(errno.EMFILE, "Too many open files")))
    assert not is_retryable(start_error("x", OSError(errno.ENOSPC, "No space left on device")))
    assert not is_retryable(ValueError("bad"))
