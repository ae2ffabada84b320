"""A service with a real kustomize tree, rendered by the real kubectl."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.kubernetes import kubectl, write_service

from code_engine.spec import ServiceSpec
from code_engine.spec.loader import load_spec


@pytest.fixture
def service(tmp_path: Path) -> Path:
    """A service repository whose environments deliver to `tmp_path/gitops.git`."""
    kubectl()  # without kubectl: skipped, or failed with CODE_TEST_REQUIRE_KUBECTL=1 (CI)
    return write_service(tmp_path / "shop", gitops=str(tmp_path / "gitops.git"))


@pytest.fixture
def spec(service: Path) -> ServiceSpec:
    return load_spec(service / "code.yaml")
