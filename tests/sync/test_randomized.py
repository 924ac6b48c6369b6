"""Randomized convergence, in the style of Dropbox's sync-engine tests.

Three replicas and one cloud. Random edits, creates, deletes and moves on every replica,
syncs that crash part-way (the sync task is cancelled at a random moment), local edits made
while a sync runs, replica restarts and cloud restarts. Then quiesce and check:

* every replica holds exactly the same files;
* every version a completed sync saw on disk survives: at its path, as a conflict copy, or
  in the cloud's revision history.

The seed of each run is printed; replay one with ``PFB_RANDOM_SEED=<seed>``, run more with
``PFB_RANDOM_SEEDS=<n>`` and longer with ``PFB_RANDOM_STEPS=<n>``.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
from pathlib import Path

import pytest

from project_filebrowser.cloud.client import CloudClient, CloudError
from project_filebrowser.store import LocalProjectRow, Store
from project_filebrowser.store.migrate import upgrade
from project_filebrowser.sync.project import ProjectSync
from support.cloud import ServerThread, start_server

SEEDS = (
    [int(os.environ["PFB_RANDOM_SEED"])]
    if "PFB_RANDOM_SEED" in os.environ
    else list(range(1, 1 + int(os.environ.get("PFB_RANDOM_SEEDS", "6"))))
)
STEPS = int(os.environ.get("PFB_RANDOM_STEPS", "60"))
PATHS = ["a.txt", "b.txt", "nb/x.ipynb", "nb/y.ipynb", "deep/er/z.csv", "c.md"]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class World:
    def __init__(self, tmp: Path, rng: random.Random) -> None:
        self.tmp, self.rng = tmp, rng
        self.cloud: ServerThread = start_server(tmp / "cloud", max_file_size=1 << 20)
        self.cloud.service.create_user("ann", "pw")
        self.token = self.cloud.service.issue_token("ann")
        self.url = self.cloud.url
        self.project_id = asyncio.run(self._create_project())
        self.roots: list[Path] = []
        self.stores: list[Store] = []
        for n in range(3):
            root = tmp / f"r{n}" / "files"
            root.mkdir(parents=True)
            db_url = f"sqlite:///{tmp / f'r{n}' / 'state.db'}"
            upgrade(db_url)
            store = Store(db_url)
            with store.write() as session:
                session.add(
                    LocalProjectRow(
                        id=self.project_id, cloud_url=self.url, name="rand", local_path=str(root)
                    )
                )
            self.roots.append(root)
            self.stores.append(store)
        self.counter = 0
        self.must_survive: set[str] = set()
        self.labels: dict[str, str] = {}
        self.log: list[str] = []

    async def _create_project(self) -> str:
        async with CloudClient(self.url, self.token) as client:
            return (await client.create_project("rand")).id

    # -- local operations ---------------------------------------------------------------

    def files(self, n: int) -> dict[str, bytes]:
        root = self.roots[n]
        out = {}
        for dirpath, _dirs, names in os.walk(root):
            for name in names:
                full = Path(dirpath) / name
                if name.endswith(".pfb.tmp"):
                    continue  # the engine's own temp files come and go while it runs
                out[full.relative_to(root).as_posix()] = full.read_bytes()
        return out

    def folders(self, n: int) -> set[str]:
        root = self.roots[n]
        return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_dir()}

    def local_op(self, n: int) -> None:
        rng, root = self.rng, self.roots[n]
        existing = sorted(self.files(n))
        kind = rng.choice(["write", "write", "write", "delete", "move", "mkdir"])
        if kind != "write" and not existing:
            kind = "write"
        if kind == "mkdir":
            folder = root / rng.choice(["empty", "nb/sub", "deep/er/est", "x"])
            if not any(p.is_file() for p in [folder, *folder.parents] if p != root):
                folder.mkdir(parents=True, exist_ok=True)
                self.log.append(f"r{n} mkdir {folder.relative_to(root)}")
            return
        if kind == "write":
            path = rng.choice(existing + PATHS) if existing else rng.choice(PATHS)
            self.counter += 1
            data = f"v{self.counter} from r{n} to {path}\n".encode() * rng.randint(1, 40)
            target = root / path
            if target.parent.is_file():
                return
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            self.labels[sha(data)] = f"v{self.counter}"
            self.log.append(f"r{n} write {path} v{self.counter}")
        elif kind == "delete":
            path = rng.choice(existing)
            (root / path).unlink()
            self.log.append(f"r{n} delete {path}")
        else:
            path = rng.choice(existing)
            dest = rng.choice([p for p in PATHS if p != path] + [f"moved/{Path(path).name}"])
            target = root / dest
            if target.exists() or target.parent.is_file():
                return
            target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(root / path, target)
            self.log.append(f"r{n} move {path} -> {dest}")

    # -- syncs, crashes, restarts -------------------------------------------------------

    async def _sync(self, n: int, crash_after: float | None, edit_during: bool) -> bool:
        seen = {sha(data) for data in self.files(n).values()}
        async with CloudClient(self.url, self.token, backoff_max=1.0) as client:
            syncer = ProjectSync(
                project_id=self.project_id,
                root=self.roots[n],
                client=client,
                store=self.stores[n],
                transfers=asyncio.Semaphore(3),
                max_delete_fraction=1.0,
            )
            task = asyncio.create_task(syncer.run())
            if edit_during:
                await asyncio.sleep(self.rng.uniform(0, 0.02))
                self.local_op(n)
            if crash_after is not None:
                await asyncio.sleep(crash_after)
                task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                self.log.append(f"r{n} sync crashed")
                return False
            except CloudError as exc:
                self.log.append(f"r{n} sync failed: {exc}")
                return False
        if not edit_during:  # an edit racing the scan may replace bytes never read: fair
            self.must_survive |= seen
        self.log.append(f"r{n} synced" + (" with an edit during" if edit_during else ""))
        return True

    def sync(self, n: int, *, crash: bool = False, edit_during: bool = False) -> bool:
        crash_after = self.rng.uniform(0, 0.05) if crash else None
        return asyncio.run(self._sync(n, crash_after, edit_during))

    def restart_replica(self, n: int) -> None:
        self.stores[n].dispose()
        self.stores[n] = Store(self.stores[n].url)
        self.log.append(f"r{n} restart")

    def restart_cloud(self) -> None:
        self.cloud = self.cloud.restart()
        self.log.append("cloud restart")

    def step(self) -> None:
        rng = self.rng
        n = rng.randrange(3)
        roll = rng.random()
        if roll < 0.45:
            self.local_op(n)
        elif roll < 0.75:
            self.sync(n)
        elif roll < 0.85:
            self.sync(n, crash=True)
        elif roll < 0.93:
            self.sync(n, edit_during=True)
        elif roll < 0.97:
            self.restart_replica(n)
        else:
            self.restart_cloud()

    def quiesce(self) -> None:
        for _round in range(12):
            results = [self.sync(n) for n in range(3)]
            snapshots = [(self.files(n), self.folders(n)) for n in range(3)]
            converged = all(results) and snapshots[0] == snapshots[1] == snapshots[2]
            # and one more full round must change nothing
            stable = converged and all(self.sync(n) for n in range(3))
            if stable and [(self.files(n), self.folders(n)) for n in range(3)] == snapshots:
                return
        trees = [(sorted(self.files(n)), sorted(self.folders(n))) for n in range(3)]
        raise AssertionError(f"replicas did not converge: {trees}; log: {self.log}")

    def cloud_history(self) -> set[str]:
        """Every content the cloud ever held for the project, through its public API."""

        async def history() -> set[str]:
            async with CloudClient(self.url, self.token) as client:
                paths: set[str] = set()
                since, more = 0, True
                while more:
                    page = await client.changes(self.project_id, since)
                    for change in page.items:
                        paths.add(change.path)
                        if change.from_path:
                            paths.add(change.from_path)
                    since, more = page.next_since, page.has_more
                shas: set[str] = set()
                for path in paths:
                    shas |= {
                        v.sha256 for v in await client.revisions(self.project_id, path) if v.sha256
                    }
                return shas

        return asyncio.run(history())

    def close(self) -> None:
        for store in self.stores:
            store.dispose()
        self.cloud.stop()


@pytest.mark.parametrize("seed", SEEDS)
def test_replicas_converge_and_nothing_is_lost(seed: int, tmp_path: Path) -> None:
    print(f"randomized sync seed={seed} steps={STEPS} (replay: PFB_RANDOM_SEED={seed})")
    world = World(tmp_path, random.Random(seed))
    try:
        for _ in range(STEPS):
            world.step()
        world.quiesce()
        final = world.files(0)
        assert world.files(1) == final and world.files(2) == final
        assert world.folders(0) == world.folders(1) == world.folders(2)
        surviving = {sha(data) for data in final.values()} | world.cloud_history()
        lost = world.must_survive - surviving
        names = sorted(world.labels.get(s, s[:8]) for s in lost)
        assert not lost, f"seed {seed}: lost {names}; log: {world.log}"
        leftovers = [p for n in range(3) for p in world.roots[n].rglob("*.pfb.tmp")]
        assert not leftovers, leftovers
    finally:
        world.close()
