"""Spawning one instance: argv and environment from the spec, output to its log file,
its own session so it outlives the controller."""

from __future__ import annotations

import contextlib
import shlex
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from code_engine.deploy.local.backoff import RestartPolicy
from code_engine.deploy.local.command import command_argv, render_env
from code_engine.deploy.local.errors import (
    CANNOT_START,
    UNRESOLVED,
    InstanceStartError,
    start_error,
)
from code_engine.deploy.local.identity import InstanceUser, unreachable_parent
from code_engine.deploy.local.logfiles import LogLimits, last_lines, rotate_if_needed
from code_engine.deploy.local.model import InstanceRecord, InstanceState, LaunchSpec
from code_engine.deploy.local.proc import is_same_process, reap, start_ticks
from code_engine.secrets import fingerprints
from code_engine.secrets.errors import SecretError

SecretSource = Callable[[Mapping[str, str]], Mapping[str, str]]

# Never handed to instances: the engine's own settings (secrets among them) and variables
# that would make a release's interpreter load the engine's packages.
PRIVATE_ENV = ("CODE_",)
INTERPRETER_ENV = frozenset({"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"})


def default_base_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The controller's environment minus what must not leak into a service."""
    return {
        name: value
        for name, value in environ.items()
        if not name.startswith(PRIVATE_ENV) and name not in INTERPRETER_ENV
    }


def log_marker(path: Path, message: str, clock: Callable[[], float] = time.time) -> None:
    """Append a line of the supervisor itself to an instance log."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(clock()))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as log:
        log.write(f"--- {stamp} code-engine: {message}\n".encode())


def log_tail(path: str | Path, count: int = 20) -> list[str]:
    """The last lines of an instance log, secret values it was given masked."""
    try:
        lines = last_lines(Path(path), count)
    except OSError:
        return []
    masks = fingerprints.redactor(Path(path).parent)
    return lines if masks is None else [masks.redact(line) for line in lines]


def resolve_secrets(spec: LaunchSpec, resolve: SecretSource | None, label: str) -> dict[str, str]:
    """The values of `spec.secrets`, resolved now; InstanceStartError names the reference."""
    if not spec.secrets:
        return {}
    if resolve is None:
        raise InstanceStartError(
            f"cannot start {label}: it needs secrets and this engine resolves none",
            kind=UNRESOLVED,
        )
    try:
        return dict(resolve(spec.secrets))
    except SecretError as exc:
        raise InstanceStartError(f"cannot start {label}: {exc}", kind=UNRESOLVED) from None


class Launcher:
    """Starts instance processes and tells whether they still run."""

    def __init__(
        self,
        base_env: Mapping[str, str],
        limits: LogLimits,
        clock: Callable[[], float] = time.time,
        user: InstanceUser | None = None,
        secrets: SecretSource | None = None,
    ) -> None:
        self.base_env = dict(base_env)
        self.limits = limits
        self.clock = clock
        self.user = user
        self.secrets = secrets

    def spawn(self, record: InstanceRecord, spec: LaunchSpec) -> subprocess.Popen[bytes]:
        """Start the process of `record`; updates its pid, start ticks, time and state.

        Any error of the system (no such command, a full disk, no permission) is raised as
        an `InstanceStartError` saying what and where, retryable or not.
        """
        values = spec.placeholders(record.port)
        argv = command_argv(spec.command, values)
        label = f"{record.version} instance {record.index} on port {record.port}"
        # resolved at each start, so a restart picks up a rotated value; never templated
        secret_env = resolve_secrets(spec, self.secrets, label)
        env = {
            **self.base_env,
            **render_env(spec.env, values),
            **secret_env,
            "PORT": str(record.port),
        }
        if self.user is not None:
            blocked = unreachable_parent(spec.cwd, self.user.uid, {self.user.gid})
            if blocked is not None:
                raise InstanceStartError(
                    f"cannot start {record.version}: its user {self.user.name!r} cannot enter "
                    f"{blocked}; put CODE_DATA_DIR where it can (see SECURITY.md)",
                    kind=CANNOT_START,
                )
            env.update(self.user.environment())
        log_path = Path(record.log_path)
        try:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            # before the instance can print them: readers of its log mask these values
            fingerprints.record(log_path.parent, secret_env.values())
            rotate_if_needed(log_path, self.limits)
            log_marker(log_path, f"starting {label}: {shlex.join(argv)}", self.clock)
            with log_path.open("ab") as log:
                process = self.popen(argv, spec.cwd, env, log)
        except OSError as exc:
            raise start_error(label, exc) from exc
        record.pid = process.pid
        record.start_ticks = start_ticks(process.pid)
        record.started_at = self.clock()
        record.state = InstanceState.STARTING
        return process

    def popen(
        self, argv: list[str], cwd: Path, env: dict[str, str], log: BinaryIO
    ) -> subprocess.Popen[bytes]:
        """The process-start seam: run `argv` in its own session, output to `log`, as the
        instances' own user when there is one (identity.py); files it creates are its own."""
        switch: dict[str, Any] = {"umask": 0o077}
        if self.user is not None:
            switch.update(user=self.user.uid, group=self.user.gid, extra_groups=[])
        return subprocess.Popen(  # noqa: S603 - the service's own command
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group; survives the controller
            close_fds=True,
            **switch,
        )

    @staticmethod
    def exited(
        record: InstanceRecord, process: subprocess.Popen[bytes] | None
    ) -> tuple[bool, int | None]:
        """Whether the instance's process is gone, and its exit code when known."""
        if record.pid <= 0:
            return True, None
        if process is not None and process.pid == record.pid:
            code = process.poll()
            return code is not None, code
        reap(record.pid)  # an adopted process may still be our child (same interpreter)
        return not is_same_process(record.pid, record.start_ticks), None


def note_exit(record: InstanceRecord, code: int | None, now: float, policy: RestartPolicy) -> None:
    """Record that the instance's process exited: back off before a restart, or give up."""
    decision = policy.after_crash(record.streak, now - record.started_at)
    record.streak, record.pid = decision.streak, 0
    how = f"exited with code {code}" if code is not None else "exited"
    if decision.delay is None:
        record.state = InstanceState.CRASHED
        note = f"{how}; {record.streak} rapid crashes, giving up"
    else:
        record.state, record.restart_at = InstanceState.BACKOFF, now + decision.delay
        note = f"{how}; restarting in {decision.delay:g}s"
    with contextlib.suppress(OSError):  # a full disk must not stop the supervision
        log_marker(Path(record.log_path), note)
