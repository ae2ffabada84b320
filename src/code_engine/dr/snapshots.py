"""Snapshots in a store: written objects first and manifest last, listed, read back, copied."""

from __future__ import annotations

import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from code_engine.clock import Clock
from code_engine.dr.domain import (
    MANIFEST,
    Manifest,
    ObjectEntry,
    check_mac,
    new_snapshot_id,
    parse_manifest,
    snapshot_prefix,
)
from code_engine.dr.errors import IntegrityError, KeyProblemError, SourceMismatchError
from code_engine.dr.format import DecryptingReader, EncryptingWriter
from code_engine.dr.keys import BackupKey
from code_engine.dr.sources import Source
from code_engine.dr.sources.base import Readable, Writable, os_error, remove_path
from code_engine.dr.stores import Store

DATA_OBJECT = "data"
OnBytes = Callable[[int], None]


class _Counting:
    """Passes writes through and reports the byte count (progress bars)."""

    def __init__(self, inner: Writable, on_bytes: OnBytes | None) -> None:
        self.inner, self.on_bytes = inner, on_bytes

    def write(self, data: bytes | bytearray | memoryview) -> int:
        written = self.inner.write(data)
        if self.on_bytes is not None:
            self.on_bytes(len(data))
        return written


class CountingReader:
    """Passes reads through and reports the byte count (a restore's progress)."""

    def __init__(self, inner: Readable, on_bytes: OnBytes | None) -> None:
        self.inner, self.on_bytes = inner, on_bytes

    def read(self, size: int = -1) -> bytes:
        data = self.inner.read(size)
        if self.on_bytes is not None and data:
            self.on_bytes(len(data))
        return data


def _context(manifest_source: str, snapshot_id: str, name: str) -> str:
    return f"{manifest_source}/{snapshot_id}/{name}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_staging(store: Store) -> None:
    """Remove what a killed backup left in the staging area (its process is gone)."""
    root = store.staging()
    for entry in root.iterdir():
        pid = entry.name.split("-", 1)[0]
        if pid.isdigit() and not _pid_alive(int(pid)):
            remove_path(entry)


@contextmanager
def _staging_dir(store: Store, snapshot_id: str) -> Iterator[Path]:
    path = store.staging() / f"{os.getpid()}-{snapshot_id}"
    path.mkdir(parents=True, exist_ok=False)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@dataclass(frozen=True)
class Snapshot:
    """A manifest as found in a store, with the store it was read from."""

    manifest: Manifest
    mac: str
    store: Store


def write_snapshot(
    store: Store,
    key: BackupKey,
    source: Source,
    *,
    clock: Clock,
    release: str,
    on_bytes: OnBytes | None = None,
    token: Callable[[int], str] = secrets.token_hex,
) -> Manifest:
    """Dump `source` into a new snapshot; the manifest is the last thing written."""
    started = time.monotonic()
    taken_at = clock()
    snapshot_id = new_snapshot_id(taken_at, token)
    prefix = snapshot_prefix(source.name, snapshot_id)
    engine, tools = source.versions()
    with _staging_dir(store, snapshot_id) as staging:
        path = staging / DATA_OBJECT
        try:
            with path.open("wb") as handle:
                writer = EncryptingWriter(
                    handle, key, _context(source.name, snapshot_id, DATA_OBJECT)
                )
                try:
                    details = source.dump(_Counting(writer, on_bytes), staging)
                    digest = writer.finish()
                finally:
                    writer.abort()
        except OSError as exc:
            raise os_error(exc, str(staging)) from None
        entry = ObjectEntry(DATA_OBJECT, writer.raw_bytes, writer.stored_bytes, digest)
        store.put(prefix + DATA_OBJECT, path)
        manifest = Manifest(
            id=snapshot_id,
            source=source.name,
            kind=source.kind,
            taken_at=taken_at,
            key_id=key.id,
            release=release,
            engine=engine,
            tools=tools,
            objects=(entry,),
            duration_seconds=round(time.monotonic() - started, 3),
            details=details,
        )
        manifest_path = staging / MANIFEST
        manifest_path.write_bytes(manifest.to_json(key.derive("manifest")))
        store.put(prefix + MANIFEST, manifest_path)
    return manifest


