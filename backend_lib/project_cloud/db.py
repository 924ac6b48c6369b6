"""Engine set-up and migrations of the metadata database.

SQLite (the default) runs with WAL, ``busy_timeout``, ``synchronous=FULL`` and foreign keys
on. Write transactions use ``BEGIN IMMEDIATE`` so that two writers never deadlock while
upgrading a read lock; read transactions use a plain ``BEGIN`` (a consistent snapshot that
does not block writers). On PostgreSQL (``postgresql+psycopg://...``, the ``postgres``
extra) the same code runs unchanged: writers of a project serialize on its row lock
(``SELECT ... FOR UPDATE``), and migrations run under an advisory lock so that several
replicas may start at once.

Migrations (Alembic, in ``project_cloud/migrations``) are applied at start-up by
:func:`upgrade`; a SQLite file that needs upgrading is backed up first.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "project_cloud_alembic_version"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_file(url: str | URL) -> Path | None:
    """The database file of a SQLite URL (None for in-memory databases)."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def normalize_db_url(url: str | URL) -> URL:
    """``postgresql://`` and ``postgres://`` (no driver named) mean psycopg 3, the driver of
    the ``postgres`` extra; every other URL is left as it is."""
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u


def create_db_engine(url: str | URL) -> Engine:
    """An engine for ``url`` with the service's connection settings."""
    if not is_sqlite(url):
        return create_engine(normalize_db_url(url), pool_pre_ping=True, pool_size=10)
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Let us emit BEGIN ourselves (pysqlite's own transaction handling is broken).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "")
        connection.exec_driver_sql(f"BEGIN {mode}".strip())

    return engine


@contextlib.contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A read-only transaction (a consistent snapshot)."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


_sqlite_writers: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_sqlite_writers_guard = threading.Lock()


@contextlib.contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A write transaction: committed when the block ends, rolled back on an exception.

    On SQLite the writers of one process also queue on a lock of their own: SQLite lets one
    writer in at a time anyway, and a writer waiting in its busy handler polls with sleeps
    of up to 100 ms, while a lock hands over at once (other processes still meet the busy
    handler)."""
    if not is_sqlite(engine.url):
        with Session(engine, expire_on_commit=False) as session, session.begin():
            yield session
        return
    with _sqlite_writers_guard:
        lock = _sqlite_writers.setdefault(engine, threading.RLock())
    bind = engine.execution_options(sqlite_begin="IMMEDIATE")
    with lock, Session(bind, expire_on_commit=False) as session, session.begin():
        yield session


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.set_main_option(
            "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
        )
    return cfg


def head_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return ctx.get_current_revision()


def _backup_sqlite(path: Path, revision: str) -> Path:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.bak-{revision}-{stamp}")
    src = sqlite3.connect(path)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    return target


# The key of the PostgreSQL advisory lock held while migrating ("pcmigrat" in ASCII).
MIGRATION_LOCK_KEY = 0x70636D6967726174


@contextlib.contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """On PostgreSQL, a session advisory lock around migrations, so that replicas starting
    together migrate one after the other (the others then find the schema current). On
    SQLite nothing is needed: Alembic's DDL transaction takes the database lock."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
            conn.commit()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema to ``revision`` (backing up an existing SQLite file)."""
    with migration_lock(engine):
        current = current_revision(engine)
        target = head_revision() if revision == "head" else revision
        if current == target:
            return
        path = sqlite_file(engine.url)
        if current is not None and path is not None and path.exists():
            backup = _backup_sqlite(path, current)
            log.info("backed up %s to %s before migrating", path, backup)
        _run(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    with migration_lock(engine):
        _run(engine, "downgrade", revision)


def _run(engine: Engine, action: str, revision: str) -> None:
    cfg = alembic_config(engine)
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        if action == "upgrade":
            command.upgrade(cfg, revision)
        else:
            command.downgrade(cfg, revision)
        conn.commit()
