"""The service on PostgreSQL (the multi-replica setting): migrations, races, ordering.

Uses ``PROJECT_CLOUD_TEST_PG_URL`` (a SQLAlchemy URL of a database it may fill) if set;
otherwise starts a throwaway cluster with ``initdb``/``pg_ctl`` when they and psycopg are
available (as the ``postgres`` user when running as root), and skips when not.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from cloud_support import WRITERS, ServerThread, new_user, race
from sqlalchemy import text

from project_cloud.db import VERSION_TABLE, create_db_engine, upgrade
from project_cloud.models import Base

pytest.importorskip("psycopg")


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for base in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (base / name).exists():
            return str(base / name)
    return None


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    url = os.environ.get("PROJECT_CLOUD_TEST_PG_URL")
    if url:
        yield url
        return
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("no PostgreSQL server binaries")
    prefix: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser")
        prefix = ["runuser", "-u", "postgres", "--"]
    tmp = Path(tempfile.mkdtemp(prefix="pc-pg-"))
    if prefix:
        shutil.chown(tmp, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tmp / "data"
    try:
        subprocess.run(
            [*prefix, initdb, "-D", str(data), "-A", "trust", "-U", "postgres"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(
            [
                *prefix,
                pg_ctl,
                "-D",
                str(data),
                "-l",
                str(tmp / "log"),
                "-w",
                "-o",
                f"-p {port} -k {tmp} -c listen_addresses=''",
                "start",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    except (subprocess.CalledProcessError, OSError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        pytest.skip(f"cannot start a PostgreSQL cluster: {exc}")
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={tmp}&port={port}"
    finally:
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=120,
        )
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def pg_cloud(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    engine = create_db_engine(pg_url)
    with engine.begin() as conn:  # a clean schema each run
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    tmp = tmp_path_factory.mktemp("pgcloud")
    server = ServerThread(pg_url, str(tmp / "blobs"), 4 * 1024 * 1024).start()
    yield server
    server.stop()


def test_migrations_match_the_models_on_postgres(pg_cloud: ServerThread) -> None:
    engine = pg_cloud.service.engine
    upgrade(engine)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"version_table": VERSION_TABLE, "compare_type": True}
        )
        assert compare_metadata(ctx, Base.metadata) == []


def test_races_on_postgres(pg_cloud: ServerThread) -> None:
    user = new_user(pg_cloud, "pg")
    pid = user.client.post("/projects", json={"name": "pg"}).json()["id"]
    url = f"/projects/{pid}/files/shared.txt"
    base = user.client.put(url, content=b"base").json()["revision"]
    results = race(
        pg_cloud,
        user,
        [
            ("PUT", url, {"content": b"%d" % i, "headers": {"If-Match": base}})
            for i in range(WRITERS)
        ],
    )
    assert sorted(r.status_code for r in results) == [200] + [412] * (WRITERS - 1)
    results = race(
        pg_cloud,
        user,
        [
            (
                "PUT",
                f"/projects/{pid}/files/new.txt",
                {"content": b"n", "headers": {"If-None-Match": "*"}},
            )
            for _ in range(WRITERS)
        ],
    )
    assert sorted(r.status_code for r in results) == [201] + [412] * (WRITERS - 1)
    results = race(
        pg_cloud,
        user,
        [("PUT", f"/projects/{pid}/files/p{i}", {"content": b"x"}) for i in range(WRITERS)],
    )
    assert all(r.status_code == 201 for r in results)
    changes = user.client.get(f"/projects/{pid}/changes", params={"limit": 1000}).json()
    assert [c["seq"] for c in changes["items"]] == list(range(1, changes["head_seq"] + 1))
    assert changes["head_seq"] == 3 + WRITERS


def test_features_on_postgres(pg_cloud: ServerThread) -> None:
    user = new_user(pg_cloud, "pgf")
    other = new_user(pg_cloud, "pgo")
    c = user.client
    pid = c.post("/projects", json={"name": "feat", "metadata": {"a": [1]}}).json()["id"]
    names = ["B.txt", "a.txt", "a/x", "\u00e9.txt", "Z", "_"]
    for n in names:
        assert c.put(f"/projects/{pid}/files/{n}", content=n.encode()).status_code == 201
    listed = [f["path"] for f in c.get(f"/projects/{pid}/files").json()["items"]]
    assert listed == sorted(names)  # code point order, as on SQLite
    assert c.put(f"/projects/{pid}/files/a", content=b"x").status_code == 409
    cp = c.post(f"/projects/{pid}/checkpoints", json={"name": "c"}).json()
    rev = c.get(f"/projects/{pid}/files/a.txt").headers["ETag"]
    r = c.post(f"/projects/{pid}/moves", json={"from": "a.txt", "to": "m/a.txt", "if_match": rev})
    assert r.status_code == 200
    c.delete(f"/projects/{pid}/files/Z")
    restored = c.post(f"/projects/{pid}/checkpoints/{cp['id']}/restore").json()
    assert restored["file_count"] == len(names)
    hist = c.get(f"/projects/{pid}/files/m/a.txt/revisions").json()["items"]
    assert [h["path"] for h in hist] == ["m/a.txt", "m/a.txt", "a.txt"]
    assert other.client.get(f"/projects/{pid}").status_code == 404
    assert c.delete(f"/projects/{pid}").status_code == 204
