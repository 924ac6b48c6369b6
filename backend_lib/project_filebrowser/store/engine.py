"""Engine set-up for the local state DB and the ``Store`` that hands out sessions.

SQLite needs care to be dependable under concurrency:

* ``journal_mode`` is a setting (WAL by default; WAL breaks on NFS home directories, where
  ``DELETE`` is the safe choice);
* ``busy_timeout`` makes a writer wait for the lock instead of failing at once;
* write transactions start with ``BEGIN IMMEDIATE`` so two deferred transactions can never
  deadlock while upgrading a read lock to a write lock (which SQLite reports as
  "database is locked" without waiting); reads keep the cheap deferred ``BEGIN``;
* foreign keys are on (they are off during migrations, where batch mode recreates tables).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from .location import DB_URL_ENV, default_db_url, resolve_db_url

__all__ = ["DB_URL_ENV", "Store", "default_db_url", "make_engine", "resolve_db_url", "sqlite_path"]

JOURNAL_MODES = ("WAL", "DELETE", "TRUNCATE", "PERSIST", "MEMORY")
DEFAULT_BUSY_TIMEOUT_MS = 30_000


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def redact_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def make_engine(
    url: str,
    *,
    journal_mode: str = "WAL",
    busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    foreign_keys: bool = True,
    immediate: bool = False,
) -> Engine:
    """Create an engine; for SQLite apply the pragmas and the transaction discipline above."""
    path = sqlite_path(url)
    if path is None and make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)

    mode = journal_mode.upper()
    if mode not in JOURNAL_MODES:
        raise ValueError(f"journal mode must be one of {', '.join(JOURNAL_MODES)}, not {mode!r}")
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide where transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute(f"PRAGMA journal_mode = {mode}")
            cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
            cursor.execute(
                "PRAGMA synchronous = NORMAL" if mode == "WAL" else "PRAGMA synchronous = FULL"
            )
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Store:
    """The local state DB: one engine for reads, one for writes, on the same file."""

    def __init__(
        self,
        url: str,
        *,
        journal_mode: str = "WAL",
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    ) -> None:
        self.url = url
        self.journal_mode = journal_mode.upper()
        self.read_engine = make_engine(
            url, journal_mode=journal_mode, busy_timeout_ms=busy_timeout_ms
        )
        self.write_engine = make_engine(
            url, journal_mode=journal_mode, busy_timeout_ms=busy_timeout_ms, immediate=True
        )
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)
        self._write = sessionmaker(self.write_engine, expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; never takes the write lock."""
        with self._read() as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in one write transaction: committed on success, rolled back on error."""
        with self._write() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.read_engine.dispose()
        self.write_engine.dispose()
