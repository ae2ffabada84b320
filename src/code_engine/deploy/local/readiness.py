"""Waiting for new instances to answer their health path."""

from __future__ import annotations

from collections.abc import Callable

from code_engine.deploy.local.errors import (
    CRASHED,
    NOT_READY,
    PORT_IN_USE,
    InstanceStartError,
)
from code_engine.deploy.local.health import Probe, http_answer
from code_engine.deploy.local.launcher import log_tail
from code_engine.deploy.local.model import InstanceRecord, LaunchSpec


class ReadinessWait:
    """Polls each pending instance until it is ready, exits, or the spec's timeout passes."""

    def __init__(
        self,
        service: str,
        spec: LaunchSpec,
        probe: Probe,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        interval: float = 0.1,
        describe: Callable[[str, int, str], str] = http_answer,
    ) -> None:
        self.service, self.spec = service, spec
        self.probe, self.clock, self.sleep, self.interval = probe, clock, sleep, interval
        self.describe = describe

    def wait(
        self,
        pending: list[InstanceRecord],
        exited: Callable[[InstanceRecord], tuple[bool, int | None]],
        on_ready: Callable[[InstanceRecord], None],
    ) -> None:
        """Return when all are ready; raise `InstanceStartError` with the log tail if not."""
        spec = self.spec
        deadline = self.clock() + spec.ready_timeout
        pending = list(pending)
        while pending:
            for record in list(pending):
                gone, code = exited(record)
                if gone:
                    raise self._crashed(record, code)
                if self.probe(record.host, record.port, spec.health_path):
                    on_ready(record)
                    pending.remove(record)
            if pending and self.clock() >= deadline:
                record = pending[0]
                answer = self.describe(record.host, record.port, spec.health_path)
                message = (
                    f"{self._label(record)} not ready within {spec.ready_timeout:g} s "
                    f"(last health answer: GET {spec.health_path} on port {record.port}: "
                    f"{answer})"
                )
                raise InstanceStartError(message, log_tail(record.log_path), kind=NOT_READY)
            if pending:
                self.sleep(self.interval)

    def _crashed(self, record: InstanceRecord, code: int | None) -> InstanceStartError:
        """An instance that exited before it was ready, and why when its log tells."""
        tail = log_tail(record.log_path)
        how = f"exited with code {code}" if code is not None else "exited"
        message = f"{self._label(record)} {how} before it was ready"
        if any("address already in use" in line.lower() for line in tail):
            message += f": port {record.port} is in use by another process"
            return InstanceStartError(message, tail, kind=PORT_IN_USE)
        return InstanceStartError(message, tail, kind=CRASHED)

    def _label(self, record: InstanceRecord) -> str:
        return f"{self.service} {record.version} instance {record.index}"
