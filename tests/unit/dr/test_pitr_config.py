"""A pitr source in an S3 store: its pgBackRest repository goes to the same bucket."""

from __future__ import annotations

from pathlib import Path

import pytest

from code_engine.dr.config import load_config
from code_engine.dr.errors import DrError
from code_engine.settings import Settings

SPEC = """\
service: shop
repo: .
environments:
  - name: dev
    target: {kind: local, command: "app {port}"}
backup:
  store: s3://backups/shop
  sources:
    - {name: ledger, kind: postgres, url_env: LEDGER_URL, pitr: true, pg_data: /srv/pg}
"""


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    spec = tmp_path / "code.yaml"
    spec.write_text(SPEC)
    monkeypatch.setenv("LEDGER_URL", "postgresql://postgres@/postgres?host=/run/pg&port=5433")
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    monkeypatch.delenv("AWS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    return Settings(env="dev", data_dir=tmp_path / "data", dr_spec=spec)


def test_the_repository_is_under_the_store_prefix(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://s3.example.test:9000")
    setup = load_config(settings).pitr["ledger"]
    assert setup.s3 is not None
    assert (setup.s3.bucket, setup.s3.path) == ("backups", "/shop/pgbackrest/ledger")
    assert (setup.s3.host, setup.s3.port, setup.s3.region) == ("s3.example.test", 9000, "eu-west-3")
    assert setup.repository == settings.data_dir / "pgbackrest" / "ledger"
    rendered = setup.render()
    assert "repo1-type=s3" in rendered and "repo1-s3-uri-style=path" in rendered
    assert "key" not in rendered.replace("repo1-s3-", "")  # no credentials in the file
    assert "--config-include-path=" in setup.archive_command()


def test_a_plain_http_endpoint_is_refused_clearly(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:8333")
    with pytest.raises(DrError, match="only over https"):
        load_config(settings)
