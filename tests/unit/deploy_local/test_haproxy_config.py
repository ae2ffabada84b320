from __future__ import annotations

from pathlib import Path

from code_engine.deploy.router.haproxy_config import (
    HAProxySettings,
    render_config,
    server_names,
    server_weights,
)
from code_engine.deploy.router.haproxy_runtime import parse_show_stat, version_stats


def test_server_names_are_unique_and_safe() -> None:
    names = server_names({"1.0+build/7": ["h:1", "h:2"], "1.0_build_7": ["h:3"]})
    assert set(names) == {"1.0_build_7_0", "1.0_build_7_1", "1.0_build_7_0_"}
    assert names["1.0_build_7_0"] == ("1.0+build/7", "h:1")
    assert names["1.0_build_7_0_"] == ("1.0_build_7", "h:3")


def test_server_weights_split_a_version_weight_across_its_instances() -> None:
    servers = server_names({"v1": ["h:1", "h:2"], "v2": ["h:3"]})
    weights = server_weights({"v1": 80, "v2": 20}, servers)
    assert weights == {"v1_0": 256, "v1_1": 256, "v2_0": 128}
    share_v1 = (weights["v1_0"] + weights["v1_1"]) / sum(weights.values())
    assert share_v1 == 0.8


def test_server_weights_keep_a_tiny_share_above_zero_and_zero_at_zero() -> None:
    servers = server_names({"v1": ["h:1"], "v2": ["h:2"], "v3": ["h:3"]})
    assert server_weights({"v1": 1000, "v2": 1}, servers) == {"v1_0": 256, "v2_0": 1, "v3_0": 0}


def test_render_config_has_admin_socket_frontend_and_weighted_servers() -> None:
    settings = HAProxySettings(workdir=Path("/srv/x"), port=18080, backend="hello")
    servers = server_names({"v1": ["127.0.0.1:9001"], "v2": ["127.0.0.1:9002"]})
    text = render_config(settings, servers, {"v1": 100}, Path("/srv/x/haproxy.sock"))
    assert "stats socket /srv/x/haproxy.sock mode 600 level admin expose-fd listeners" in text
    assert "bind 127.0.0.1:18080" in text
    assert "server v1_0 127.0.0.1:9001 weight 256" in text
    assert "server v2_0 127.0.0.1:9002 weight 0" in text
    assert "balance roundrobin" in text


SHOW_STAT = """# pxname,svname,qcur,scur,stot,req_tot,hrsp_5xx,econ,eresp,rtime,
web,FRONTEND,,0,40,40,2,,,,
app,v1_0,0,1,31,31,0,0,0,2,
app,v2_0,0,0,8,6,3,2,0,4,
app,v2_1,0,0,1,1,0,0,0,4,
app,BACKEND,0,0,40,40,2,2,0,1,
"""


def test_show_stat_rows_are_summed_per_version() -> None:
    rows = parse_show_stat(SHOW_STAT)
    assert rows[1]["svname"] == "v1_0"
    servers = server_names({"v1": ["h:1"], "v2": ["h:2", "h:3"]})
    stats = version_stats(rows, "app", servers)
    assert stats["v1"].requests == 31
    assert stats["v1"].in_flight == 1
    assert stats["v1"].mean_ms == 2
    assert stats["v2"].requests == 6 + 2 + 1
    assert stats["v2"].errors == 3 + 2
    assert stats["v2"].p95_ms is None
