"""Tokens stay tied to their principal: every use checks the principal as it is now.

A token CODE issued names its subject, the subject's kind and roles. It is honoured only
while that principal exists, is enabled, still holds every role the token carries, and
the token was not revoked (logout). The answer is cached for a few seconds, so a change
made by `codectl users disable|revoke`, `codectl clients disable` or a logout takes effect
on every replica within that time, without a database round trip on each request.

Tokens of an external OIDC issuer name principals CODE does not keep; their issuer
answers for them (short lifetimes there).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime, timedelta, timezone

from code_engine.auth import store
from code_engine.auth.roles import Binding
from code_engine.auth.tokens import AuthenticationError, Principal
from code_engine.clock import Clock
from code_engine.store.engine import Database

CACHE_SIZE = 4096


class PrincipalGate:
    """Checks that a token's principal is still allowed what the token says."""

    def __init__(self, db: Database, clock: Clock, *, issuer: str, cache_seconds: float):
        self._db = db
        self._clock = clock
        self._issuer = issuer
        self._ttl = timedelta(seconds=cache_seconds)
        self._cache: OrderedDict[tuple[str, str], tuple[str | None, datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def applies_to(self, principal: Principal) -> bool:
        return principal.issuer == self._issuer

    def cached(self, principal: Principal) -> bool:
        """True when checking this token needs no database (a fresh answer, or not ours)."""
        return not self.applies_to(principal) or self._fresh(principal) is not None

    def check(self, principal: Principal) -> None:
        """Raise AuthenticationError unless the token's principal still stands behind it."""
        if not self.applies_to(principal):
            return
        known = self._fresh(principal)
        verdict = known[0] if known is not None else self._look_up(principal)
        if verdict is not None:
            raise AuthenticationError(verdict)

    def revoke(self, principal: Principal) -> None:
        """Withdraw this token now (logout); other replicas follow within the cache time."""
        if not self.applies_to(principal) or not principal.token_id:
            return
        now = self._clock()
        expires = datetime.fromtimestamp(principal.expires_at, tz=timezone.utc)
        with self._db.session() as session:
            store.revoke_token(session, principal.token_id, principal.name, now, expires)
        self._remember(principal, "token revoked (logged out); log in again", now)

    def forget(self) -> None:
        """Drop every cached answer (after a change made in this process)."""
        with self._lock:
            self._cache.clear()

    def _fresh(self, principal: Principal) -> tuple[str | None] | None:
        key = (principal.name, principal.token_id)
        with self._lock:
            entry = self._cache.get(key)
        if entry is None or entry[1] + self._ttl <= self._clock():
            return None
        return (entry[0],)

    def _look_up(self, principal: Principal) -> str | None:
        now = self._clock()
        with self._db.session() as session:
            row = store.find_principal(session, principal.name)
            if row is None:
                verdict: str | None = "the token's principal no longer exists"
            elif row.disabled:
                verdict = f"{principal.name!r} is disabled"
            elif row.kind != principal.kind:
                verdict = "the token's principal no longer exists"
            elif principal.token_id and store.is_revoked(session, principal.token_id):
                verdict = "token revoked (logged out); log in again"
            else:
                verdict = _lost_roles(principal.bindings, store.bindings_of(session, row.id))
        self._remember(principal, verdict, now)
        return verdict

    def _remember(self, principal: Principal, verdict: str | None, now: datetime) -> None:
        with self._lock:
            self._cache[(principal.name, principal.token_id)] = (verdict, now)
            self._cache.move_to_end((principal.name, principal.token_id))
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)


def _lost_roles(carried: frozenset[Binding], held: frozenset[Binding]) -> str | None:
    lost = sorted(b.render() for b in carried - held)
    if not lost:
        return None
    return (
        f"the token carries roles its principal no longer holds ({', '.join(lost)}); log in again"
    )
