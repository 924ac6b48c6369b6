"""Alembic, as JupyterHub uses it: check the revision at start-up, back up the SQLite file
before upgrading it, refuse a DB from a newer schema, and run every change in batch mode.

The migration scripts live in the repository's top-level ``alembic/`` folder; the wheel
ships the same folder as ``project_filebrowser/migrations`` so an installed package can
migrate without a checkout.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from .engine import make_engine, redact_url, sqlite_path
from .location import HEAD_REVISION, sqlite_revision

if TYPE_CHECKING:
    from alembic.config import Config


log = logging.getLogger(__name__)

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


class MigrationError(RuntimeError):
    """The local state DB cannot be brought to the schema this code needs."""


class DatabaseTooNewError(MigrationError):
    """The DB was written by a newer project-filebrowser than this one."""


def migrations_dir() -> Path:
    """The Alembic script folder: shipped in the package, or the checkout's ``alembic/``."""
    for candidate in (_PACKAGE_DIR / "migrations", _PACKAGE_DIR.parent.parent / "alembic"):
        if (candidate / "env.py").is_file():
            return candidate
    raise MigrationError(f"no Alembic migrations found next to {_PACKAGE_DIR}")


def alembic_config(db_url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("sqlalchemy.url", db_url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    if head is None:
        raise MigrationError("the migration scripts have no head revision")
    return head


def current_revision(db_url: str) -> str | None:
    """The revision stamped in the DB, or None for a DB that was never migrated."""
    from alembic.runtime.migration import MigrationContext

    path = sqlite_path(db_url)
    if path is not None and not path.exists():
        return None
    engine = make_engine(db_url, foreign_keys=False)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


@dataclass(frozen=True)
class UpgradeResult:
    from_revision: str | None
    to_revision: str
    backup_path: Path | None


def check_revision(db_url: str, revision: str | None) -> None:
    """Raise DatabaseTooNewError if ``revision`` is unknown to this code's scripts."""
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    if revision is None:
        return
    script = ScriptDirectory.from_config(alembic_config(db_url))
    try:
        known = script.get_revision(revision)
    except CommandError:
        known = None
    if known is None:
        raise DatabaseTooNewError(
            f"The project-filebrowser state DB at {redact_url(db_url)} has schema revision "
            f"{revision!r}, which this version (head {script.get_current_head()!r}) does not "
            "know: it was written by a newer project-filebrowser. Upgrade project-filebrowser, "
            "or point ProjectFileBrowser.db_url / PROJECT_FILEBROWSER_DB_URL at another file. "
            "The DB was left untouched."
        )


def backup_sqlite(path: Path, revision: str) -> Path:
    """Copy a live SQLite DB (WAL included) with SQLite's online backup API."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.{stamp}.{revision}.bak")
    source = sqlite3.connect(path)
    try:
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)
        finally:
            dest.close()
    finally:
        source.close()
    return target


def upgrade(db_url: str, *, backup: bool = True) -> UpgradeResult:
    """Bring the DB to the head revision. A fresh DB is created; an older one is backed up
    first (SQLite only); a newer one is refused untouched."""
    path = sqlite_path(db_url)
    if path is not None and sqlite_revision(path) == HEAD_REVISION:
        return UpgradeResult(HEAD_REVISION, HEAD_REVISION, None)
    from alembic import command

    head = head_revision()
    current = current_revision(db_url)
    check_revision(db_url, current)
    if current == head:
        return UpgradeResult(current, head, None)

    path = sqlite_path(db_url)
    backup_path = None
    if backup and current is not None and path is not None and path.exists():
        backup_path = backup_sqlite(path, current)
        log.info("project-filebrowser: backed up %s to %s before upgrading", path, backup_path)
    elif current is None:
        _refuse_unmanaged_tables(db_url)

    config = alembic_config(db_url)
    engine = make_engine(db_url, foreign_keys=False, immediate=True)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except Exception as exc:
        hint = f" A backup is at {backup_path}." if backup_path else ""
        raise MigrationError(f"upgrading {redact_url(db_url)} failed: {exc}.{hint}") from exc
    finally:
        engine.dispose()
    log.info("project-filebrowser: state DB upgraded from %s to %s", current, head)
    return UpgradeResult(current, head, backup_path)


def _refuse_unmanaged_tables(db_url: str) -> None:
    from sqlalchemy import inspect

    engine = make_engine(db_url, foreign_keys=False)
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()
    if tables:
        raise MigrationError(
            f"{redact_url(db_url)} holds tables ({', '.join(sorted(tables))}) but no Alembic "
            "revision: it is not a project-filebrowser state DB. Point db_url at another file."
        )
