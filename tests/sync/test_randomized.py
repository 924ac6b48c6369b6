"""Randomized convergence, in the style of Dropbox's sync-engine tests.

Three replicas and one cloud. Random edits, creates, deletes and moves on every replica,
syncs that crash part-way (the sync task is cancelled at a random moment), local edits made
while a sync runs, replica restarts and cloud restarts. Hostile names among the paths:
route words of the cloud's URLs at every depth, a name of 254 bytes, and names the cloud
cannot hold (not UTF-8, a control character), which stay on their replica only. And a
replica's folder vanishes now and then (an unmounted disk) while it syncs. Notebooks are
edited cell by cell (a cell's source replaced, a cell inserted or deleted), so edits made on
two replicas before either syncs merge. Then quiesce and check:

* every replica holds exactly the same files, apart from the names only it can hold;
* every version a completed sync saw on disk survives: at its path, as a conflict copy, or
  in the cloud's revision history; or, where it was merged, every cell (notebooks) or line
  (text) of it does;
* a sync of a vanished folder changed nothing in the cloud and did not recreate the folder;
* the names the cloud cannot hold are still on their replica, as last written.

The seed of each run is printed; replay one with ``PFB_RANDOM_SEED=<seed>``, run more with
``PFB_RANDOM_SEEDS=<n>`` and longer with ``PFB_RANDOM_STEPS=<n>``.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import time
from pathlib import Path

import nbformat
import pytest

from project_filebrowser.cloud.client import CloudClient, CloudError
from project_filebrowser.store import LocalProjectRow, Store
from project_filebrowser.store.migrate import upgrade
from project_filebrowser.sync import state
from project_filebrowser.sync.planner import GUARD_ROOT_MISSING
from project_filebrowser.sync.project import ProjectSync
from project_filebrowser.sync.steps import CycleResult
from support.cloud import ServerThread, start_server

SEEDS = (
    [int(os.environ["PFB_RANDOM_SEED"])]
    if "PFB_RANDOM_SEED" in os.environ
    else list(range(1, 1 + int(os.environ.get("PFB_RANDOM_SEEDS", "6"))))
)
STEPS = int(os.environ.get("PFB_RANDOM_STEPS", "60"))
PATHS = [
    "a.txt",
    "b.txt",
    "nb/x.ipynb",
    "nb/y.ipynb",
    "deep/er/z.csv",
    "c.md",
    # route words of the cloud's URLs, as files and as folders, at every depth
    "revisions",
    "sub/revisions",
    "batch",
    "moves/content",
    "files/history/checkpoints",
    "L" * 250 + ".txt",  # 254 bytes: its temp file and conflict copy must fit too
]
NOTEBOOKS = ["nb/x.ipynb", "nb/y.ipynb"]
# names the cloud cannot hold: skipped, they stay on the replica that made them
LOCAL_ONLY = [b"caf\xe9.txt", b"tab\there.txt", b"new\nline.ipynb"]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pieces(data: bytes) -> set[str]:
    """What a merge keeps of a version: a notebook's cell sources, else its lines."""
    try:
        return {str(c.source) for c in nbformat.reads(data.decode(), as_version=4).cells}
    except Exception:
        return set(data.decode("utf-8", "replace").splitlines())


