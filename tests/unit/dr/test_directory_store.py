"""The directory store: whole objects or none, never rewritten, never outside its root."""

from __future__ import annotations

from pathlib import Path

import pytest

from code_engine.dr.errors import DrError, IntegrityError
from code_engine.dr.stores import DirectoryStore, open_store


def test_put_open_names_delete(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "store"))
    assert isinstance(store, DirectoryStore)
    staged = store.staging() / "blob"
    staged.write_bytes(b"payload")
    store.put("snapshots/a/1/data", staged)
    assert not staged.exists()  # moved, not copied
    outside = tmp_path / "outside"
    outside.write_bytes(b"copied in")
    store.put("snapshots/a/1/manifest.json", outside)
    assert outside.exists()
    assert store.names("snapshots/") == ["snapshots/a/1/data", "snapshots/a/1/manifest.json"]
    with store.open("snapshots/a/1/data") as handle:
        assert handle.read() == b"payload"
    with pytest.raises(DrError, match="never rewritten"):
        store.put("snapshots/a/1/data", outside)
    with pytest.raises(DrError, match="leaves the store"):
        store.put("../escape", outside)
    store.delete("snapshots/a/1/data")
    store.delete("snapshots/a/1/manifest.json")
    assert store.names("") == [] and not (tmp_path / "store" / "snapshots").exists()
    with pytest.raises(IntegrityError, match="missing"), store.open("snapshots/a/1/data"):
        pass
    assert open_store(f"file://{tmp_path / 'store'}").url == store.url
    with pytest.raises(DrError, match="unsupported store"):
        open_store("ftp://host/x")
    with pytest.raises(DrError, match="needs a bucket"):
        open_store("s3:///prefix")
