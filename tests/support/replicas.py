"""Replicas of one cloud project for the sync suite: a real folder, a real SQLite file and
the real cloud on loopback, synced through the engine itself."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from project_filebrowser.remotes import open_remote
from project_filebrowser.store import Store
from project_filebrowser.store.migrate import upgrade
from project_filebrowser.store.models import Conflict, LocalProjectRow
from project_filebrowser.sync.project import ProjectSync
from project_filebrowser.sync.steps import CycleResult
from support.cloud import ServerThread


class Replica:
    def __init__(self, base: Path, cloud: ServerThread | str, token: str, project_id: str) -> None:
        """A replica of ``project_id`` on ``cloud``: the real cloud, or a remote's URL
        (``memory://NAME``)."""
        url = cloud if isinstance(cloud, str) else cloud.url
        self.root = base / "files"
        self.root.mkdir(parents=True)
        db_url = f"sqlite:///{base / 'state.db'}"
        upgrade(db_url)
        self.store = Store(db_url)
        with self.store.write() as session:
            session.add(
                LocalProjectRow(id=project_id, cloud_url=url, name="p", local_path=str(self.root))
            )
        self.cloud_url, self.token, self.project_id = url, token, project_id

    def sync(
        self,
        *,
        allow_mass_delete: bool = False,
        retry_failed: bool = False,
        now: Callable[[], datetime] | None = None,
        merge: bool = True,
    ) -> CycleResult:
        """One cycle of the engine; ``now`` is the clock that failures' backoff reads;
        ``merge``: the merge_notebooks and merge_text settings."""

        async def run() -> CycleResult:
            async with open_remote(self.cloud_url, self.token) as client:
                syncer = ProjectSync(
                    project_id=self.project_id,
                    root=self.root,
                    client=client,
                    store=self.store,
                    transfers=asyncio.Semaphore(4),
                    merge_notebooks=merge,
                    merge_text=merge,
                    **({"now": now} if now is not None else {}),
                )
                return await syncer.run(
                    allow_mass_delete=allow_mass_delete, retry_failed=retry_failed
                )

        return asyncio.run(run())

    def write(self, rel: str, data: bytes) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def read(self, rel: str) -> bytes:
        return (self.root / rel).read_bytes()

    def files(self) -> dict[str, bytes]:
        out = {}
        for dirpath, _dirs, names in os.walk(self.root):
            for name in names:
                full = Path(dirpath) / name
                out[full.relative_to(self.root).as_posix()] = full.read_bytes()
        return out

    def conflicts(self) -> list[Conflict]:
        with self.store.read() as session:
            return list(session.scalars(select(Conflict)))


def make_pair(cloud: ServerThread, tmp_path: Path) -> tuple[Replica, Replica]:
    """Two replicas of a new project of user ``ann``."""
    token = cloud.new_user(name="ann", password="pw").token

    async def create() -> str:
        async with open_remote(cloud.url, token) as client:
            return (await client.create_project("demo")).id

    project_id = asyncio.run(create())
    return (
        Replica(tmp_path / "a", cloud, token, project_id),
        Replica(tmp_path / "b", cloud, token, project_id),
    )


def memory_pair(tmp_path: Path) -> tuple[Replica, Replica]:
    """Two replicas of a new project on an in-memory remote of their own (no server)."""
    url = f"memory://{tmp_path}"

    async def create() -> str:
        async with open_remote(url, "ann") as remote:
            return (await remote.create_project("demo")).id

    project_id = asyncio.run(create())
    return (
        Replica(tmp_path / "a", url, "ann", project_id),
        Replica(tmp_path / "b", url, "ann", project_id),
    )


def cloud_paths(replica: Replica) -> list[str]:
    """The project's current files, as the cloud lists them."""

    async def listing() -> list[str]:
        async with open_remote(replica.cloud_url, replica.token) as client:
            return sorted(v.path for v in await client.files(replica.project_id))

    return asyncio.run(listing())
