"""The blob store on S3 (s3fs against moto's server mode, or ``PROJECT_CLOUD_TEST_S3_ENDPOINT``):
streamed multipart uploads with bounded memory, SHA-256 verified before the blob is
published, no half-written blob ever under ``sha256/``, storage URL options.

Skipped without an S3 server; failed instead with ``PFB_REQUIRE_TEAM_STACK=1``.
"""

from __future__ import annotations

import hashlib
import os

import pytest
import s3fs

from project_cloud.blobs import (
    S3_DEFAULT_BLOCK_SIZE,
    BlobStore,
    ChecksumMismatch,
    parse_storage_url,
    redact_storage_url,
)
from support.team_stack import create_bucket


@pytest.fixture
def store(s3_endpoint_url: str) -> BlobStore:
    return BlobStore(create_bucket(s3_endpoint_url) + "&default_block_size=5242880")


def sha256_keys(store: BlobStore) -> list[str]:
    try:
        return sorted(store.fs.find(f"{store.root}/sha256"))
    except FileNotFoundError:
        return []


def test_parse_storage_url() -> None:
    assert parse_storage_url("/srv/blobs") == ("/srv/blobs", {})
    assert parse_storage_url("file:///srv/blobs") == ("file:///srv/blobs", {})
    base, opts = parse_storage_url(
        "s3://bucket/pre/fix?endpoint_url=http://127.0.0.1:9000&region_name=eu-west-1"
        "&verify=false&addressing_style=path&anon=false"
    )
    assert base == "s3://bucket/pre/fix"
    assert opts == {
        "endpoint_url": "http://127.0.0.1:9000",
        "anon": False,
        "client_kwargs": {"region_name": "eu-west-1", "verify": False},
        "config_kwargs": {"s3": {"addressing_style": "path"}},
        "use_listings_cache": False,
        "skip_instance_cache": True,
        "default_block_size": S3_DEFAULT_BLOCK_SIZE,
    }
    _, opts = parse_storage_url("s3://b?default_block_size=16777216")
    assert opts["default_block_size"] == 16 * 1024 * 1024
    assert (
        redact_storage_url("s3://b/p?endpoint_url=http://h&key=AKIA&secret=s3cr3t")
        == "s3://b/p?endpoint_url=http%3A%2F%2Fh&key=REDACTED&secret=REDACTED"
    )


def test_a_missing_bucket_is_refused(s3_endpoint_url: str) -> None:
    with pytest.raises(FileNotFoundError, match="bucket"):
        BlobStore(f"s3://no-such-bucket-pfb/x?endpoint_url={s3_endpoint_url}&key=k&secret=s")


def test_streamed_upload_is_verified_then_published(store: BlobStore) -> None:
    assert isinstance(store.fs, s3fs.S3FileSystem)
    chunk = os.urandom(1024 * 1024)
    block = store.fs.default_block_size
    assert block == 5 * 1024 * 1024
    expected = hashlib.sha256()
    w = store.writer()
    for i in range(13):  # 13 MiB: a multipart upload of 5 MiB parts
        data = chunk[i:] + chunk[:i]
        w.write(data)
        expected.update(data)
        # memory stays bounded: at most one part buffered
        assert w._file.buffer.tell() <= block + len(data)
        # nothing is visible under sha256/ while the upload streams
        assert sha256_keys(store) == []
    assert w._file.parts, "the upload went out as a multipart upload"
    sha, size = w.commit(expected.hexdigest())
    assert (sha, size) == (expected.hexdigest(), 13 * 1024 * 1024)
    assert sha256_keys(store) == [store.key(sha)]
    assert store.temp_files() == []
    assert store.size(sha) == size
    got = hashlib.sha256()
    with store.open_read(sha) as f:
        while block_data := f.read(4 * 1024 * 1024):
            got.update(block_data)
    assert got.hexdigest() == sha


def test_checksum_mismatch_and_abort_leave_nothing(store: BlobStore) -> None:
    w = store.writer()
    w.write(b"x" * (6 * 1024 * 1024))  # one part already uploaded
    with pytest.raises(ChecksumMismatch):
        w.commit("0" * 64)
    w = store.writer()
    w.write(b"y" * 100)
    w.abort()
    w = store.writer()
    w.write(b"z" * (6 * 1024 * 1024))  # a client gone mid-upload: the multipart is aborted
    assert w._file.mpu
    w.abort()
    assert sha256_keys(store) == []
    assert store.temp_files() == []
    bucket = store.root.split("/", 1)[0]
    pending = store.fs.call_s3("list_multipart_uploads", Bucket=bucket).get("Uploads", [])
    assert pending == []


def test_dedupe_and_stale_temp_cleanup(store: BlobStore) -> None:
    a = store.put_bytes(b"same")
    b = store.put_bytes(b"same")
    assert a == b and sha256_keys(store) == [store.key(a[0])]
    assert store.read_bytes(a[0]) == b"same"
    store.fs.pipe(f"{store.root}/tmp/crashed.part", b"partial")
    assert store.cleanup_temp(older_than_seconds=3600) == 0  # young: maybe another replica's
    assert store.cleanup_temp(older_than_seconds=0) == 1
    assert store.temp_files() == []
    store.delete(a[0])
    assert not store.exists(a[0])
