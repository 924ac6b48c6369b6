"""The store under concurrency: a real SQLite file, real threads."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from project_filebrowser.store import Store
from project_filebrowser.store.migrate import upgrade
from project_filebrowser.store.models import Job, LocalProjectRow, SyncedEntry

THREADS = 8
WRITES_PER_THREAD = 150


@pytest.mark.parametrize("journal_mode", ["WAL", "DELETE"])
def test_eight_threads_write_at_once_without_lock_errors(
    state_db_url: str, journal_mode: str
) -> None:
    upgrade(state_db_url)
    store = Store(state_db_url, journal_mode=journal_mode)
    with store.write() as session:
        session.add(
            LocalProjectRow(id="p", cloud_url="http://x", name="p", local_path="projects/p")
        )
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def worker(n: int) -> None:
        try:
            start.wait()
            for i in range(WRITES_PER_THREAD):
                # read-then-write in one transaction: the pattern that deadlocks with
                # deferred transactions ("database is locked") and must not here
                with store.write() as session:
                    count = session.scalar(select(func.count()).select_from(SyncedEntry))
                    session.add(
                        SyncedEntry(
                            project_id="p",
                            path=f"t{n}/f{i}",
                            sha256=f"{count:064x}",
                            size=i,
                            mtime_ns=i,
                            revision=f"r{i}",
                        )
                    )
                    job = session.get(Job, f"job-{n}")
                    if job is None:
                        session.add(Job(id=f"job-{n}", project_id="p", kind="sync"))
                    else:
                        job.files_done += 1
                with store.read() as session:
                    session.scalar(select(func.count()).select_from(Job))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(SyncedEntry)) == (
            THREADS * WRITES_PER_THREAD
        )
        done = session.scalars(select(Job.files_done)).all()
        assert sorted(done) == [WRITES_PER_THREAD - 1] * THREADS
    store.dispose()


def test_pragmas_in_force(state_db_url: str) -> None:
    upgrade(state_db_url)
    store = Store(state_db_url)
    with store.read() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert session.execute(text("PRAGMA busy_timeout")).scalar() == 30_000
    store.dispose()


def test_delete_journal_mode_for_nfs(state_db_url: str) -> None:
    upgrade(state_db_url)
    store = Store(state_db_url, journal_mode="DELETE")
    with store.read() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "delete"
    store.dispose()


def test_foreign_keys_cascade(state_db_url: str) -> None:
    upgrade(state_db_url)
    store = Store(state_db_url)
    with store.write() as session:
        session.add(LocalProjectRow(id="p", cloud_url="x", name="p", local_path="projects/p"))
        session.flush()
        session.add(
            SyncedEntry(project_id="p", path="a", sha256="0", size=0, mtime_ns=0, revision="r")
        )
    with store.write() as session:
        session.delete(session.get(LocalProjectRow, "p"))
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(SyncedEntry)) == 0
    with pytest.raises(Exception, match="FOREIGN KEY"), store.write() as session:
        session.add(
            SyncedEntry(project_id="nope", path="a", sha256="0", size=0, mtime_ns=0, revision="r")
        )
    store.dispose()


def test_failed_write_rolls_back(state_db_url: str, tmp_path: Path) -> None:
    upgrade(state_db_url)
    store = Store(state_db_url)
    with pytest.raises(RuntimeError), store.write() as session:
        session.add(LocalProjectRow(id="p", cloud_url="x", name="p", local_path="projects/p"))
        session.flush()
        raise RuntimeError("boom")
    with store.read() as session:
        assert session.get(LocalProjectRow, "p") is None
    store.dispose()
