"""Where snapshots live: one small `Store` protocol, a directory and S3-compatible storage."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from code_engine.dr.errors import DrError
from code_engine.dr.stores.base import Store
from code_engine.dr.stores.directory import DirectoryStore

__all__ = ["DirectoryStore", "Store", "open_store"]


def open_store(location: str) -> Store:
    """A directory path, `file:///path`, or `s3://bucket/prefix` (boto3, settings from env)."""
    if location.startswith("s3://"):
        from code_engine.dr.stores.s3 import S3Store

        url = urlsplit(location)
        if not url.netloc:
            raise DrError(f"{location}: an S3 store needs a bucket: s3://bucket/prefix")
        attempts = os.environ.get("AWS_MAX_ATTEMPTS", "")
        return S3Store(
            url.netloc, url.path.strip("/"), max_attempts=int(attempts) if attempts.isdigit() else 5
        )
    if location.startswith("file://"):
        return DirectoryStore(Path(urlsplit(location).path))
    if "://" in location:
        raise DrError(f"{location}: unsupported store; use a directory or s3://bucket/prefix")
    return DirectoryStore(Path(location))
