"""What the engine announces as it goes: local changes while the cloud is down (pending,
with their new size, counted by the project), bytes inside a file as they travel, and a
conflict copy made on another machine as the one conflict it is."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from project_filebrowser.cloud.client import CloudClient
from project_filebrowser.events import EventBus
from project_filebrowser.schemas import FileStatusEvent, ProjectUpdatedEvent, ServerEvent
from project_filebrowser.store import LocalProjectRow, Store
from project_filebrowser.store.migrate import upgrade
from project_filebrowser.store.models import Conflict
from project_filebrowser.sync.manager import SyncManager
from project_filebrowser.sync.project import ProjectSync
from project_filebrowser.sync.steps import Progress
from support.cloud import ServerThread, start_server


@dataclass
class Replica:
    store: Store
    client: CloudClient
    root: Path
    project_id: str

    @property
    def folder(self) -> Path:
        return self.root / "p"

    def syncer(self, **kwargs: object) -> ProjectSync:
        return ProjectSync(
            project_id=self.project_id,
            root=self.folder,
            client=self.client,
            store=self.store,
            transfers=asyncio.Semaphore(4),
            **kwargs,  # type: ignore[arg-type]
        )


def user_token(cloud: ServerThread) -> str:
    return cloud.new_user(name="ann", password="pw-ann-123").token


@pytest.fixture
def token(cloud: ServerThread) -> str:
    return user_token(cloud)


@asynccontextmanager
async def replica(
    cloud: ServerThread,
    token: str,
    tmp: Path,
    project_id: str | None = None,
    max_retries: int = 5,
) -> AsyncIterator[Replica]:
    """A linked project folder with its own state DB (a new cloud project without an id)."""
    db_url = f"sqlite:///{tmp / 'state.db'}"
    upgrade(db_url)
    store = Store(db_url)
    try:
        async with CloudClient(
            cloud.url, token, max_retries=max_retries, backoff_base=0.01
        ) as client:
            if project_id is None:
                project_id = (await client.create_project("p")).id
            (tmp / "p").mkdir(parents=True)
            with store.write() as session:
                session.add(
                    LocalProjectRow(id=project_id, cloud_url=cloud.url, name="p", local_path="p")
                )
            yield Replica(store, client, tmp, project_id)
    finally:
        store.dispose()


def test_local_changes_show_as_pending_while_the_cloud_is_down(tmp_path: Path) -> None:
    cloud = start_server(tmp_path / "cloud")  # this test stops it
    token = user_token(cloud)

    async def main() -> None:
        async with replica(cloud, token, tmp_path, max_retries=1) as one:
            bus = EventBus()
            events: list[ServerEvent] = []
            bus.subscribe(events.append)
            manager = SyncManager(
                store=one.store,
                client=one.client,
                root_dir=one.root,
                lock_dir=tmp_path / "locks",
                bus=bus,
                watch=False,
            )
            (one.folder / "nb.ipynb").write_bytes(b"x" * 879)
            (one.folder / "same.txt").write_text("unchanged")
            await manager.start(background=False)
            try:
                job = manager.request_sync(one.project_id)
                assert (await manager.wait(job.id)).state == "done"
                cloud.stop()
                stopped.set()
                events.clear()

                (one.folder / "nb.ipynb").write_bytes(b"y" * 890)  # saved while offline
                job = manager.request_sync(one.project_id, user=False)
                finished = await manager.wait(job.id)
            finally:
                await manager.stop()

        assert finished.state == "failed"
        files = [e for e in events if isinstance(e, FileStatusEvent)]
        assert [(e.path, e.state, e.size) for e in files] == [("nb.ipynb", "pending_push", 890)]
        last = [e.project for e in events if isinstance(e, ProjectUpdatedEvent)][-1]
        assert (last.status, last.pending) == ("offline", 1)

    stopped = asyncio.Event()
    try:
        asyncio.run(main())
    finally:
        if not stopped.is_set():
            cloud.stop()


def test_progress_counts_bytes_inside_a_file_both_ways(
    cloud: ServerThread, token: str, tmp_path: Path
) -> None:
    size = 8 << 20  # eight chunks of the client's 1 MiB

    async def main() -> None:
        async with replica(cloud, token, tmp_path / "one") as one:
            (one.folder / "big.bin").write_bytes(os.urandom(size))
            pushed: list[Progress] = []
            await one.syncer(on_progress=lambda p: pushed.append(Progress(**vars(p)))).run()
            async with replica(cloud, token, tmp_path / "two", one.project_id) as two:
                pulled: list[Progress] = []
                await two.syncer(on_progress=lambda p: pulled.append(Progress(**vars(p)))).run()
                assert (two.folder / "big.bin").stat().st_size == size

        for seen in (pushed, pulled):
            inside = [p for p in seen if p.files_done == 0 and 0 < p.bytes_done < size]
            assert len(inside) >= 4, seen  # at least half the chunks were told one by one
            assert [p.bytes_done for p in inside] == sorted(p.bytes_done for p in inside)
            assert seen[-1].bytes_done == seen[-1].bytes_total == size
            assert all(p.bytes_done <= p.bytes_total for p in seen)

    asyncio.run(main())


def _conflicts(one: Replica) -> list[tuple[str, str, bool, bool]]:
    with one.store.read() as session:
        return [
            (c.path, c.conflict_path, c.resolved, c.local_sha256 is not None)
            for c in session.scalars(select(Conflict).order_by(Conflict.id))
        ]


def test_a_conflict_copy_made_elsewhere_is_one_conflict_here_and_its_deletion_resolves_it(
    cloud: ServerThread, token: str, tmp_path: Path
) -> None:
    async def main() -> None:
        async with replica(cloud, token, tmp_path / "one") as one:
            (one.folder / "nb.ipynb").write_text("base")
            await one.syncer().run()
            async with replica(cloud, token, tmp_path / "two", one.project_id) as two:
                await two.syncer().run()
                (one.folder / "nb.ipynb").write_text("edit on one")
                (two.folder / "nb.ipynb").write_text("edit on two")
                await one.syncer().run()
                made = await two.syncer().run()  # two's edit becomes the copy
                assert len(made.conflicts) == 1
                [(path, copy, _resolved, mine)] = _conflicts(two)
                assert (path, mine) == ("nb.ipynb", True)

                adopted = await one.syncer().run()  # the copy arrives on one
                assert (one.folder / copy).read_text() == "edit on two"
                assert len(adopted.conflicts) == 1
                assert _conflicts(one) == [("nb.ipynb", copy, False, False)]
                assert (await one.syncer().run()).conflicts == []  # known: not adopted again

                (two.folder / copy).unlink()  # resolved on two: keep the version at the path
                resolved = await two.syncer().run()
                assert _conflicts(two)[0][2] is True and resolved.conflicts == made.conflicts
                gone = await one.syncer().run()
                assert not (one.folder / copy).exists()
                assert gone.conflicts == adopted.conflicts
                assert _conflicts(one) == [("nb.ipynb", copy, True, False)]

    asyncio.run(main())


def test_a_file_only_named_like_a_conflict_copy_is_an_ordinary_file(
    cloud: ServerThread, token: str, tmp_path: Path
) -> None:
    async def main() -> None:
        async with replica(cloud, token, tmp_path / "one") as one:
            (one.folder / "x (conflict 2026-01-02 030405).txt").write_text("no x.txt here")
            await one.syncer().run()
            async with replica(cloud, token, tmp_path / "two", one.project_id) as two:
                assert (await two.syncer().run()).conflicts == []
                assert _conflicts(two) == []

    asyncio.run(main())
