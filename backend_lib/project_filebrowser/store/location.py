"""Where the local state DB is, and which schema revision it holds: standard library only,
so that a command can answer these without loading SQLAlchemy or Alembic."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from jupyter_core.paths import jupyter_data_dir

DB_URL_ENV = "PROJECT_FILEBROWSER_DB_URL"
# The newest revision of the scripts in alembic/versions (tests/extension/test_migrations.py
# checks they agree). A DB already there is opened without loading Alembic at all.
HEAD_REVISION = "0008"


def default_db_url() -> str:
    """``sqlite:///<jupyter data dir>/project_filebrowser/state.db``."""
    path = Path(jupyter_data_dir()) / "project_filebrowser" / "state.db"
    return f"sqlite:///{path}"


def default_cloud_dir() -> Path:
    """``<jupyter data dir>/project_filebrowser/cloud/``: the embedded cloud's data, and the
    default data folder of the ``project-filebrowser cloud`` commands (CONTRACT.md)."""
    return Path(jupyter_data_dir()) / "project_filebrowser" / "cloud"


def resolve_db_url(configured: str | None = None) -> str:
    """The DB URL in force: the env var overrides the configured value, then the default."""
    return os.environ.get(DB_URL_ENV) or configured or default_db_url()


def plain_sqlite_file(url: str) -> Path | None:
    """The file of a plain ``sqlite:///PATH`` URL (no driver, no query); None for any other
    URL (those are left to SQLAlchemy's parser, :func:`.engine.sqlite_path`)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url or url == prefix:
        return None
    return Path(url[len(prefix) :])


def sqlite_revision(path: Path) -> str | None:
    """The Alembic revision of an existing SQLite file (None if it has none, or is not an
    SQLite file with exactly one revision)."""
    if not path.is_file():
        return None
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=5)) as db:
            rows = db.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.Error:
        return None
    return str(rows[0][0]) if len(rows) == 1 else None
