"""The service's configuration as a source: code.yaml and its `env:` values, as written."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.dr.conftest import Shop

ENV = (
    '    target: {kind: local, command: "app {port}",\n'
    '             env: {DATABASE_URL: "secret://vault/shop/db", MODE: live}}\n'
)


def test_code_yaml_and_env_are_backed_up_encrypted_and_restored_as_written(shop: Shop) -> None:
    spec = shop.root / "code.yaml"
    text = spec.read_text().replace('    target: {kind: local, command: "app {port}"}\n', ENV)
    spec.write_text(text)
    (taken,) = shop.json("dr", "backup", "--source", "service-config")
    blob = (shop.store / "snapshots" / "service-config" / taken["id"] / "data").read_bytes()
    assert b"secret://" not in blob and b"shop" not in blob  # encrypted
    restored = Path(shop.json("dr", "restore", "--id", taken["id"])[0]["target"])
    assert restored.parent == shop.root
    assert (restored / "code.yaml").read_text() == text
    env = json.loads((restored / "env.json").read_text())
    # the reference is kept, never resolved: its value comes from the secret store
    assert env["env"] == {"dev": {"DATABASE_URL": "secret://vault/shop/db", "MODE": "live"}}
    assert "secret store" in env["note"]

    spec.write_text(text.replace("MODE: live", "MODE: broken"))
    result = shop.json("dr", "restore", "--id", taken["id"], "--force")[0]
    assert spec.read_text() == text  # the live code.yaml is the backed-up one again
    assert "MODE: broken" in Path(result["previous"]).read_text()
    shop.json("dr", "backup")
    drill = shop.json("dr", "drill")
    assert drill["status"] == "passed", drill
    assert "service-config" in json.dumps(drill)