class World:
    def __init__(self, tmp: Path, rng: random.Random) -> None:
        self.tmp, self.rng = tmp, rng
        self.cloud: ServerThread = start_server(tmp / "cloud", max_file_size=1 << 20)
        self.token = self.cloud.new_user(name="ann", password="pw").token
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
        self.seen: dict[str, bytes] = {}  # the bytes of each version a completed sync saw
        self.merges = 0
        self.local_only: list[dict[bytes, bytes]] = [{}, {}, {}]  # per replica: name -> bytes
        self.labels: dict[str, str] = {}
        self.log: list[str] = []

    async def _create_project(self) -> str:
        async with CloudClient(self.url, self.token) as client:
            return (await client.create_project("rand")).id

    # -- local operations ---------------------------------------------------------------

    def files(self, n: int) -> dict[str, bytes]:
        """What replica ``n`` holds that the cloud can hold too."""
        root = self.roots[n]
        out = {}
        for dirpath, _dirs, names in os.walk(root):
            for name in names:
                full = Path(dirpath) / name
                if name.endswith(".pfb.tmp"):
                    continue  # the engine's own temp files come and go while it runs
                rel = full.relative_to(root).as_posix()
                if os.fsencode(rel) not in LOCAL_ONLY:
                    out[rel] = full.read_bytes()
        return out

    def local_only_files(self, n: int) -> dict[bytes, bytes]:
        root = os.fsencode(self.roots[n])
        out = {}
        for name in LOCAL_ONLY:
            full = os.path.join(root, name)
            if os.path.isfile(full):
                with open(full, "rb") as handle:
                    out[name] = handle.read()
        return out

    def write_local_only(self, n: int) -> None:
        name = self.rng.choice(LOCAL_ONLY)
        full = os.path.join(os.fsencode(self.roots[n]), name)
        if os.path.isfile(os.path.dirname(full)):
            return
        os.makedirs(os.path.dirname(full), exist_ok=True)
        self.counter += 1
        data = f"v{self.counter} only on r{n}\n".encode()
        with open(full, "wb") as handle:
            handle.write(data)
        self.local_only[n][name] = data
        self.log.append(f"r{n} write {name!r} v{self.counter} (the cloud cannot hold it)")

    def edit_cell(self, n: int) -> None:
        """Replace a cell's source, insert a cell or delete one, in a notebook of replica
        ``n`` (a new notebook of four cells where there is none, or it does not parse)."""
        rng = self.rng
        path = rng.choice(NOTEBOOKS)
        target = self.roots[n] / path
        if target.parent.is_file():
            return
        self.counter += 1
        token = f"v{self.counter} from r{n}"
        try:
            nb = nbformat.reads(target.read_text(), as_version=4)
            what = rng.choice(["source", "source", "insert", "delete"])
        except Exception:
            nb = nbformat.v4.new_notebook()
            nb.cells = [
                nbformat.v4.new_code_cell(f"{token} cell {i}", id=f"v{self.counter}-{i}")
                for i in range(4)
            ]
            what = "new"
        if what == "source" and nb.cells:
            cell = rng.choice(nb.cells)
            cell.source = token
        elif what == "delete" and len(nb.cells) > 1:
            nb.cells.pop(rng.randrange(len(nb.cells)))
        elif what != "new":
            cell = nbformat.v4.new_markdown_cell(token, id=f"v{self.counter}")
            nb.cells.insert(rng.randrange(len(nb.cells) + 1), cell)
        data = nbformat.writes(nb).encode()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.labels[sha(data)] = f"v{self.counter}"
        self.log.append(f"r{n} notebook {path} {what} v{self.counter}")

    def folders(self, n: int) -> set[str]:
        root = self.roots[n]
        return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_dir()}

    def local_op(self, n: int) -> None:
        rng, root = self.rng, self.roots[n]
        existing = sorted(self.files(n))
        kind = rng.choice(
            ["write", "write", "write", "delete", "move", "mkdir", "local_only"] + ["cell"] * 5
        )
        if kind == "cell":
            self.edit_cell(n)
            return
        if kind == "local_only":
            self.write_local_only(n)
            return
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

    async def _sync(
        self, n: int, crash_after: float | None, edit_during: bool
    ) -> CycleResult | None:
        seen = {sha(data): data for data in self.files(n).values()}
        async with CloudClient(self.url, self.token, backoff_max=1.0) as client:
            syncer = ProjectSync(
                project_id=self.project_id,
                root=self.roots[n],
                client=client,
                store=self.stores[n],
                transfers=asyncio.Semaphore(3),
                max_delete_fraction=1.0,
            )
            task = asyncio.create_task(syncer.run(retry_failed=True))
            if edit_during:
                await asyncio.sleep(self.rng.uniform(0, 0.02))
                self.local_op(n)
            if crash_after is not None:
                await asyncio.sleep(crash_after)
                task.cancel()
            try:
                result = await task
            except asyncio.CancelledError:
                self.log.append(f"r{n} sync crashed")
                return None
            except CloudError as exc:
                self.log.append(f"r{n} sync failed: {exc}")
                return None
        if result.failures:  # no path of this world has a reason to fail
            self.log.append(f"r{n} sync: paths failed: {result.failures}")
            return None
        if not edit_during:  # an edit racing the scan may replace bytes never read: fair
            self.must_survive |= set(seen)
            self.seen.update(seen)
        self.merges += len(result.merged)
        merged = f", merged {result.merged}" if result.merged else ""
        self.log.append(f"r{n} synced" + (" with an edit during" if edit_during else "") + merged)
        return result

    def sync(self, n: int, *, crash: bool = False, edit_during: bool = False) -> bool:
        crash_after = self.rng.uniform(0, 0.05) if crash else None
        return asyncio.run(self._sync(n, crash_after, edit_during)) is not None

    def vanish(self, n: int) -> None:
        """The replica's folder goes away (an unmounted disk) during a sync, then comes back:
        the sync plans nothing, neither deletes in the cloud nor a recreated folder."""
        root = self.roots[n]
        away = root.with_name("away")
        before = self.cloud_files()
        while (now := self.cloud_files()) != before:  # a crashed sync's last request lands
            before = now
            time.sleep(0.2)
        with self.stores[n].read() as session:
            synced_before = bool(state.load_synced(session, self.project_id))
        root.rename(away)
        try:
            result = asyncio.run(self._sync(n, None, False))
            assert result is not None, self.log
            if synced_before:  # a project that synced here before is paused, not emptied
                assert result.guard is not None and result.guard.reason == GUARD_ROOT_MISSING
                assert result.operations == 0
            assert not root.exists(), "a sync recreated the vanished folder"
            assert self.cloud_files() == before, f"a vanished folder changed the cloud: {self.log}"
        finally:
            away.rename(root)
        self.log.append(f"r{n} folder vanished during a sync, then came back")

    def cloud_files(self) -> dict[str, str]:
        async def listing() -> dict[str, str]:
            async with CloudClient(self.url, self.token) as client:
                return {f.path: f.sha256 for f in await client.files(self.project_id)}

        return asyncio.run(listing())

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
        elif roll < 0.95:
            self.restart_replica(n)
        elif roll < 0.97:
            self.vanish(n)
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

    def cloud_history(self) -> dict[str, bytes]:
        """Every content the cloud ever held for the project, through its public API."""

        async def history() -> dict[str, bytes]:
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
                contents: dict[str, bytes] = {}
                for path in paths:
                    for v in await client.revisions(self.project_id, path):
                        if v.sha256 and v.sha256 not in contents:
                            data = bytearray()
                            await client.download(
                                self.project_id, path, data.extend, revision=v.revision
                            )
                            contents[v.sha256] = bytes(data)
                return contents

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
        kept = {sha(data): data for data in final.values()} | world.cloud_history()
        # a version merged into another survives as the cells (or lines) of the merge
        merged_into = set().union(*(pieces(data) for data in kept.values()))
        lost = {
            s for s in world.must_survive - set(kept) if not pieces(world.seen[s]) <= merged_into
        }
        names = sorted(world.labels.get(s, s[:8]) for s in lost)
        assert not lost, f"seed {seed}: lost {names}; log: {world.log}"
        print(f"seed {seed}: {world.merges} merges")
        leftovers = [p for n in range(3) for p in world.roots[n].rglob("*.pfb.tmp")]
        assert not leftovers, leftovers
        for n in range(3):  # the names the cloud cannot hold stayed where they were made
            kept = world.local_only_files(n)
            assert kept == {k: v for k, v in world.local_only[n].items() if k in kept}
            assert set(world.local_only[n]) <= set(kept), f"r{n} lost {world.local_only[n]}"
    finally:
        world.close()
