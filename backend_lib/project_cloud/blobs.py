"""Content-addressed blob store on any fsspec file system (a local folder by default).

Layout under the store's root::

    sha256/ab/cdef0123...   a complete blob, named by the SHA-256 of its bytes
    packs/<name>.pack       small blobs of one batch upload, back to back (where each one
                            is, is recorded in the metadata DB: ``packed_blobs``)
    tmp/<random>.part       an upload in progress

An upload is written to ``tmp/``, hashed while it streams, flushed (and fsynced on a local
disk), and only then moved to its ``sha256/`` key (an atomic rename on a local disk). So a
blob under ``sha256/`` is always complete, and a crash at any point leaves at worst a stale
``tmp/`` file, which :meth:`BlobStore.cleanup_temp` removes. The same content is stored
once: an upload whose hash already exists is simply dropped.

On an object store (S3 through s3fs: ``s3://bucket/prefix``) the same layout holds. The
upload streams to the ``tmp/`` key as a multipart upload (parts of ``block_size``, 8 MiB by
default, so memory stays bounded), is hashed on the way, and once complete and verified is
copied server-side to its ``sha256/`` key (``fs.mv``: an S3 copy, which makes the object
appear whole or not at all) and the temp key deleted. Options of the file system go in the
URL's query string (see :func:`parse_storage_url`); credentials come from the usual AWS
environment variables or files.

The metadata DB commits a revision only after its blob is in place, so every committed
revision's blob exists. A blob no revision refers to (its revisions thinned by retention,
an upload that lost a 412 race) stays until the garbage collector (:mod:`project_cloud.gc`)
removes it, safely against uploads that reuse it at the same moment.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from typing import IO, Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
READ_CHUNK = 1024 * 1024
# A temp file untouched this long belongs to no upload in progress (uploads write at least
# every megabyte; the server's idle timeout is shorter): clean-ups remove it.
TEMP_MAX_AGE = 15 * 60


@dataclass(frozen=True, slots=True)
class PackEntry:
    """A blob inside a pack: ``size`` bytes at ``offset`` of pack ``pack``."""

    sha256: str
    pack: str
    offset: int
    size: int


class ChecksumMismatch(ValueError):
    """The uploaded bytes do not hash to what the client announced."""


S3_DEFAULT_BLOCK_SIZE = 8 * 1024 * 1024
OBJECT_STORES = {"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl"}
_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


def _option(value: str) -> Any:
    low = value.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    if re.fullmatch(r"[0-9]+", value):
        return int(value)
    return value


def parse_storage_url(url: str) -> tuple[str, dict[str, Any]]:
    """Split a storage URL into the fsspec URL and the file system's options.

    A local folder (or ``file://``) is taken as it is. For any other fsspec URL, query
    parameters are options of the file system, e.g.
    ``s3://bucket/prefix?endpoint_url=http://127.0.0.1:9000&region_name=eu-west-1``;
    ``true``/``false`` and integers are converted. For S3, ``region_name``, ``verify``
    (``false`` or a CA bundle path) and ``addressing_style`` go to the botocore client;
    listings are never cached (other replicas write to the same bucket) and the upload part
    size is 8 MiB unless ``default_block_size`` says otherwise.
    """
    parsed = urllib.parse.urlsplit(url)
    if len(parsed.scheme) <= 1 or parsed.scheme == "file" or not parsed.query:
        options: dict[str, Any] = {}
        base = url
    else:
        base = urllib.parse.urlunsplit(parsed._replace(query=""))
        options = {
            k: _option(v) for k, v in urllib.parse.parse_qsl(parsed.query, keep_blank_values=False)
        }
    if parsed.scheme in ("s3", "s3a"):
        client_kwargs = dict(options.pop("client_kwargs", None) or {})
        config_kwargs = dict(options.pop("config_kwargs", None) or {})
        for key in ("region_name", "verify"):
            if key in options:
                client_kwargs[key] = options.pop(key)
        if "addressing_style" in options:
            config_kwargs["s3"] = {"addressing_style": options.pop("addressing_style")}
        if client_kwargs:
            options["client_kwargs"] = client_kwargs
        if config_kwargs:
            options["config_kwargs"] = config_kwargs
        options.setdefault("use_listings_cache", False)
        options.setdefault("skip_instance_cache", True)
        options.setdefault("default_block_size", S3_DEFAULT_BLOCK_SIZE)
    return base, options


def redact_storage_url(url: str) -> str:
    """The storage URL without secrets in its query (``key``, ``secret``, ``token`` ...)."""
    parsed = urllib.parse.urlsplit(url)
    if not parsed.query:
        return url
    query = [
        (k, "REDACTED" if k.lower() in {"key", "secret", "token", "password"} else v)
        for k, v in urllib.parse.parse_qsl(parsed.query)
    ]
    return urllib.parse.urlunsplit(parsed._replace(query=urllib.parse.urlencode(query)))


class BlobStore:
    """Blobs named by SHA-256 under the fsspec URL ``url`` (see :func:`parse_storage_url`)."""

    def __init__(self, url: str) -> None:
        self.url = url
        base, options = parse_storage_url(url)
        fs, root = fsspec.core.url_to_fs(base, **options)
        self.fs: fsspec.AbstractFileSystem = fs
        self.root = root.rstrip("/")
        self.local = isinstance(fs, LocalFileSystem)
        self._in_use: set[str] = set()  # temp keys of this process's uploads in progress
        self._in_use_lock = threading.Lock()
        protocols = {fs.protocol} if isinstance(fs.protocol, str) else set(fs.protocol)
        self.object_store = bool(protocols & OBJECT_STORES)
        if not self.object_store:
            self.fs.makedirs(f"{self.root}/sha256", exist_ok=True)
            self.fs.makedirs(f"{self.root}/tmp", exist_ok=True)
        elif not self.fs.exists(self.root.split("/", 1)[0]):
            # Object stores have no folders, and we do not create buckets: it must exist.
            raise FileNotFoundError(f"the bucket of {redact_storage_url(url)} does not exist")

    def key(self, sha256: str) -> str:
        if not SHA256_RE.match(sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return f"{self.root}/sha256/{sha256[:2]}/{sha256[2:]}"

    def exists(self, sha256: str) -> bool:
        return bool(self.fs.exists(self.key(sha256)))

    def size(self, sha256: str) -> int:
        return int(self.fs.size(self.key(sha256)))

    def open_read(self, sha256: str) -> IO[bytes]:
        """The blob's bytes as a binary file; read it in chunks."""
        return self.fs.open(self.key(sha256), "rb")  # type: ignore[no-any-return]

    def writer(self) -> BlobWriter:
        """Start an upload; call :meth:`BlobWriter.commit` or :meth:`BlobWriter.abort`."""
        return BlobWriter(self, self._temp_key(uuid.uuid4().hex))

    def _temp_key(self, name: str) -> str:
        """A new temp key, marked in use (so no clean-up removes it) until released."""
        key = f"{self.root}/tmp/{name}.part"
        with self._in_use_lock:
            self._in_use.add(key)
        return key

    def _release(self, key: str) -> None:
        with self._in_use_lock:
            self._in_use.discard(key)

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        """Store ``data`` (small blobs, tests); returns ``(sha256, size)``."""
        w = self.writer()
        try:
            w.write(data)
            return w.commit()
        except BaseException:
            w.abort()
            raise

    def write_pack(
        self, contents: list[tuple[str, memoryview]], stored: set[str]
    ) -> tuple[list[bool], list[PackEntry]]:
        """Store many small blobs as one pack file: ``(sha256, bytes)`` pairs, each checked
        against its hash. Returns, per pair, whether the bytes matched, and where each new
        blob is in the pack (the caller records these; a pack nobody records is garbage).
        Blobs in ``stored`` (already in the store) and repeats are checked, not written.

        One file written and flushed once for the whole batch, instead of a file, an fsync
        and a directory fsync per blob: small files cost one disk flush per batch. The pack
        is complete before its name is published (temp file, fsync, rename, fsync of the
        folder; on an object store a single PUT)."""
        name = uuid.uuid4().hex
        matched = [hashlib.sha256(data).hexdigest() == sha256 for sha256, data in contents]
        entries: list[PackEntry] = []
        chunks: list[memoryview] = []
        offset = 0
        seen = set(stored)
        for (sha256, data), good in zip(contents, matched, strict=True):
            if good and sha256 not in seen:
                seen.add(sha256)
                entries.append(PackEntry(sha256, name, offset, len(data)))
                chunks.append(data)
                offset += len(data)
        if not entries:
            return matched, []
        final = self.pack_key(name)
        if not self.local:
            self.fs.pipe_file(final, b"".join(chunks))
            return matched, entries
        tmp = self._temp_key(name)
        try:
            with open(tmp, "xb") as handle:
                for chunk in chunks:
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            self._publish(tmp, final)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        finally:
            self._release(tmp)
        return matched, entries

    def pack_key(self, name: str) -> str:
        if not re.fullmatch(r"[0-9a-f]{32}", name):
            raise ValueError(f"not a pack name: {name!r}")
        return f"{self.root}/packs/{name}.pack"

    def read_packed(self, entry: PackEntry) -> bytes:
        """A packed blob's bytes (packed blobs are small)."""
        if entry.size == 0:
            return b""  # (to an object store, a range ending at 0 would mean "to the end")
        data = bytes(
            self.fs.cat_file(
                self.pack_key(entry.pack), start=entry.offset, end=entry.offset + entry.size
            )
        )
        if len(data) != entry.size:
            raise OSError(f"pack {entry.pack} is shorter than its index says")
        return data

    def read_bytes(self, sha256: str) -> bytes:
        with self.open_read(sha256) as f:
            return f.read()

    def delete(self, sha256: str) -> None:
        """Remove a blob (garbage collection; the caller checks nothing refers to it)."""
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(self.key(sha256))

    def _ls_tmp(self) -> list[dict[str, Any]]:
        try:
            entries = self.fs.ls(f"{self.root}/tmp", detail=True)
        except FileNotFoundError:  # an object store with no upload in progress
            return []
        return [e for e in entries if e.get("type") != "directory"]

    def temp_files(self) -> list[str]:
        return [str(e["name"]) for e in self._ls_tmp()]

    def cleanup_temp(self, older_than_seconds: float = TEMP_MAX_AGE) -> int:
        """Delete uploads left in ``tmp/`` by a killed process: those not in use here and
        untouched for the given age (so that another replica's upload in progress, which
        writes at least every megabyte, survives). Returns how many were removed."""
        removed = 0
        now = time.time()
        with self._in_use_lock:
            in_use = set(self._in_use)
        for info in self._ls_tmp():
            if info["name"] in in_use:
                continue
            mtime = _mtime(info)
            if mtime is None or now - mtime >= older_than_seconds:
                try:
                    self.fs.rm(info["name"])
                    removed += 1
                except FileNotFoundError:
                    pass
        return removed

    def _publish(self, tmp_key: str, final_key: str) -> None:
        parent = final_key.rsplit("/", 1)[0]
        if self.local:
            os.makedirs(parent, exist_ok=True)
            os.replace(tmp_key, final_key)
            _fsync_dir(parent)
        else:
            self.fs.makedirs(parent, exist_ok=True)
            self.fs.mv(tmp_key, final_key)


class BlobWriter:
    """An upload in progress: bytes go to a temp key and through SHA-256."""

    def __init__(self, store: BlobStore, tmp_key: str) -> None:
        self.store = store
        self.tmp_key = tmp_key
        self.size = 0
        self._hash = hashlib.sha256()
        self._file: Any = store.fs.open(tmp_key, "wb")
        self._done = False

    def write(self, data: bytes) -> None:
        self._hash.update(data)
        self._file.write(data)
        self.size += len(data)

    def commit(self, expected_sha256: str | None = None) -> tuple[str, int]:
        """Finish the upload; returns ``(sha256, size)``. Raises :class:`ChecksumMismatch`
        (and drops the upload) when ``expected_sha256`` is given and differs."""
        if self._done:
            raise RuntimeError("blob writer already finished")
        self._file.flush()
        if self.store.local:
            os.fsync(self._file.fileno())
        self._file.close()
        sha256 = self._hash.hexdigest()
        if expected_sha256 is not None and expected_sha256.lower() != sha256:
            self.abort()
            raise ChecksumMismatch(
                f"the body's SHA-256 is {sha256}, not the announced {expected_sha256}"
            )
        final_key = self.store.key(sha256)
        if self.store.fs.exists(final_key):
            self._remove_tmp()
            if self.store.local:  # fresh mtime: a future age-based GC must not race this use
                with contextlib.suppress(OSError):
                    os.utime(final_key)
        else:
            self.store._publish(self.tmp_key, final_key)
            self.store._release(self.tmp_key)
        self._done = True
        return sha256, self.size

    def abort(self) -> None:
        """Drop the upload (idempotent)."""
        if self._done:
            return
        self._done = True
        f = self._file
        discard = getattr(f, "discard", None)
        if not self.store.local and callable(discard) and not f.closed:
            # An object store: abort the multipart upload; closing would complete it.
            with contextlib.suppress(Exception):
                discard()
            f.closed = True
        else:
            with contextlib.suppress(Exception):
                f.close()
        self._remove_tmp()

    def _remove_tmp(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.store.fs.rm(self.tmp_key)
        self.store._release(self.tmp_key)


def _mtime(info: dict[str, Any]) -> float | None:
    for key in ("mtime", "LastModified", "last_modified", "created"):
        value = info.get(key)
        if value is None:
            continue
        if hasattr(value, "timestamp"):
            return float(value.timestamp())
        try:
            return float(value)
        except (TypeError, ValueError):
            continue
    return None


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
