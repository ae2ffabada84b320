"""One real server for the tests of a module; tests that change settings start their own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import Server, running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("server")
    with running_server(root, {"CODE_GITHUB_WEBHOOK_SECRET": "hook-secret-for-tests"}) as running:
        yield running
