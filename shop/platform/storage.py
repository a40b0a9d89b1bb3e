"""Where uploaded files are kept: one small interface over a local folder (the default, `DOCUMENTS_DIR`) and
S3-compatible object storage (`DOCUMENTS_S3_BUCKET`, through boto3).

Every file is stored under a generated name (`storage().put(data, suffix=".pdf")` answers it); nothing a person
typed ever becomes part of a path or an object key."""
from __future__ import annotations

import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import Protocol

from flask import Flask, current_app

EXTENSION = "shop.storage"
_KEY = re.compile(r"[0-9a-f]{32}\.(pdf|png|jpg)")


class StoredFileMissing(LookupError):
    """A key that names no stored file (deleted by hand, or storage pointed elsewhere)."""


class Storage(Protocol):
    def put(self, data: bytes, *, suffix: str) -> str:
        """Store `data` under a new generated name ending in `suffix` ('.pdf'); the name (the key)."""

    def get(self, key: str) -> bytes:
        """The bytes stored under `key`; StoredFileMissing when there are none."""

    def delete(self, key: str) -> None:
        """Remove the file stored under `key` (nothing when there is none)."""


def new_key(suffix: str) -> str:
    """A fresh unguessable name for a stored file: 32 hex digits and the suffix."""
    key = secrets.token_hex(16) + suffix
    _checked(key)
    return key


def _checked(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise StoredFileMissing(f"{key!r} is not a stored file's name")
    return key


class LocalStorage:
    """Files in one folder; each written to a temporary file first and moved into place, so that a reader never
    sees half a file."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def put(self, data: bytes, *, suffix: str) -> str:
        key = new_key(suffix)
        self.root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.root, prefix=".upload-", delete=False) as handle:
            handle.write(data)
        os.replace(handle.name, self.root / key)
        return key

    def get(self, key: str) -> bytes:
        try:
            return (self.root / _checked(key)).read_bytes()
        except FileNotFoundError:
            raise StoredFileMissing(key) from None

    def delete(self, key: str) -> None:
        (self.root / _checked(key)).unlink(missing_ok=True)


class S3Storage:
    """Objects in one bucket of S3 or any S3-compatible store (MinIO, Ceph, R2…), under an optional prefix."""

    def __init__(self, bucket: str, *, prefix: str = "", endpoint_url: str | None = None,
                 region: str | None = None) -> None:
        import boto3  # only a shop that stores in S3 loads it

        self.bucket = bucket
        self.prefix = f"{prefix}/" if prefix else ""
        self.client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)

    def put(self, data: bytes, *, suffix: str) -> str:
        key = new_key(suffix)
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data)
        return key

    def get(self, key: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.prefix + _checked(key))
        except self.client.exceptions.NoSuchKey:
            raise StoredFileMissing(key) from None
        return answer["Body"].read()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + _checked(key))


def make_storage(config: dict) -> Storage:
    """The storage the settings name: S3 when DOCUMENTS_S3_BUCKET is set, else the local DOCUMENTS_DIR."""
    if config.get("DOCUMENTS_S3_BUCKET"):
        return S3Storage(config["DOCUMENTS_S3_BUCKET"], prefix=config.get("DOCUMENTS_S3_PREFIX", ""),
                         endpoint_url=config.get("DOCUMENTS_S3_ENDPOINT_URL"),
                         region=config.get("DOCUMENTS_S3_REGION"))
    return LocalStorage(config["DOCUMENTS_DIR"])


def init_storage(app: Flask) -> None:
    app.extensions[EXTENSION] = make_storage(app.config)


def storage() -> Storage:
    """This app's storage (one client per process: boto3's clients are thread-safe)."""
    return current_app.extensions[EXTENSION]
