"""A rotated key is published before it signs; a running ring sees another process's rotation."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from code_engine.auth.keys import KeyRing
from code_engine.auth.tokens import TokenService


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def _ring(directory: Path, clock: Clock) -> KeyRing:
    return KeyRing(directory, "a long passphrase", clock, timedelta(hours=1)).load_or_create()


def _kids(ring: KeyRing) -> set[str]:
    return {key["kid"] for key in ring.jwks()["keys"]}


def test_a_new_key_is_published_before_it_signs(tmp_path: Path) -> None:
    clock = Clock()
    ring = _ring(tmp_path, clock)
    old = ring.active.kid
    new = ring.rotate(timedelta(seconds=60))
    assert _kids(ring) == {old, new.kid}
    assert ring.active.kid == old
    clock.now += timedelta(seconds=59)
    assert ring.active.kid == old
    clock.now += timedelta(seconds=1)
    assert ring.active.kid == new.kid
    # the old key verifies the tokens it signed for the grace period after it stopped signing
    assert ring.verifying_key(old) is not None
    clock.now += timedelta(hours=1)
    assert ring.verifying_key(old) is None
    assert _kids(ring) == {new.kid}


def test_a_running_ring_picks_up_a_rotation_made_elsewhere(tmp_path: Path) -> None:
    clock = Clock()
    server = _ring(tmp_path, clock)
    tokens = TokenService(server, clock, issuer="code", audience="code")
    before = tokens.issue("ci", "client", frozenset(), 600).access_token
    # `codectl auth rotate-keys` in another process: its own ring on the same directory
    rotated = _ring(tmp_path, clock).rotate(timedelta(seconds=10))
    assert rotated.kid in _kids(server)
    assert server.active.kid != rotated.kid
    clock.now += timedelta(seconds=10)
    assert server.active.kid == rotated.kid
    after = tokens.issue("ci", "client", frozenset(), 600).access_token
    replica = TokenService(_ring(tmp_path, clock), clock, issuer="code", audience="code")
    assert replica.verify(before).name == replica.verify(after).name == "ci"


def test_a_ring_caught_mid_rotation_keeps_its_keys(tmp_path: Path) -> None:
    clock = Clock()
    ring = _ring(tmp_path, clock)
    kid = ring.active.kid
    (tmp_path / "ring.json").write_text('{"keys": [{"kid": "gone", "created": "x"}]}')
    assert ring.active.kid == kid  # unreadable for now: the known keys still serve
