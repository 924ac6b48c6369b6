"""The metadata DB on PostgreSQL: migrations (also by replicas starting together), URL
handling, and the ``LISTEN/NOTIFY`` notifier on its own.

The PostgreSQL server comes from ``support/team_stack.py`` (``PROJECT_CLOUD_TEST_PG_URL`` or a
throwaway cluster); without one these tests skip, or fail with ``PFB_REQUIRE_TEAM_STACK=1``.
The whole HTTP suite also runs on PostgreSQL + S3 through the ``cloud`` fixture.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.orm import Session

from project_cloud.blobs import BlobStore
from project_cloud.db import (
    VERSION_TABLE,
    create_db_engine,
    current_revision,
    downgrade,
    head_revision,
    normalize_db_url,
    upgrade,
)
from project_cloud.models import Base
from project_cloud.notify import (
    Event,
    InProcessNotifier,
    PostgresNotifier,
    event_payload,
    make_notifier,
    parse_payload,
    psycopg_connect_args,
)
from project_cloud.schemas import ProjectCreate
from project_cloud.service import CloudService, PreconditionFailed, Preconditions
from support.polling import eventually_async
from support.team_stack import create_database, drop_database


@pytest.fixture
def pg_db(pg_server_url: str) -> Iterator[str]:
    url = create_database(pg_server_url)
    yield url
    drop_database(url)


@pytest.fixture
def pg_engine(pg_db: str) -> Iterator[Engine]:
    engine = create_db_engine(pg_db)
    yield engine
    engine.dispose()


def test_migrations_match_the_models_on_postgres(pg_engine: Engine) -> None:
    upgrade(pg_engine)
    assert current_revision(pg_engine) == head_revision()
    with pg_engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"version_table": VERSION_TABLE, "compare_type": True}
        )
        assert compare_metadata(ctx, Base.metadata) == []
    downgrade(pg_engine, "base")
    assert set(inspect(pg_engine).get_table_names()) <= {VERSION_TABLE}
    upgrade(pg_engine)
    assert current_revision(pg_engine) == head_revision()


def test_replicas_starting_together_migrate_once(pg_db: str) -> None:
    """Several processes upgrading one fresh database at once: the advisory lock makes
    them take turns, and every one of them ends with the current schema."""
    engines = [create_db_engine(pg_db) for _ in range(4)]
    barrier = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def run(engine: Engine) -> None:
        barrier.wait()
        try:
            upgrade(engine)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert errors == []
        assert all(current_revision(e) == head_revision() for e in engines)
    finally:
        for e in engines:
            e.dispose()


def test_url_handling() -> None:
    assert str(normalize_db_url("postgresql://u:p@h/db")) == "postgresql+psycopg://u:***@h/db"
    assert normalize_db_url("postgres://h/db").drivername == "postgresql+psycopg"
    assert normalize_db_url("sqlite:///x.db").drivername == "sqlite"
    args = psycopg_connect_args("postgresql+psycopg://u:p%40ss@db.example:6543/pc?sslmode=require")
    assert args == {
        "user": "u",
        "password": "p@ss",
        "host": "db.example",
        "port": 6543,
        "dbname": "pc",
        "sslmode": "require",
    }
    args = psycopg_connect_args("postgresql+psycopg://postgres@/pc?host=/run/postgresql")
    assert args == {"user": "postgres", "dbname": "pc", "host": "/run/postgresql"}
    assert isinstance(make_notifier("sqlite:///x.db"), InProcessNotifier)
    assert isinstance(make_notifier("postgresql://h/db"), PostgresNotifier)


def test_payloads_round_trip() -> None:
    for event in (
        Event("changed", "p1", 7),
        Event("deleted", "p2"),
        Event("revoked", "p3", username="bob"),
    ):
        assert parse_payload(event_payload(event)) == event
    assert event_payload(Event("changed", "abc", 3)) == '{"project_id":"abc","seq":3}'
    for bad in ("", "[]", "{}", '{"project_id": 1}', '{"project_id": "x", "kind": "boom"}'):
        assert parse_payload(bad) is None


def test_notify_is_sent_with_the_commit_only(pg_engine: Engine) -> None:
    """The service's NOTIFY rides on its write transaction: a listener hears of a seq only
    once it is committed (readable), and nothing of a rolled-back transaction."""
    upgrade(pg_engine)
    notifier = PostgresNotifier(pg_engine.url)
    service = CloudService(pg_engine, BlobStore("memory://pfb-notify-test"), notifier)
    user = service.create_user("nora")
    pid = service.create_project(user, ProjectCreate(name="n")).id
    sha, size = service.blobs.put_bytes(b"hello")

    def writes() -> None:
        service.put_file(user, pid, "a.txt", sha, size, Preconditions())
        with pytest.raises(PreconditionFailed):  # stale: no event
            service.put_file(user, pid, "a.txt", sha, size, Preconditions(if_match=("0-x",)))
        with pytest.raises(RuntimeError), Session(pg_engine) as s, s.begin():
            notifier.publish_in_transaction(s.connection(), Event("changed", pid, 99))
            raise RuntimeError("roll back")
        service.delete_file(user, pid, "a.txt", Preconditions())

    async def main() -> tuple[list[Event], list[int]]:
        loop = asyncio.get_running_loop()
        got: list[Event] = []
        committed: list[int] = []

        def on_event(event: Event) -> None:
            got.append(event)
            with pg_engine.connect() as conn:
                committed.append(
                    conn.execute(
                        text("SELECT head_seq FROM projects WHERE id = :id"), {"id": pid}
                    ).scalar_one()
                )

        notifier.bind_loop(loop)
        notifier.subscribe(on_event)
        await notifier.start()
        try:
            await loop.run_in_executor(None, writes)

            def two_events() -> bool:
                assert len(got) >= 2, got
                return True

            await eventually_async(two_events, 10, 0.02)
            await asyncio.sleep(0.3)  # time for a wrong extra event to arrive
        finally:
            await notifier.close()
            notifier.bind_loop(None)
        return got, committed

    got, committed = asyncio.run(main())
    assert got == [Event("changed", pid, 1), Event("changed", pid, 2)]
    assert all(c >= e.seq for c, e in zip(committed, got, strict=True))
