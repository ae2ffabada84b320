"""`codectl demo`'s story on real processes: a release, a healthy canary, a bad one rolled back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.local_down import codectl_down, processes_of

from code_engine.clock import utc_now
from code_engine.deploy.demo import run_demo
from code_engine.deploy.local.ports import free_port
from code_engine.store.engine import Database, make_database
from code_engine.store.migrate import upgrade
from code_engine.worker import WorkerConfig, start_worker_thread

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "hello"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = make_database(f"sqlite:///{tmp_path / 'code.db'}")
    upgrade(database.engine)
    yield database
    database.dispose()


@pytest.mark.slow
def test_the_demo_tells_the_whole_story(db: Database, data_dir: Path) -> None:
    port = free_port()
    thread, stop = start_worker_thread(db, WorkerConfig(data_dir=data_dir, poll=0.2))
    try:
        events = list(run_demo(db, data_dir, EXAMPLE, utc_now, port))
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).json()["version"] == "1.1.0"
    finally:
        stop.set()
        thread.join(15)
        codectl_down(data_dir)
    assert processes_of(data_dir) == [], "the demo's router or instances outlived the test"
    finals = [(e.version, e.status) for e in events if e.status not in ("pending", "progressing")]
    assert finals == [("1.0.0", "succeeded"), ("1.1.0", "succeeded"), ("1.2.0", "rolled_back")]
    assert "error rate" in events[-1].message
