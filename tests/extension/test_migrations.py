"""Alembic migrations of the local state DB: real SQLite files, real alembic runs."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from project_filebrowser.store import Store, make_engine
from project_filebrowser.store.migrate import (
    DatabaseTooNewError,
    MigrationError,
    alembic_config,
    current_revision,
    head_revision,
    upgrade,
)
from project_filebrowser.store.models import (
    Base,
    CloudCursor,
    Conflict,
    Job,
    LocalProjectRow,
    SyncedEntry,
)

REPO = Path(__file__).resolve().parents[2]


def _fill(store: Store) -> None:
    with store.write() as session:
        session.add(
            LocalProjectRow(
                id="p1",
                cloud_url="http://127.0.0.1:1",
                name="demo",
                owner="ann",
                local_path="projects/demo",
            )
        )
        session.flush()
        session.add(
            SyncedEntry(
                project_id="p1", path="a/b.txt", sha256="0" * 64, size=3, mtime_ns=1, revision="r1"
            )
        )
        session.add(Conflict(project_id="p1", path="a", conflict_path="a (conflict)"))
        session.add(Job(id="j1", project_id="p1", kind="sync"))
        session.add(CloudCursor(project_id="p1", seq=42))


def test_models_and_migrations_agree(state_db_url: str) -> None:
    upgrade(state_db_url)
    engine = make_engine(state_db_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_upgrade_downgrade_upgrade_with_data(state_db_url: str) -> None:
    result = upgrade(state_db_url)
    assert result.from_revision is None and result.to_revision == head_revision()
    store = Store(state_db_url)
    _fill(store)
    store.dispose()

    config = alembic_config(state_db_url)
    command.downgrade(config, "base")
    assert current_revision(state_db_url) is None
    upgrade(state_db_url)
    assert current_revision(state_db_url) == head_revision()

    store = Store(state_db_url)
    _fill(store)  # the schema is whole again: the same rows fit
    with store.read() as session:
        entry = session.get(SyncedEntry, ("p1", "a/b.txt"))
        assert entry is not None and entry.synced_at.tzinfo == timezone.utc
        assert session.get(CloudCursor, "p1").seq == 42  # type: ignore[union-attr]
    store.dispose()


def test_any_write_to_a_tree_forgets_the_clean_scan(state_db_url: str) -> None:
    """The triggers of 0004: an insert, update or delete in any of the three trees deletes
    that project's clean scan, and no other project's."""
    upgrade(state_db_url)
    path = state_db_url.removeprefix("sqlite:///")
    rows = {
        "synced_entries": "(project_id, path, sha256, revision, size, mtime_ns, synced_at) "
        "VALUES (?, 'f', 'h', 'r', 1, 1, '2026-12-02 00:00:00')",
        "remote_entries": "(project_id, path, revision, sha256, size) VALUES (?, 'f', 'r', 'h', 1)",
        "local_index": "(project_id, path, size, mtime_ns, inode, sha256) "
        "VALUES (?, 'f', 1, 1, 1, 'h')",
    }
    store = Store(state_db_url)
    with store.write() as session:
        for pid in ("p1", "p2"):
            session.add(
                LocalProjectRow(
                    id=pid, cloud_url="http://127.0.0.1:1", name=pid, owner="ann", local_path=pid
                )
            )
    store.dispose()
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:

        def marks() -> list[str]:
            return [r[0] for r in db.execute("SELECT project_id FROM clean_scans ORDER BY 1")]

        def mark() -> None:
            db.execute("INSERT OR REPLACE INTO clean_scans VALUES ('p1', 7, 'd'), ('p2', 7, 'd')")

        for table, values in rows.items():
            for write in (
                f"INSERT INTO {table} {values}",
                f"UPDATE {table} SET size = 2 WHERE project_id = ?",
                f"DELETE FROM {table} WHERE project_id = ?",
            ):
                mark()
                db.execute(write, ("p1",))
                assert marks() == ["p2"], (table, write)


def test_upgrade_of_a_current_db_changes_nothing(state_db_url: str) -> None:
    upgrade(state_db_url)
    again = upgrade(state_db_url)
    assert again.from_revision == again.to_revision == head_revision()
    assert again.backup_path is None


def test_older_db_is_backed_up_before_upgrade(state_db_url: str) -> None:
    config = alembic_config(state_db_url)
    first = ScriptDirectory.from_config(config).get_base()
    assert first is not None and first != head_revision(), "needs two revisions to test"
    engine = make_engine(state_db_url, foreign_keys=False, immediate=True)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, first)
    engine.dispose()
    # rows written as the base schema holds them (today's models have columns it lacks)
    with sqlite3.connect(Path(state_db_url.removeprefix("sqlite:///"))) as db:
        db.execute(
            "INSERT INTO projects (id, cloud_url, name, title, description, owner, local_path,"
            " status, linked_at) VALUES ('p1', 'http://127.0.0.1:1', 'demo', '', '', 'ann',"
            " 'projects/demo', 'idle', '2026-01-01 00:00:00')"
        )
        db.execute(
            "INSERT INTO synced_entries (project_id, path, sha256, size, mtime_ns, revision,"
            " synced_at) VALUES ('p1', 'a/b.txt', ?, 3, 1, 'r1', '2026-01-01 00:00:00')",
            ("0" * 64,),
        )

    result = upgrade(state_db_url)
    assert (result.from_revision, result.to_revision) == (first, head_revision())
    assert result.backup_path is not None and result.backup_path.exists()
    with sqlite3.connect(result.backup_path) as copy:
        assert copy.execute("SELECT version_num FROM alembic_version").fetchone() == (first,)
        assert copy.execute("SELECT count(*) FROM synced_entries").fetchone() == (1,)
    with sqlite3.connect(Path(state_db_url.removeprefix("sqlite:///"))) as db:
        assert db.execute("SELECT count(*) FROM synced_entries").fetchone() == (1,)


def test_db_from_a_newer_schema_is_refused_untouched(state_db_url: str) -> None:
    upgrade(state_db_url)
    path = Path(state_db_url.removeprefix("sqlite:///"))
    with sqlite3.connect(path) as db:
        db.execute("UPDATE alembic_version SET version_num = 'ffff_from_the_future'")
    before = path.read_bytes()
    with pytest.raises(DatabaseTooNewError, match="newer project-filebrowser"):
        upgrade(state_db_url)
    assert path.read_bytes() == before
    assert not list(path.parent.glob("*.bak"))


def test_foreign_tables_without_revision_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY)")
    with pytest.raises(MigrationError, match="not a project-filebrowser state DB"):
        upgrade(f"sqlite:///{path}")


def _env(db_url: str) -> dict[str, str]:
    return {**os.environ, "PROJECT_FILEBROWSER_DB_URL": db_url}


def test_alembic_cli_in_repo_root_uses_env_db_url(state_db_url: str) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=REPO,
        env=_env(state_db_url),
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert current_revision(state_db_url) == head_revision()
    run = subprocess.run(
        [sys.executable, "-m", "alembic", "downgrade", "base"],
        cwd=REPO,
        env=_env(state_db_url),
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert current_revision(state_db_url) is None


def test_alembic_cli_x_db_url_wins(tmp_path: Path, state_db_url: str) -> None:
    other = f"sqlite:///{tmp_path / 'other.db'}"
    run = subprocess.run(
        [sys.executable, "-m", "alembic", "-x", f"db_url={other}", "upgrade", "head"],
        cwd=REPO,
        env=_env(state_db_url),
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert current_revision(other) == head_revision()
    assert current_revision(state_db_url) is None


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "project_filebrowser.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def test_cli_db_upgrade_and_current(state_db_url: str) -> None:
    run = _cli("db", "current", "--db", state_db_url)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("none")
    run = _cli("db", "upgrade", "--db", state_db_url)
    assert run.returncode == 0, run.stderr
    assert f"-> {head_revision()}" in run.stdout
    run = _cli("db", "current", "--db", state_db_url)
    assert run.stdout.strip() == f"{head_revision()} (head)"
    # the env var is the default when --db is not given
    run = _cli("db", "current", env=_env(state_db_url))
    assert run.stdout.strip() == f"{head_revision()} (head)"


def test_cli_db_upgrade_refuses_newer_db_with_exit_1(state_db_url: str) -> None:
    upgrade(state_db_url)
    path = Path(state_db_url.removeprefix("sqlite:///"))
    with sqlite3.connect(path) as db:
        db.execute("UPDATE alembic_version SET version_num = 'ffff_from_the_future'")
    run = _cli("db", "upgrade", "--db", state_db_url)
    assert run.returncode == 1
    assert "newer project-filebrowser" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_cli_bad_usage_exits_2() -> None:
    assert _cli("db", "upgrade", "--no-such-flag").returncode == 2


def test_timestamps_are_utc(state_db_url: str) -> None:
    upgrade(state_db_url)
    store = Store(state_db_url)
    _fill(store)
    with store.read() as session:
        project = session.get(LocalProjectRow, "p1")
        assert project is not None
        assert project.linked_at.tzinfo == timezone.utc
        assert abs((datetime.now(timezone.utc) - project.linked_at).total_seconds()) < 60
    store.dispose()


def test_the_known_head_is_the_scripts_head() -> None:
    """A DB at HEAD_REVISION opens without Alembic: the constant must follow the scripts."""
    from project_filebrowser.store.location import HEAD_REVISION

    assert head_revision() == HEAD_REVISION


def test_store_names_resolve_lazily() -> None:
    """Every name the store package lists loads (they are imported on first use)."""
    import project_filebrowser.store as store

    for name in store.__all__:
        assert getattr(store, name) is not None
