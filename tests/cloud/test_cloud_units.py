"""Unit tests: path rules, the blob store, preconditions, migrations, embedded helpers."""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
from pathlib import Path

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from project_cloud.blobs import BlobStore, ChecksumMismatch
from project_cloud.db import (
    VERSION_TABLE,
    create_db_engine,
    current_revision,
    downgrade,
    head_revision,
    upgrade,
)
from project_cloud.models import Base
from project_cloud.paths import InvalidPath, collision_key, parent_paths, validate_path
from project_cloud.server import CloudServer
from project_cloud.service import (
    CloudService,
    PreconditionFailed,
    Preconditions,
    parse_etags,
)
from project_filebrowser.store.location import default_cloud_dir

# --- paths --------------------------------------------------------------------------------

GOOD = [
    "a",
    "a/b.txt",
    "dir/sub/file.ipynb",
    "with space/ok",
    "caf\u00e9",
    "..a",
    "a..",
    ".env",
    "a/.b/c",
    "x" * 255,
    "\u00e9" * 127,
]
BAD = [
    "",
    "/abs",
    "a//b",
    "a/",
    "..",
    "../a",
    "a/../b",
    "a/./b",
    ".",
    "a\x00b",
    "a\\b",
    "a\nb",
    "a\tb",
    "a\x7fb",
    "x" * 256,
    "\u00e9" * 128,
    "a/" * 2100 + "a",
]


@pytest.mark.parametrize("path", GOOD)
def test_good_paths(path: str) -> None:
    assert validate_path(path) == path


@pytest.mark.parametrize("path", BAD)
def test_bad_paths(path: str) -> None:
    with pytest.raises(InvalidPath):
        validate_path(path)


def test_path_helpers() -> None:
    assert parent_paths("a/b/c") == ["a", "a/b"]
    assert parent_paths("a") == []
    assert collision_key("Caf\u00e9.TXT") == collision_key("cafe\u0301.txt")
    assert collision_key("a.txt") != collision_key("b.txt")


# --- preconditions ------------------------------------------------------------------------


def test_parse_etags() -> None:
    assert parse_etags(None) is None
    assert parse_etags('"a", b ,W/"c"') == ("a", "b", "W/c")
    assert parse_etags("*") == ("*",)


class _Head:
    def __init__(self, revision: str, deleted: bool = False) -> None:
        self.revision, self.deleted = revision, deleted


def test_preconditions() -> None:
    live, tomb = _Head("r1"), _Head("r2", deleted=True)
    Preconditions().check(None)
    Preconditions.from_headers('"r1"', None).check(live)  # type: ignore[arg-type]
    Preconditions.from_headers("r2", None).check(tomb)  # type: ignore[arg-type]
    Preconditions.from_headers(None, "*").check(tomb)  # type: ignore[arg-type]
    Preconditions.from_headers(None, "*").check(None)
    for pre, head in (
        (Preconditions.from_headers("r0", None), live),
        (Preconditions.from_headers('W/"r1"', None), live),
        (Preconditions.from_headers("*", None), tomb),
        (Preconditions.from_headers("*", None), None),
        (Preconditions.from_headers("r1", None), None),
        (Preconditions.from_headers(None, "*"), live),
        (Preconditions.from_headers(None, '"r1"'), live),
    ):
        with pytest.raises(PreconditionFailed):
            pre.check(head)  # type: ignore[arg-type]


# --- blobs --------------------------------------------------------------------------------


def test_blob_store_dedupes_and_verifies(tmp_path: Path) -> None:
    store = BlobStore(str(tmp_path / "blobs"))
    sha, size = store.put_bytes(b"hello")
    assert sha == hashlib.sha256(b"hello").hexdigest() and size == 5
    assert store.put_bytes(b"hello") == (sha, 5)
    blobs = [p for p in (tmp_path / "blobs" / "sha256").rglob("*") if p.is_file()]
    assert blobs == [tmp_path / "blobs" / "sha256" / sha[:2] / sha[2:]]
    assert store.read_bytes(sha) == b"hello"
    assert store.temp_files() == []

    w = store.writer()
    w.write(b"partial")
    assert len(store.temp_files()) == 1
    assert not store.exists(hashlib.sha256(b"partial").hexdigest())  # not visible yet
    w.abort()
    assert store.temp_files() == []

    w = store.writer()
    w.write(b"data")
    with pytest.raises(ChecksumMismatch):
        w.commit("0" * 64)
    assert store.temp_files() == [] and not store.exists(hashlib.sha256(b"data").hexdigest())
    with pytest.raises(ValueError):
        store.key("../../etc/passwd")


