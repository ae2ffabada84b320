"""An in-memory GitHub REST API: recorded responses by path."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FakeGitHub:
    """Answers each path from `responses` ((status, body)); any other path is a 404."""

    responses: dict[str, tuple[int, Any]] = field(default_factory=dict)
    host: str = "github.com"
    asked: list[str] = field(default_factory=list)

    def get(self, path: str) -> tuple[int, Any]:
        self.asked.append(path)
        return self.responses.get(path, (404, {"message": "Not Found"}))
