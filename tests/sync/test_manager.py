"""The sync manager's queue: user requests first, one job per project, requests coalesce."""

from __future__ import annotations

import asyncio
from pathlib import Path

from project_filebrowser.cloud.client import CloudClient
from project_filebrowser.events import EventBus
from project_filebrowser.schemas import JobProgressEvent, ServerEvent
from project_filebrowser.store import LocalProjectRow, Store
from project_filebrowser.store.migrate import upgrade
from project_filebrowser.sync.manager import SyncManager
from support.cloud import ServerThread


def test_user_requests_run_before_background_work(cloud: ServerThread, tmp_path: Path) -> None:
    token = cloud.new_user(name="ann", password="pw-ann-123").token
    db_url = f"sqlite:///{tmp_path / 'state.db'}"
    upgrade(db_url)
    store = Store(db_url)

    async def main() -> None:
        bus = EventBus()
        events: list[ServerEvent] = []
        bus.subscribe(events.append)
        async with CloudClient(cloud.url, token) as client:
            ids = []
            for name in ("bg1", "bg2", "mine"):
                project = await client.create_project(name)
                ids.append(project.id)
                (tmp_path / name).mkdir()
                (tmp_path / name / "f.txt").write_text(name)
                with store.write() as session:
                    session.add(
                        LocalProjectRow(
                            id=project.id, cloud_url=cloud.url, name=name, local_path=name
                        )
                    )
            manager = SyncManager(
                store=store,
                client=client,
                root_dir=tmp_path,
                lock_dir=tmp_path / "locks",
                bus=bus,
                watch=False,
            )
            jobs = [
                manager.request_sync(ids[0], user=False),
                manager.request_sync(ids[1], user=False),
            ]
            jobs.append(manager.request_sync(ids[2], user=True))
            # a second request for a queued project joins its job
            assert manager.request_sync(ids[0], user=False).id == jobs[0].id
            await manager.start(background=False)
            try:
                for job in jobs:
                    assert (await manager.wait(job.id)).state == "done"
            finally:
                await manager.stop()
        started = [
            e.job.project_id
            for e in events
            if isinstance(e, JobProgressEvent) and e.job.state == "running"
        ]
        order = list(dict.fromkeys(started))
        assert order[0] == ids[2], "the user's request must start first"
        assert set(order) == set(ids)

    try:
        asyncio.run(main())
    finally:
        store.dispose()
