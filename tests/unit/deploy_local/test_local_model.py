from __future__ import annotations

from pathlib import Path

from code_engine.deploy.local.model import InstanceRecord, InstanceState, LaunchSpec


def test_launch_spec_round_trips_through_json() -> None:
    spec = LaunchSpec(
        version="1.0.0",
        command="{python} -m uvicorn app:app --port {port}",
        cwd=Path("/releases/hello/1.0.0"),
        instances=2,
        env={"HELLO_VERSION": "{version}"},
        python="/releases/hello/1.0.0/.venv/bin/python",
    )
    assert LaunchSpec.from_json(spec.to_json()) == spec
    assert spec.placeholders(8001)["port"] == "8001"


def test_instance_record_round_trips_and_gives_an_address() -> None:
    record = InstanceRecord(
        "1.0.0", 1, 8001, "/logs/1.0.0-1.log", pid=42, start_ticks=7, state=InstanceState.READY
    )
    assert InstanceRecord.from_json(record.to_json()) == record
    info = record.info()
    assert info.address == "127.0.0.1:8001"
    assert info.state is InstanceState.READY
    assert info.log_path == Path("/logs/1.0.0-1.log")
