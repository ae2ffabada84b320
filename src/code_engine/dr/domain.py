"""Snapshots as data: the manifest, choosing a snapshot for a date or time, RPO and RTO.

Pure: no I/O, the clock and randomness are passed in.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from code_engine.dr.errors import IntegrityError, SnapshotNotFoundError

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{6}$")
_SOURCE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")


@dataclass(frozen=True)
class ObjectEntry:
    """One stored object of a snapshot: its name, sizes and the SHA-256 of the stored bytes."""

    name: str
    raw_bytes: int
    stored_bytes: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """What a snapshot holds; written after every object, so a listed snapshot is complete."""

    id: str
    source: str
    kind: str
    taken_at: datetime
    key_id: str
    release: str
    engine: str
    tools: dict[str, str]
    objects: tuple[ObjectEntry, ...]
    duration_seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)
    format: int = FORMAT_VERSION

    @property
    def raw_bytes(self) -> int:
        return sum(o.raw_bytes for o in self.objects)

    @property
    def stored_bytes(self) -> int:
        return sum(o.stored_bytes for o in self.objects)

    def body(self) -> dict[str, Any]:
        data = asdict(self)
        data["taken_at"] = self.taken_at.isoformat()
        data["objects"] = [asdict(o) for o in self.objects]
        return data

    def to_json(self, mac_key: bytes) -> bytes:
        """The manifest with an HMAC over its canonical form, so a swapped file is caught."""
        body = self.body()
        body["mac"] = _mac(mac_key, body)
        return json.dumps(body, indent=2, sort_keys=True).encode()


def _mac(key: bytes, body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, canonical, hashlib.sha256).hexdigest()


def parse_manifest(raw: bytes, where: str) -> tuple[Manifest, str]:
    """Read a manifest; returns it and its MAC (checked once the key is known)."""
    try:
        data = json.loads(raw)
        mac = str(data.pop("mac"))
        objects = tuple(ObjectEntry(**o) for o in data.pop("objects"))
        taken = datetime.fromisoformat(data.pop("taken_at"))
        manifest = Manifest(objects=objects, taken_at=taken, **data)
    except (ValueError, KeyError, TypeError) as exc:
        raise IntegrityError(f"{where}: not a readable snapshot manifest ({exc})") from None
    return manifest, mac


def check_mac(manifest: Manifest, mac: str, mac_key: bytes, where: str) -> None:
    if not hmac.compare_digest(_mac(mac_key, manifest.body()), mac):
        raise IntegrityError(f"{where}: the manifest was altered or written with another key")


def new_snapshot_id(now: datetime, token: Callable[[int], str]) -> str:
    """`20240115T020700Z-a1b2c3`: sortable by time, unique by a random suffix."""
    return f"{now.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}-{token(3)}"


def is_snapshot_id(text: str) -> bool:
    return bool(_ID.match(text))


def check_source_name(name: str) -> str:
    if not _SOURCE.match(name):
        raise ValueError(
            f"source name {name!r}: use lowercase letters, digits, '-', '_' or '.' (max 63)"
        )
    return name


def snapshot_prefix(source: str, snapshot_id: str) -> str:
    return f"snapshots/{source}/{snapshot_id}/"


def newest(manifests: Sequence[Manifest], source: str | None = None) -> Manifest | None:
    chosen = [m for m in manifests if source is None or m.source == source]
    return max(chosen, key=lambda m: m.taken_at, default=None)


def _nearest(manifests: Sequence[Manifest], moment: datetime, count: int = 3) -> str:
    ranked = sorted(manifests, key=lambda m: abs((m.taken_at - moment).total_seconds()))[:count]
    if not ranked:
        return "there is no snapshot at all"
    names = ", ".join(f"{m.id} ({m.source}, {m.taken_at:%Y-%m-%d %H:%M}Z)" for m in ranked)
    return f"nearest: {names}"


def pick_on_date(manifests: Sequence[Manifest], day: date) -> list[Manifest]:
    """The newest snapshot of each source taken on `day` (UTC); none lists the nearest."""
    found: dict[str, Manifest] = {}
    for m in sorted(manifests, key=lambda m: m.taken_at):
        if m.taken_at.astimezone(timezone.utc).date() == day:
            found[m.source] = m
    if not found:
        noon = datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)
        raise SnapshotNotFoundError(f"no snapshot on {day:%Y-%m-%d}; {_nearest(manifests, noon)}")
    return [found[s] for s in sorted(found)]


def pick_before(manifests: Sequence[Manifest], moment: datetime) -> list[Manifest]:
    """The newest snapshot of each source taken at or before `moment`."""
    found: dict[str, Manifest] = {}
    for m in sorted(manifests, key=lambda m: m.taken_at):
        if m.taken_at <= moment:
            found[m.source] = m
    if not found:
        raise SnapshotNotFoundError(
            f"no snapshot at or before {moment.isoformat()}; {_nearest(manifests, moment)}"
        )
    return [found[s] for s in sorted(found)]


@dataclass(frozen=True)
class Objectives:
    """The recovery promise: at most `rpo` of data lost, back within `rto`."""

    rpo: timedelta
    rto: timedelta


def rpo_breached(newest_at: datetime | None, now: datetime, rpo: timedelta) -> bool:
    """True when no restorable point is younger than the RPO."""
    return newest_at is None or now - newest_at > rpo
