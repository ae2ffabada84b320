"""The delivery commands of `codectl` against the real server: release, deploy --watch,
protection, promote, pause/resume, status, history and rollback."""

from __future__ import annotations

import json
from itertools import count
from pathlib import Path

import pytest

from .harness import Engine, Load, ServiceRepo

HELD = "[{set_weight: 50}, {pause: {}}]"
_names = count(1)


@pytest.mark.slow
def test_a_release_travels_from_staging_to_prod_and_back(engine: Engine, tmp_path: Path) -> None:
    service = ServiceRepo(tmp_path / "repo", f"cli{next(_names)}", ("staging", "prod"))
    service.create(engine, register=False)
    spec = str(service.path / "code.yaml")
    opts = ("--spec", spec)

    v1 = service.write("v1", HELD)
    created = engine.cli("release", "create", "--version", "v1", *opts, "-o", "json")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["qualified"] is False  # no pipeline run yet
    service.qualify(engine, v1)  # prod requires a passing one
    assert "registered service" in created.stderr
    assert json.loads(created.stdout)["artifact"].endswith("/releases/" + service.name + "/v1")

    first = engine.cli("deploy", "staging", "--version", "v1", "--watch", *opts)
    assert first.returncode == 0, first.stderr
    assert "succeeded" in first.stdout

    service.write("v2", HELD)
    assert engine.cli("release", "create", "-v", "v2", *opts).returncode == 0
    refused = engine.cli("deploy", "prod", "--version", "v2", *opts)
    assert refused.returncode == 2
    assert "only takes a release that succeeded in 'staging'" in refused.stderr

    promoted = engine.cli("promote", "staging", "prod", "--watch", *opts, "-o", "json")
    assert promoted.returncode == 0, promoted.stderr
    assert json.loads(promoted.stdout)["trigger"] == "promote"
    assert service.serving("prod") == "v1"

    with Load(service.url_of("staging")):
        held = engine.cli("deploy", "staging", "--watch", *opts, "-o", "json")
        assert held.returncode == 0, held.stderr  # a planned pause is not a failure
        assert json.loads(held.stdout)["status"] == "paused"
        status = json.loads(engine.cli("status", "staging", *opts, "-o", "json").stdout)
        assert status[0]["version"] == "v1"
        assert status[0]["active"]["progress"]["weight"] == 50
        resumed = engine.cli("resume", "staging", *opts, "-o", "json")
        assert resumed.returncode == 0, resumed.stderr
        deployment_id = json.loads(resumed.stdout)["id"]
        assert engine.wait(deployment_id)["status"] == "succeeded"
    assert service.serving("staging") == "v2"

    back = engine.cli("rollback", "staging", "--watch", *opts, "-o", "json")
    assert back.returncode == 0, back.stderr
    assert json.loads(back.stdout)["version"] == "v1"
    assert service.serving("staging") == "v1"

    history = json.loads(engine.cli("history", "staging", *opts, "-o", "json").stdout)
    assert [(d["version"], d["trigger"]) for d in history] == [
        ("v1", "rollback"),
        ("v2", "manual"),
        ("v1", "manual"),
    ]
    nothing = engine.cli("abort", "staging", *opts)
    assert nothing.returncode == 2 and "nothing is rolling out" in nothing.stderr
