"""S3-compatible object storage through boto3.

Endpoint, region and credentials come from the standard environment (`AWS_ENDPOINT_URL`,
`AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, or a profile). Large objects go up
in parts; 500s and SlowDown are retried with exponential backoff before the store is declared
unavailable.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, cast

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from code_engine.dr.errors import DrError, IntegrityError, StoreUnavailableError
from code_engine.errors import CodeError

MULTIPART_THRESHOLD = 64 * 1024 * 1024
_MISSING = {"404", "NoSuchKey", "NotFound"}


class S3Store:
    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        max_attempts: int = 5,
        multipart_threshold: int = MULTIPART_THRESHOLD,
        timeout: float = 20.0,
    ) -> None:
        self.bucket, self.prefix = bucket, prefix.strip("/")
        config = Config(
            retries={"total_max_attempts": max_attempts, "mode": "standard"},
            connect_timeout=timeout,
            read_timeout=timeout,
            signature_version="s3v4",
        )
        self._client: Any = boto3.client("s3", config=config)
        self._transfer = TransferConfig(
            multipart_threshold=multipart_threshold,
            multipart_chunksize=max(multipart_threshold, 5 * 1024 * 1024),
            max_concurrency=4,
        )
        self._staging = Path(tempfile.gettempdir()) / "code-dr-staging"

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def _fail(self, exc: Exception, what: str) -> CodeError:
        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _MISSING:
                return IntegrityError(f"{self.url}/{what}: object missing")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            answer = " ".join(str(part) for part in (status, code) if part and part != str(status))
            return StoreUnavailableError(
                f"{self.url}: {what}: the store answered {answer} after retries"
            )
        return StoreUnavailableError(f"{self.url}: {what}: store unreachable ({exc})")

    def staging(self) -> Path:
        self._staging.mkdir(parents=True, exist_ok=True)
        return self._staging

    def exists(self, name: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=self._key(name))
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code", "")) in _MISSING:
                return False
            raise self._fail(exc, name) from None
        except BotoCoreError as exc:
            raise self._fail(exc, name) from None
        return True

    def put(self, name: str, path: Path) -> None:
        if self.exists(name):
            raise DrError(f"{self.url}/{name}: exists already; snapshots are never rewritten")
        try:
            self._client.upload_file(str(path), self.bucket, self._key(name), Config=self._transfer)
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, name) from None
        except Exception as exc:  # s3transfer wraps failures of a part in its own errors
            raise self._fail(exc, name) from None

    @contextmanager
    def open(self, name: str) -> Iterator[BinaryIO]:
        try:
            answer = self._client.get_object(Bucket=self.bucket, Key=self._key(name))
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, name) from None
        body = answer["Body"]
        try:
            yield cast(BinaryIO, body)
        finally:
            body.close()

    def names(self, prefix: str) -> list[str]:
        found: list[str] = []
        start = self._key(prefix)
        strip = len(self.prefix) + 1 if self.prefix else 0
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=start
            )
            for page in pages:
                found.extend(item["Key"][strip:] for item in page.get("Contents", []))
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, prefix or "list") from None
        return sorted(found)

    def delete(self, name: str) -> None:
        try:
            self._client.delete_object(Bucket=self.bucket, Key=self._key(name))
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, name) from None