def list_snapshots(store: Store) -> tuple[list[Snapshot], list[str]]:
    """Every complete snapshot (one with a manifest), and problems with unreadable ones."""
    found: list[Snapshot] = []
    problems: list[str] = []
    for name in store.names("snapshots/"):
        if not name.endswith("/" + MANIFEST):
            continue
        try:
            found.append(load_snapshot(store, name))
        except (IntegrityError, SourceMismatchError) as exc:
            problems.append(str(exc))
    found.sort(key=lambda s: s.manifest.taken_at)
    return found, problems


def load_snapshot(store: Store, name: str) -> Snapshot:
    with store.open(name) as handle:
        raw = handle.read()
    manifest, mac = parse_manifest(raw, f"{store.url}/{name}")
    expected = snapshot_prefix(manifest.source, manifest.id) + MANIFEST
    if name != expected:
        raise SourceMismatchError(
            f"{store.url}/{name}: the manifest is of snapshot {manifest.id} of source "
            f"{manifest.source!r}, not of the snapshot its place names"
        )
    return Snapshot(manifest, mac, store)


def check_key(snapshot: Snapshot, key: BackupKey) -> None:
    m = snapshot.manifest
    if m.key_id != key.id:
        raise KeyProblemError(
            f"snapshot {m.id} was encrypted with key {m.key_id}; the key given is {key.id}"
        )
    check_mac(m, snapshot.mac, key.derive("manifest"), f"{snapshot.store.url} snapshot {m.id}")


@contextmanager
def open_data(snapshot: Snapshot, key: BackupKey) -> Iterator[DecryptingReader]:
    """The decrypted, decompressed stream of the snapshot's data object."""
    check_key(snapshot, key)
    m = snapshot.manifest
    entry = m.objects[0]
    name = snapshot_prefix(m.source, m.id) + entry.name
    with snapshot.store.open(name) as handle:
        reader = DecryptingReader(
            handle, key, _context(m.source, m.id, entry.name), f"{snapshot.store.url}/{name}"
        )
        try:
            yield reader
        finally:
            reader.close()


def verify_objects(snapshot: Snapshot, key: BackupKey) -> dict[str, Any]:
    """Read back every object: authenticate every chunk, compare size and SHA-256."""
    check_key(snapshot, key)
    m = snapshot.manifest
    checked = []
    for entry in m.objects:
        name = snapshot_prefix(m.source, m.id) + entry.name
        where = f"{snapshot.store.url}/{name}"
        with snapshot.store.open(name) as handle:
            reader = DecryptingReader(handle, key, _context(m.source, m.id, entry.name), where)
            try:
                digest = reader.drain()
            finally:
                reader.close()
        if reader.stored_bytes != entry.stored_bytes or digest != entry.sha256:
            raise IntegrityError(f"{where}: size or SHA-256 differs from the manifest")
        checked.append(entry.name)
    return {"objects": checked, "stored_bytes": m.stored_bytes}


def copy_snapshot(snapshot: Snapshot, target: Store) -> Snapshot:
    """Copy a snapshot to another store (objects, then manifest) and verify it there by hash."""
    m = snapshot.manifest
    prefix = snapshot_prefix(m.source, m.id)
    with _staging_dir(target, m.id + "-copy") as staging:
        for name in [*(o.name for o in m.objects), MANIFEST]:
            path = staging / name
            with snapshot.store.open(prefix + name) as src, path.open("wb") as out:
                shutil.copyfileobj(src, out, 4 * 1024 * 1024)
            target.put(prefix + name, path)
    return load_snapshot(target, prefix + MANIFEST)


def delete_snapshot(snapshot: Snapshot) -> None:
    """Manifest first, so a half-deleted snapshot is never listed."""
    m = snapshot.manifest
    prefix = snapshot_prefix(m.source, m.id)
    snapshot.store.delete(prefix + MANIFEST)
    for name in snapshot.store.names(prefix):
        snapshot.store.delete(name)


def read_all(reader: Readable, out: Writable) -> None:
    while True:
        block = reader.read(4 * 1024 * 1024)
        if not block:
            return
        out.write(block)
