"""Pure pieces of protocol upgrades and of the preview port: heads, the routing table, the
HAProxy configuration and statistics, the rollout's version under preview, the spec field
and the ports an environment keeps."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from code_engine.deploy.controller.routing import router_ports
from code_engine.deploy.plan import RouterPlan
from code_engine.deploy.rollout import (
    AnalysisSpec,
    BlueGreen,
    Canary,
    Pause,
    Phase,
    RolloutSpec,
    SetWeight,
    Status,
    new_rollout,
    plan_of,
    state_from_dict,
    state_to_dict,
)
from code_engine.deploy.router import RouterError
from code_engine.deploy.router.haproxy_config import (
    NO_PREVIEW,
    HAProxySettings,
    preview_weights,
    render_config,
    server_names,
)
from code_engine.deploy.router.haproxy_runtime import version_stats
from code_engine.deploy.router.headers import request_head, switching_head, with_upgrade
from code_engine.deploy.router.table import RoutingTable
from code_engine.errors import ConfigError, InvalidFileError
from code_engine.spec import load_spec_text


def test_an_upgrade_request_keeps_upgrade_and_says_connection_upgrade() -> None:
    headers = [
        (b"Host", b"t"),
        (b"Connection", b"keep-alive, Upgrade, X-Private"),
        (b"Upgrade", b"websocket"),
        (b"X-Private", b"hop"),
        (b"Sec-WebSocket-Key", b"k"),
    ]
    plain, _ = request_head(b"GET", b"/ws", headers, b"10.0.0.1")
    assert b"upgrade" not in plain.lower()  # hop-by-hop for any other request
    head = with_upgrade(plain, headers)
    lines = head.split(b"\r\n")
    assert b"Upgrade: websocket" in lines
    assert b"connection: upgrade" in lines
    assert b"Sec-WebSocket-Key: k" in lines
    assert not any(line.lower().startswith((b"x-private", b"keep-alive")) for line in lines)
    assert head.endswith(b"\r\n\r\n") and head.count(b"\r\n\r\n") == 1


def test_the_101_head_keeps_upgrade_and_drops_other_hop_by_hop_headers() -> None:
    head = switching_head(
        b"",
        [
            (b"Upgrade", b"websocket"),
            (b"Connection", b"Upgrade, X-Hop"),
            (b"X-Hop", b"1"),
            (b"Keep-Alive", b"timeout=5"),
            (b"Sec-WebSocket-Accept", b"abc"),
        ],
    )
    assert head == (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        b"Sec-WebSocket-Accept: abc\r\nconnection: upgrade\r\n\r\n"
    )


def test_the_table_previews_a_version_with_instances_only() -> None:
    table = RoutingTable(rand=lambda: 0.0)
    table.set_backends({"v1": ["127.0.0.1:1"], "v2": ["127.0.0.1:2", "127.0.0.1:3"]})
    table.set_weights({"v1": 100})
    assert table.pick_preview() is None
    assert table.unrouted_preview() == b"no version of this service is under preview"
    with pytest.raises(RouterError, match="cannot preview version 'v9': it has no backends"):
        table.set_preview("v9")
    table.set_preview("v2")
    picks = [table.pick_preview() for _ in range(3)]
    assert picks == [("v2", ("127.0.0.1", 2)), ("v2", ("127.0.0.1", 3)), ("v2", ("127.0.0.1", 2))]
    assert table.pick() == ("v1", ("127.0.0.1", 1))  # the weights are not involved
    assert table.to_json()["preview"] == "v2"
    table.set_backends({"v1": ["127.0.0.1:1"]})  # the previewed version lost its instances
    assert table.pick_preview() is None
    assert b"(v2) has no ready instance" in table.unrouted_preview()
    table.set_preview(None)
    assert table.to_json()["preview"] is None


def test_haproxy_gets_a_preview_frontend_weighted_to_the_version_under_preview() -> None:
    servers = server_names({"v1": ["127.0.0.1:1"], "v2": ["127.0.0.1:2"]})
    plain = HAProxySettings(workdir=Path("/srv/x"), port=18080)
    assert "frontend preview" not in render_config(plain, servers, {"v1": 100}, Path("/s"))
    assert plain.backends == ("app",)
    settings = HAProxySettings(workdir=Path("/srv/x"), port=18080, preview_port=18090)
    text = render_config(settings, servers, {"v1": 100}, Path("/s"), preview="v2")
    preview = text[text.index("frontend preview") :]
    assert "    bind 127.0.0.1:18090" in preview
    assert f'string "{NO_PREVIEW}" if {{ nbsrv(preview) eq 0 }}' in preview
    assert "    server v1_0 127.0.0.1:1 weight 0" in preview
    assert "    server v2_0 127.0.0.1:2 weight 256" in preview
    assert preview_weights(None, servers) == {"v1_0": 0, "v2_0": 0}
    assert settings.backends == ("app", "preview")


def test_haproxy_statistics_of_a_version_sum_the_main_and_the_preview_backends() -> None:
    servers = server_names({"v1": ["127.0.0.1:1"], "v2": ["127.0.0.1:2"]})
    row = {"req_tot": "10", "hrsp_5xx": "1", "scur": "1", "rtime": "2", "svname": "v2_0"}
    rows = [
        {**row, "pxname": "app"},
        {**row, "pxname": "preview"},
        {**row, "pxname": "other"},
    ]
    stats = version_stats(rows, ("app", "preview"), servers)
    assert (stats["v2"].requests, stats["v2"].errors, stats["v2"].in_flight) == (20, 2, 2)
    assert version_stats(rows, "app", servers)["v2"].requests == 10


NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_blue_green_rollout_previews_its_new_version_until_the_switch() -> None:
    spec = RolloutSpec(BlueGreen(AnalysisSpec(), True, timedelta(seconds=30)))
    state = new_rollout("d1", "v2", "v1", spec)
    seen = {phase: replace(state, phase=phase).preview_version for phase in Phase}
    assert seen == {
        Phase.STARTING: None,  # not ready yet
        Phase.STEPPING: "v2",  # timed preview, analysis, waiting for a person
        Phase.PROMOTING: None,
        Phase.FINALIZING: None,
        Phase.ROLLING_BACK: None,
        Phase.DONE: None,
    }
    canary = new_rollout("d2", "v2", "v1", RolloutSpec(Canary((SetWeight(10),))))
    assert replace(canary, phase=Phase.STEPPING).preview_version is None
    assert plan_of(spec.strategy)[0] == Pause(timedelta(seconds=30))
    assert state_from_dict(state_to_dict(state)).spec == spec
    assert state.status is Status.PENDING
    with pytest.raises(ConfigError, match="preview duration must not be negative"):
        BlueGreen(preview_duration=timedelta(seconds=-1))


SPEC = """\
service: shop
repo: .
environments:
  - name: prod
    target: {{kind: local, command: "run --port {{port}}", {ports}}}
