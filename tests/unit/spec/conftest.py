"""Spec texts shared by the spec unit tests."""

from __future__ import annotations

import pytest

MINIMAL = """\
service: shop
repo: https://example.com/shop.git
environments:
  - name: dev
    target:
      kind: local
      command: uvicorn shop:app --port {port}
"""


@pytest.fixture
def minimal() -> str:
    """The smallest valid code.yaml: a service with one local environment."""
    return MINIMAL
