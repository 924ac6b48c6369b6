"""The fast path's SQL, beside the models: the queries the no-op check of a one-shot
``project-filebrowser sync`` (:mod:`project_filebrowser.sync.quick`) runs through the standard
library's ``sqlite3``, so that a sync with nothing to do never loads SQLAlchemy.

Every table and column named here is one of :mod:`.models`; ``tests/extension/
test_clean_scan.py`` checks each against the models, runs every query on a database made by
the migrations, and holds what they read to what the ORM layer (:mod:`..sync.state`) reads.
The column tuples of the three trees are in the order of the tree entries' fields
(``BaseEntry``, ``RemoteFile``, ``LocalFile`` in :mod:`..sync.trees`), and
:mod:`..sync.state` reads the same tuples, so the two layers cannot drift apart.
"""

from __future__ import annotations

import sqlite3
from typing import Any

SYNCED_COLUMNS = ("path", "sha256", "revision", "size", "mtime_ns", "inode")
REMOTE_COLUMNS = ("path", "revision", "sha256", "size")
INDEX_COLUMNS = ("path", "sha256", "size", "mtime_ns", "inode", "ctime_ns")

TREES = {  # table -> its columns, in the order of the tree entry's fields
    "synced_entries": SYNCED_COLUMNS,
    "remote_entries": REMOTE_COLUMNS,
    "local_index": INDEX_COLUMNS,
}

LINKED_SQL = (
    "SELECT p.id, p.name, p.local_path, p.status, p.cloud_url, c.seq "
    "FROM projects AS p LEFT JOIN cloud_cursors AS c ON c.project_id = p.id"
)
CURSOR_SQL = "SELECT seq FROM cloud_cursors WHERE project_id = ?"
CLEAN_SCAN_SQL = (
    "SELECT s.digest FROM clean_scans AS s JOIN cloud_cursors AS c "
    "ON c.project_id = s.project_id AND c.seq = s.cursor WHERE s.project_id = ?"
)
RECORD_CLEAN_SCAN_SQL = (
    "INSERT OR REPLACE INTO clean_scans (project_id, cursor, digest) VALUES (?, ?, ?)"
)
RECORD_SYNCED_SQL = "UPDATE projects SET last_synced_at = ? WHERE id = ?"

# Every (table, column) the statements above name, for the test against the models.
NAMED = {
    "projects": {"id", "name", "local_path", "status", "cloud_url", "last_synced_at"},
    "cloud_cursors": {"project_id", "seq"},
    "clean_scans": {"project_id", "cursor", "digest"},
    **{table: {*columns, "project_id"} for table, columns in TREES.items()},
}


def tree_rows(db: sqlite3.Connection, table: str, project_id: str) -> list[tuple[Any, ...]]:
    """A project's rows of one tree table, columns as in :data:`TREES`."""
    columns = ", ".join(TREES[table])
    sql = f"SELECT {columns} FROM {table} WHERE project_id = ?"
    return db.execute(sql, (project_id,)).fetchall()


def linked(db: sqlite3.Connection) -> list[tuple[str, str, str, str, str, int | None]]:
    """Every linked project: id, name, folder, status, cloud URL and cloud cursor."""
    return db.execute(LINKED_SQL).fetchall()


def cursor(db: sqlite3.Connection, project_id: str) -> int | None:
    row = db.execute(CURSOR_SQL, (project_id,)).fetchone()
    return None if row is None else int(row[0])


def clean_scan(db: sqlite3.Connection, project_id: str) -> str | None:
    """The fingerprint of the project's last clean scan, if taken at its current cursor."""
    row = db.execute(CLEAN_SCAN_SQL, (project_id,)).fetchone()
    return None if row is None else str(row[0])


def record_clean_scan(db: sqlite3.Connection, project_id: str, at: int, digest: str) -> None:
    db.execute(RECORD_CLEAN_SCAN_SQL, (project_id, at, digest))


def record_synced(db: sqlite3.Connection, project_ids: list[str], when: str) -> None:
    """``last_synced_at`` of the projects (``when`` in the store's UTC text format)."""
    db.executemany(RECORD_SYNCED_SQL, [(when, pid) for pid in project_ids])
