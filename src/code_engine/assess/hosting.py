"""The GitHub REST API, for what only the host knows: branch protection and code review.

`GitHubApi` is the one thing the checks need (GET a path, get the status and JSON back);
`HttpGitHub` is the real client. Without a token there is no API, and the checks that need it
say "unknown"; a repository whose `origin` is not on GitHub gets "not applicable".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

DEFAULT_API = "https://api.github.com"
_SCP = re.compile(r"^[\w.-]+@([\w.-]+):(.+)$")  # git@github.com:owner/name.git


class GitHubApi(Protocol):
    """GET a path of the GitHub REST API: (HTTP status, decoded JSON or None); status 0 when
    the API could not be reached."""

    host: str

    def get(self, path: str) -> tuple[int, Any]: ...


@dataclass(frozen=True)
class GitHubRepo:
    owner: str
    name: str

    @property
    def path(self) -> str:
        return f"/repos/{self.owner}/{self.name}"


def github_repo(origin: str | None, host: str = "github.com") -> GitHubRepo | None:
    """The owner and name of a GitHub repository from its `origin` URL (https, ssh or scp)."""
    if not origin:
        return None
    scp = _SCP.match(origin)
    if scp and "://" not in origin:
        found_host, path = scp.group(1), scp.group(2)
    else:
        parts = urlsplit(origin)
        found_host, path = parts.hostname or "", parts.path
    if found_host.lower() != host.lower():
        return None
    segments = [s for s in path.strip("/").removesuffix(".git").split("/") if s]
    if len(segments) != 2:
        return None
    return GitHubRepo(segments[0], segments[1])


def web_host(api_url: str) -> str:
    """The host repositories are cloned from for an API URL (`api.github.com` -> `github.com`,
    `https://ghe.example/api/v3` -> `ghe.example`)."""
    host = urlsplit(api_url).hostname or ""
    return "github.com" if host == "api.github.com" else host


class HttpGitHub:
    """The real API over HTTPS with a token (`Authorization: Bearer`)."""

    def __init__(self, token: str, base_url: str = DEFAULT_API, timeout: float = 10.0) -> None:
        import httpx

        self.host = web_host(base_url)
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "codectl-assess",
            },
        )

    def get(self, path: str) -> tuple[int, Any]:
        import httpx

        try:
            response = self._client.get(path)
        except httpx.HTTPError:
            return 0, None
        try:
            body = response.json()
        except ValueError:
            body = None
        return response.status_code, body

    def close(self) -> None:
        self._client.close()