def test_blob_store_cleans_stale_temp_files(tmp_path: Path) -> None:
    store = BlobStore(str(tmp_path / "blobs"))
    replica = BlobStore(str(tmp_path / "blobs"))  # another process on the same folder
    w = replica.writer()
    w.write(b"x")
    w._file.flush()
    old = tmp_path / "blobs" / "tmp" / "old.part"
    old.write_bytes(b"old")
    os.utime(old, (1, 1))
    assert store.cleanup_temp() == 1
    assert len(store.temp_files()) == 1  # the fresh one stays (another replica's upload)
    assert replica.cleanup_temp(older_than_seconds=0) == 0  # in use there: never removed
    assert store.cleanup_temp(older_than_seconds=0) == 1
    w.abort()


def test_blob_store_on_memory_fs() -> None:
    store = BlobStore("memory://project-cloud-test")
    sha, _ = store.put_bytes(b"in memory")
    assert store.read_bytes(sha) == b"in memory"


# --- migrations ---------------------------------------------------------------------------


def test_migrations_match_the_models(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"version_table": VERSION_TABLE, "compare_type": True}
        )
        assert compare_metadata(ctx, Base.metadata) == []
    downgrade(engine, "base")
    assert current_revision(engine) is None
    assert set(inspect(engine).get_table_names()) == {VERSION_TABLE}
    upgrade(engine)
    assert {"users", "projects", "file_versions", "file_heads"} <= set(
        inspect(engine).get_table_names()
    )
    engine.dispose()


def test_sqlite_settings(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'sub' / 's.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    engine.dispose()


# --- embedded mode ------------------------------------------------------------------------


def test_default_cloud_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jd"))
    assert default_cloud_dir() == tmp_path / "jd" / "project_filebrowser" / "cloud"


def test_ensure_user_gives_a_stable_token(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'e.db'}")
    upgrade(engine)
    service = CloudService(engine, BlobStore(str(tmp_path / "blobs")))
    token_file = tmp_path / "local-token"
    token = service.ensure_user("me", token_file)
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert service.ensure_user("me", token_file) == token
    principal = service.authenticate(token)
    assert principal is not None and principal.username == "me"
    token_file.write_text("revoked-or-garbage")
    fresh = service.ensure_user("me", token_file)
    assert fresh != token and token_file.read_text().strip() == fresh
    assert service.ensure_user("me") not in (token, fresh)  # no file: a new token each time
    engine.dispose()


def test_embedded_server_on_the_current_loop(tmp_path: Path) -> None:
    async def main() -> None:
        server = CloudServer(f"sqlite:///{tmp_path / 'c.db'}", str(tmp_path / "blobs"))
        port = await server.start("127.0.0.1", 0)
        token = await server.ensure_user("local", tmp_path / "tok")
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}/api/v1",
            headers={"Authorization": f"Bearer {token}"},
        ) as c:
            assert (await c.get("/user")).json() == {"username": "local"}
            pid = (await c.post("/projects", json={"name": "p"})).json()["id"]
            assert (await c.put(f"/projects/{pid}/files/a", content=b"a")).status_code == 201
        ws = await websocket_connect(
            HTTPRequest(
                f"ws://127.0.0.1:{port}/api/v1/stream",
                headers={"Authorization": f"Bearer {token}"},
            )
        )
        await server.stop()
        assert await asyncio.wait_for(ws.read_message(), 5) is None
        assert ws.close_code == 1001
        with pytest.raises(httpx.ConnectError):
            async with httpx.AsyncClient() as c2:
                await c2.get(f"http://127.0.0.1:{port}/api/v1/user")

    asyncio.run(main())
