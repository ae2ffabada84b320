"""Waiting for new instances to answer their health path."""

from __future__ import annotations

from collections.abc import Callable

from code_engine.deploy.local.errors import InstanceStartError
from code_engine.deploy.local.health import Probe
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
    ) -> None:
        self.service, self.spec = service, spec
        self.probe, self.clock, self.sleep, self.interval = probe, clock, sleep, interval

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
                    message = f"{self._label(record)} exited (code {code}) before it was ready"
                    raise InstanceStartError(message, log_tail(record.log_path))
                if self.probe(record.host, record.port, spec.health_path):
                    on_ready(record)
                    pending.remove(record)
            if pending and self.clock() >= deadline:
                record = pending[0]
                message = (
                    f"{self._label(record)} not ready after {spec.ready_timeout:g}s: "
                    f"GET {spec.health_path} on port {record.port} never answered 2xx"
                )
                raise InstanceStartError(message, log_tail(record.log_path))
            if pending:
                self.sleep(self.interval)

    def _label(self, record: InstanceRecord) -> str:
        return f"{self.service} {record.version} instance {record.index}"