"""


def test_the_preview_port_is_a_port_of_its_own() -> None:
    spec = load_spec_text(SPEC.format(ports="port: 9000, preview_port: 9001"))
    target = spec.environment("prod").target
    assert getattr(target, "preview_port", None) == 9001
    with pytest.raises(InvalidFileError, match="preview_port must differ from port"):
        load_spec_text(SPEC.format(ports="port: 9000, preview_port: 9000"))
    with pytest.raises(InvalidFileError, match="preview_port"):
        load_spec_text(SPEC.format(ports="preview_port: 70000"))


def test_unset_ports_are_picked_once_and_kept(tmp_path: Path) -> None:
    picked = router_ports(tmp_path, "shop", "prod", RouterPlan())
    assert picked[0] != picked[1]
    assert router_ports(tmp_path, "shop", "prod", RouterPlan()) == picked
    kept = json.loads((tmp_path / "run/shop/prod/router-port.json").read_text())
    assert kept == {"port": picked[0], "preview_port": picked[1]}
    # the spec wins; a kept port it now uses for something else is picked again
    assert router_ports(tmp_path, "shop", "prod", RouterPlan(port=9000, preview_port=9001)) == (
        9000,
        9001,
    )
    port, preview = router_ports(tmp_path, "shop", "prod", RouterPlan(port=picked[1]))
    assert port == picked[1] and preview not in (picked[1], 9001)
