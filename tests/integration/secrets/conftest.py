"""One OpenBao dev server for the secrets integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.support.openbao import OpenBao, openbao


@pytest.fixture(scope="session")
def bao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenBao]:
    with openbao(tmp_path_factory.mktemp("openbao")) as server:
        yield server
