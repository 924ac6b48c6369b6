"""The fast path's SQL (store/raw.py) against the models: every table and column it names is
one of theirs, and on a database made by the migrations it reads what the ORM layer reads
(a real SQLite file)."""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import fields
from pathlib import Path

import pytest

from project_filebrowser.remotes import FileVersion
from project_filebrowser.store import Store, raw
from project_filebrowser.store.migrate import upgrade
from project_filebrowser.store.models import Base, LocalProjectRow
from project_filebrowser.sync import state
from project_filebrowser.sync.trees import BaseEntry, LocalFile, RemoteFile

pytestmark = pytest.mark.unit


def test_every_name_is_a_column_of_the_models() -> None:
    tables = Base.metadata.tables
    for table, columns in raw.NAMED.items():
        assert table in tables, table
        assert columns <= set(tables[table].columns.keys()), (table, columns)


def test_tree_columns_follow_the_entries_fields() -> None:
    entries = {"synced_entries": BaseEntry, "remote_entries": RemoteFile, "local_index": LocalFile}
    for table, entry in entries.items():
        assert raw.TREES[table] == tuple(f.name for f in fields(entry)), table


def test_the_queries_read_what_the_orm_reads(tmp_path: Path) -> None:
    db_file = tmp_path / "state.db"
    url = f"sqlite:///{db_file}"
    upgrade(url, backup=False)
    store = Store(url)
    local = LocalFile("a.txt", "s" * 64, 3, 1_000, 42, 7)
    with store.write() as session:
        session.add(LocalProjectRow(id="p1", cloud_url="http://c", name="demo", local_path="d"))
    with store.write() as session:
        state.save_index(session, "p1", {}, {"a.txt": local})
        state.set_synced_many(session, "p1", [(local, "r1")])
        version = FileVersion(path="a.txt", revision="r1", sha256="s" * 64, size=3)
        state.replace_remote(session, "p1", [version], 5)
    with store.read() as session:
        synced = state.load_synced(session, "p1")
        remote = state.load_remote(session, "p1")
        index = state.load_index(session, "p1")
    store.dispose()

    with contextlib.closing(sqlite3.connect(db_file)) as db, db:
        assert {r[0]: BaseEntry(*r) for r in raw.tree_rows(db, "synced_entries", "p1")} == synced
        assert {r[0]: RemoteFile(*r) for r in raw.tree_rows(db, "remote_entries", "p1")} == remote
        assert {r[0]: LocalFile(*r) for r in raw.tree_rows(db, "local_index", "p1")} == index
        assert index == {"a.txt": local}
        assert raw.linked(db) == [("p1", "demo", "d", "idle", "http://c", 5)]
        assert raw.cursor(db, "p1") == 5 and raw.cursor(db, "nope") is None
        assert raw.clean_scan(db, "p1") is None
        raw.record_clean_scan(db, "p1", 5, "digest")
        assert raw.clean_scan(db, "p1") == "digest"
        raw.record_synced(db, ["p1"], "2026-12-03 10:00:00.000000")

    store = Store(url)
    with store.read() as session:
        row = session.get(LocalProjectRow, "p1")
        assert row is not None and row.last_synced_at is not None
        assert row.last_synced_at.isoformat().startswith("2026-12-03T10:00:00")
    store.dispose()
