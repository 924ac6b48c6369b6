"""Retention of revisions and the garbage collector (issue 17, the cloud half).

* (the policy as a table is in ``test_retention_policy.py``);
* end to end against a real server on both stacks: old revisions thinned, their blobs
  removed after the grace period, everything kept still downloadable byte-exact,
  checkpoints restorable, the change feed pageable;
* ``cloud gc`` (dry run and real) and the periodic run in ``CloudServer``;
* a randomized run (uploads, batches by reference, deletes, moves, checkpoints, clock
  advances, GC runs, by-reference uploads racing a GC in threads). The seed is printed;
  replay one with ``PFB_RANDOM_SEED=<seed>``, more steps with ``PFB_RANDOM_STEPS=<n>``.

"Now" is injected: the server's revision times come from a fake clock (``revisions.utcnow``
patched; the server runs in this process), and each GC run is given the same clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from project_cloud import revisions as revisions_module
from project_cloud import writes as writes_module
from project_cloud.cli import cloud as cloud_cli
from project_cloud.gc import GcReport, collect, loose_blobs
from project_cloud.models import PackedBlob
from support.cloud import ServerThread, User, new_user

BATCH_TYPE = "application/vnd.project-cloud.batch"
UTC = dt.timezone.utc
DAY = dt.timedelta(days=1)


# --- a server with a fake clock -------------------------------------------------------------


class Clock:
    """The fake "now" of the server's revisions and of GC runs."""

    def __init__(self, start: dt.datetime) -> None:
        self.current = start
        self.lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self.lock:
            return self.current

    def advance(self, delta: dt.timedelta) -> None:
        with self.lock:
            self.current += delta


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock(dt.datetime.now(UTC) - dt.timedelta(days=400))
    monkeypatch.setattr(revisions_module, "utcnow", c.now)
    return c


STACKS = ("sqlite-folder", "postgres-s3")


@pytest.fixture(params=STACKS)
def gc_cloud(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerThread]:
    """A server of its own (a GC run touches every project), no periodic GC."""
    options: dict[str, Any] = {"gc_interval": None, "gc_grace": dt.timedelta(hours=1)}
    if request.param == "sqlite-folder":
        server = ServerThread.in_folder(tmp_path / "cloud", **options)
    else:
        db_url, storage_url = request.getfixturevalue("team_urls")
        server = ServerThread(db_url, storage_url, **options)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def owner(gc_cloud: ServerThread) -> Iterator[User]:
    user = new_user(gc_cloud, "keeper")
    yield user
    user.client.close()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def url(pid: str, path: str) -> str:
    return f"/projects/{pid}/files/{quote(path, safe='/')}"


def put(user: User, pid: str, path: str, data: bytes) -> dict[str, Any]:
    r = user.client.put(url(pid, path), content=data)
    assert r.status_code in (200, 201), r.text
    return dict(r.json())


def batch(user: User, pid: str, items: list[tuple[str, bytes, bool]]) -> httpx.Response:
    """A batch: (path, content, by reference?) items."""
    manifest = [
        {"path": p, "size": len(d), "sha256": sha(d), **({"stored": True} if ref else {})}
        for p, d, ref in items
    ]
    body = json.dumps({"items": manifest}).encode() + b"\n"
    body += b"".join(d for _p, d, ref in items if not ref)
    return user.client.post(
        f"/projects/{pid}/batch", content=body, headers={"Content-Type": BATCH_TYPE}
    )


def download(user: User, pid: str, path: str, revision: str) -> httpx.Response:
    return user.client.get(url(pid, path), params={"revision": revision})


def history(user: User, pid: str, path: str) -> list[dict[str, Any]]:
    r = user.client.get(f"/projects/{pid}/revisions/{quote(path, safe='/')}")
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def listing(user: User, pid: str) -> dict[str, dict[str, Any]]:
    r = user.client.get(f"/projects/{pid}/files", params={"limit": 1000})
    assert r.status_code == 200 and r.json()["next_page_token"] is None
    return {v["path"]: v for v in r.json()["items"]}


def all_changes(user: User, pid: str, limit: int = 3) -> list[dict[str, Any]]:
    """The whole change feed, paged ``limit`` at a time."""
    since, out = 0, []
    while True:
        r = user.client.get(f"/projects/{pid}/changes", params={"since": since, "limit": limit})
        assert r.status_code == 200, r.text
        page = r.json()
        out.extend(page["items"])
        since = page["next_since"]
        if not page["has_more"]:
            return out


def stored(server: ServerThread, digest: str) -> bool:
    """Does the blob store still hold these bytes (loose or packed)?"""
    core = server.server.service.core
    with core.reading() as s:
        if s.scalar(select(PackedBlob.sha256).where(PackedBlob.sha256 == digest)) is not None:
            return True
    return core.blobs.exists(digest)


def run_gc(server: ServerThread, now: dt.datetime, keep_days: int, **kw: Any) -> GcReport:
    return collect(server.server.service.core, now=now, keep_days=keep_days, **kw)


# --- end to end -------------------------------------------------------------------------------


def test_gc_thins_history_and_keeps_what_it_must(
    gc_cloud: ServerThread, owner: User, clock: Clock
) -> None:
    pid = owner.client.post("/projects", json={"name": "history"}).json()["id"]
    contents: dict[str, bytes] = {}
    # day 0..9: a.txt twice a day (a loose blob each); a batch of small (packed) files
    for day in range(10):
        for half in range(2):
            data = f"a day {day} half {half}".encode() * 50
            v = put(owner, pid, "a.txt", data)
            contents[v["revision"]] = data
            clock.advance(dt.timedelta(hours=12))
        if day == 2:
            r = batch(owner, pid, [(f"s/{n}.txt", f"small {n}".encode(), False) for n in range(3)])
            assert r.status_code == 200, r.text
            for n, res in enumerate(r.json()["items"]):
                contents[res["version"]["revision"]] = f"small {n}".encode()
            gone = put(owner, pid, "gone.txt", b"deleted later")
            contents[gone["revision"]] = b"deleted later"
            cp = owner.client.post(f"/projects/{pid}/checkpoints", json={"name": "day2"}).json()
            at_cp = {p: v["revision"] for p, v in listing(owner, pid).items()}
        if day == 3:
            assert owner.client.delete(url(pid, "gone.txt")).status_code == 204
            r = batch(owner, pid, [("s/0.txt", b"small 0 v2", False)])
            contents[r.json()["items"][0]["version"]["revision"]] = b"small 0 v2"
    before = history(owner, pid, "a.txt")
    assert len(before) == 20
    feed_before = all_changes(owner, pid)

    # ten days after the last write, keeping 3 days: days 7..9 whole, then one a day
    clock.advance(dt.timedelta(days=1))
    first = run_gc(gc_cloud, clock.now(), keep_days=3)
    after = history(owner, pid, "a.txt")
    assert first.revisions > 0 and 10 < len(after) < 20
    kept = {v["revision"] for v in after}
    dropped = [v for v in before if v["revision"] not in kept]
    assert first.revisions == len(dropped)
    assert first.marked == len(dropped)  # each dropped a.txt revision had its own content
    assert first.blobs == 0  # marked now, removed after the grace period
    for v in dropped:
        assert download(owner, pid, "a.txt", v["revision"]).status_code == 404
        assert stored(gc_cloud, v["sha256"])

    # an hour later the unreferenced blobs go
    clock.advance(dt.timedelta(hours=2))
    second = run_gc(gc_cloud, clock.now(), keep_days=3)
    assert second.revisions == 0 and second.blobs == len(dropped)
    assert second.bytes_freed == sum(v["size"] for v in dropped)
    for v in dropped:
        assert not stored(gc_cloud, v["sha256"])

    # everything kept downloads byte-exact
    for path in ("a.txt", "s/0.txt", "s/1.txt", "s/2.txt", "gone.txt"):
        for v in history(owner, pid, path):
            if v["deleted"]:
                continue
            r = download(owner, pid, path, v["revision"])
            assert r.status_code == 200, (path, v)
            assert r.content == contents[v["revision"]]
    # the deleted file's last version is kept; the checkpoint's revisions too
    assert [v["deleted"] for v in history(owner, pid, "gone.txt")] == [True, False]
    for path, revision in at_cp.items():
        assert download(owner, pid, path, revision).status_code == 200, path
    # the replaced packed blob ("small 0") is held by the checkpoint: still stored
    assert stored(gc_cloud, sha(b"small 0"))

    # the feed pages to the same final state per path
    feed = all_changes(owner, pid)
    assert len(feed) == len(feed_before) - len(dropped)
    final = {c["path"]: c["revision"] for c in feed}
    assert final == {c["path"]: c["revision"] for c in feed_before}
    seqs = [c["seq"] for c in feed]
    assert seqs == sorted(seqs)

    # a checkpoint restore still brings back its state
    r = owner.client.post(f"/projects/{pid}/checkpoints/{cp['id']}/restore")
    assert r.status_code == 200, r.text
    now_files = listing(owner, pid)
    assert set(now_files) == set(at_cp)
    for path, revision in at_cp.items():
        old = download(owner, pid, path, revision).content
        assert owner.client.get(url(pid, path)).content == old

    # a third run removes nothing more; keep-days 0 never thins
    clock.advance(dt.timedelta(days=400))
    assert run_gc(gc_cloud, clock.now(), keep_days=0).revisions == 0


def test_by_reference_upload_of_a_collected_blob_is_refused(
    gc_cloud: ServerThread, owner: User, clock: Clock
) -> None:
    """Content only in dropped history: reusing it by reference after it was collected is
    409 ``unknown_content`` (send the bytes), never a revision without bytes."""
    pid = owner.client.post("/projects", json={"name": "refs"}).json()["id"]
    put(owner, pid, "f.txt", b"old content")
    clock.advance(DAY)
    put(owner, pid, "f.txt", b"new content")
    clock.advance(dt.timedelta(days=100))
    run_gc(gc_cloud, clock.now(), keep_days=1)
    # dropped, marked, not yet removed: a reference is refused (the project no longer
    # holds it in any revision)
    r = batch(owner, pid, [("copy.txt", b"old content", True)])
    assert r.json()["items"][0]["error"]["code"] == "unknown_content"
    # same content sent as bytes by another path: the mark is claimed, the blob stays
    r = batch(owner, pid, [("copy.txt", b"old content", False)])
    assert r.json()["items"][0]["status"] == 201
    clock.advance(dt.timedelta(hours=2))
    report = run_gc(gc_cloud, clock.now(), keep_days=1)
    assert report.blobs == 0 and stored(gc_cloud, sha(b"old content"))
    assert owner.client.get(url(pid, "copy.txt")).content == b"old content"


def test_gc_between_a_reference_check_and_its_commit(
    gc_cloud: ServerThread, owner: User, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race made deterministic: a batch finds the content held (``packs.held``, before
    its transaction), then a whole GC run drops the only revision holding it and removes
    the bytes, then the batch's transaction runs. The in-transaction claim refuses the item
    (409 ``unknown_content``); the other items are committed, the one whose bytes the batch
    brought (already packed, so not written again, then collected) packed anew."""
    pid = owner.client.post("/projects", json={"name": "race"}).json()["id"]
    put(owner, pid, "f.txt", b"only in old history")
    assert batch(owner, pid, [("p.txt", b"packed, old", False)]).status_code == 200
    clock.advance(DAY)
    put(owner, pid, "f.txt", b"newer")
    assert batch(owner, pid, [("p.txt", b"packed, newer", False)]).status_code == 200
    put(owner, pid, "other.txt", b"still live")
    clock.advance(dt.timedelta(days=100))
    real_held = writes_module.held
    reports: list[GcReport] = []

    def held_then_collect(*args: Any) -> dict[str, int]:
        found = real_held(*args)
        reports.append(run_gc(gc_cloud, clock.now(), keep_days=1, grace=dt.timedelta(0)))
        return found

    monkeypatch.setattr(writes_module, "held", held_then_collect)
    r = batch(
        owner,
        pid,
        [
            ("copy.txt", b"only in old history", True),
            ("copy2.txt", b"still live", True),
            ("again.txt", b"packed, old", False),  # its bytes were packed: packed again
        ],
    )
    assert r.status_code == 200, r.text
    first, second, third = r.json()["items"]
    assert first["status"] == 409 and first["error"]["code"] == "unknown_content"
    assert second["status"] == 201 and third["status"] == 201
    assert reports[0].revisions == 2 and reports[0].blobs == 2
    assert not stored(gc_cloud, sha(b"only in old history"))
    assert owner.client.get(url(pid, "again.txt")).content == b"packed, old"
    assert "copy.txt" not in listing(owner, pid)
    assert owner.client.get(url(pid, "copy2.txt")).content == b"still live"


def test_cli_gc_dry_run_then_real(tmp_path: Path, clock: Clock) -> None:
    """``cloud gc`` on the data of a stopped server (real "now": the fake clock is 400
    days in the past)."""
    server = ServerThread.in_folder(tmp_path, gc_interval=None).start()
    try:
        user = new_user(server, "cli")
        pid = user.client.post("/projects", json={"name": "cli"}).json()["id"]
        for n in range(5):
            put(user, pid, "f.txt", f"version {n}".encode() * 100)
            clock.advance(dt.timedelta(minutes=1))
        user.client.close()
    finally:
        server.stop()
    db, storage = f"sqlite:///{tmp_path / 'cloud.db'}", str(tmp_path / "blobs")
    runner = CliRunner()
    base = ["gc", "--db", db, "--storage", storage]
    r = runner.invoke(cloud_cli, [*base, "--dry-run"])
    assert r.exit_code == 0, r.output
    assert "Would remove 4 revisions" in r.output
    assert "Would remove 0 blobs" in r.output  # none unreferenced for the grace yet
    assert "1 blobs are unreferenced" not in r.output
    r = runner.invoke(cloud_cli, [*base, "--keep-days", "0"])
    assert r.exit_code == 0 and "Removed 0 revisions (keeping all days)" in r.output
    r = runner.invoke(cloud_cli, base)
    assert r.exit_code == 0, r.output
    assert "Removed 4 revisions" in r.output and "4 blobs newly found unreferenced" in r.output
    r = runner.invoke(cloud_cli, [*base, "--dry-run", "--grace-minutes", "0"])
    assert "Would remove 4 blobs" in r.output and "4 blobs are unreferenced" in r.output
    assert len(loose_blobs(_store(storage))) == 5
    r = runner.invoke(cloud_cli, [*base, "--grace-minutes", "0"])
    assert r.exit_code == 0, r.output
    assert "Removed 0 revisions" in r.output and "Removed 4 blobs and 0 packs, 3600 bytes" in (
        r.output
    )
    assert len(loose_blobs(_store(storage))) == 1


def _store(url: str) -> Any:
    from project_cloud.blobs import BlobStore

    return BlobStore(url)


def test_server_runs_gc_periodically(tmp_path: Path) -> None:
    server = ServerThread.in_folder(
        tmp_path, gc_interval=3600.0, gc_first_delay=0.0, keep_days=5
    ).start()
    try:
        deadline = time.monotonic() + 30
        while server.server.last_gc is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.server.last_gc is not None and server.server.last_gc.revisions == 0
    finally:
        server.stop()


# --- randomized -----------------------------------------------------------------------------

SEEDS = (
    [int(os.environ["PFB_RANDOM_SEED"])]
    if "PFB_RANDOM_SEED" in os.environ
    else list(range(1, 1 + int(os.environ.get("PFB_RANDOM_SEEDS", "2"))))
)
STEPS = int(os.environ.get("PFB_RANDOM_STEPS", "60"))
PATHS = [f"d{n % 3}/f{n}.txt" for n in range(8)]
POOL = [f"content {n}\n".encode() * (1 + n * 7) for n in range(12)]


class Model:
    """What the test knows was accepted: every revision's bytes, checkpoints' states."""

    def __init__(self) -> None:
        self.bytes_of: dict[str, bytes] = {}  # revision -> content (live revisions)
        self.checkpoints: list[tuple[str, dict[str, str]]] = []  # (id, path -> revision)

    def accept(self, version: dict[str, Any], data: bytes) -> None:
        assert version["sha256"] == sha(data)
        self.bytes_of[version["revision"]] = data


def _check(server: ServerThread, user: User, pid: str, model: Model, ever: set[str]) -> None:
    """Every revision the cloud lists downloads byte-exact; every head, every checkpoint's
    revision and every deleted path's last live revision is there."""
    files = listing(user, pid)
    for path in sorted(ever):
        revs = history(user, pid, path)
        live = [v for v in revs if not v["deleted"] and v["path"] == path]
        if revs[0]["deleted"] and live:
            assert download(user, pid, path, live[0]["revision"]).status_code == 200
        for v in revs:
            if v["deleted"]:
                continue
            r = download(user, pid, v["path"], v["revision"])
            assert r.status_code == 200, (path, v)
            assert sha(r.content) == v["sha256"]
            if v["revision"] in model.bytes_of:
                assert r.content == model.bytes_of[v["revision"]]
    for path, v in files.items():
        assert user.client.get(url(pid, path)).content == model.bytes_of[v["revision"]]
    for _cp, state in model.checkpoints:
        for path, revision in state.items():
            r = download(user, pid, path, revision)
            assert r.status_code == 200, (path, revision)
            assert r.content == model.bytes_of[revision]


def _race(
    server: ServerThread, user: User, pid: str, model: Model, rng: random.Random, now: Any
) -> None:
    """By-reference uploads (and PUTs of stored content) racing an aggressive GC."""
    held = [d for d in POOL if any(sha(d) == sha(b) for b in model.bytes_of.values())]
    results: list[tuple[str, bytes, httpx.Response]] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def uploader(n: int) -> None:
        with httpx.Client(
            base_url=server.api, headers={"Authorization": f"Bearer {user.token}"}
        ) as c:
            start.wait()
            for k in range(3):
                data = rng.choice(held) if held else POOL[0]
                path = f"race/{n}-{k}-{rng.random():.6f}.txt"
                if k == 1:
                    r = c.put(url(pid, path), content=data)
                else:
                    body = (
                        json.dumps(
                            {
                                "items": [
                                    {
                                        "path": path,
                                        "size": len(data),
                                        "sha256": sha(data),
                                        "stored": True,
                                    }
                                ]
                            }
                        ).encode()
                        + b"\n"
                    )
                    r = c.post(
                        f"/projects/{pid}/batch", content=body, headers={"Content-Type": BATCH_TYPE}
                    )
                with lock:
                    results.append((path, data, r))

    def collector() -> None:
        start.wait()
        run_gc(server, now, keep_days=1, grace=dt.timedelta(0))

    threads = [threading.Thread(target=uploader, args=(n,)) for n in range(3)]
    threads.append(threading.Thread(target=collector))
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    refused = 0
    for path, data, r in results:
        assert r.status_code in (200, 201, 409), r.text
        reply = r.json()
        if "items" in reply:  # a batch of one
            reply = reply["items"][0]
            ok, version = reply["status"] in (200, 201), reply.get("version")
        else:
            ok, version = r.status_code in (200, 201), reply
        if ok:  # accepted: its bytes are there
            model.accept(version, data)
            assert user.client.get(url(pid, path)).content == data
        else:  # refused: the content was collected meanwhile (send the bytes)
            refused += 1
            assert reply["error"]["code"] == "unknown_content", reply
    print(f"race: {len(results) - refused} uploads accepted, {refused} refused")


@pytest.mark.parametrize("seed", SEEDS)
def test_randomized_gc(gc_cloud: ServerThread, owner: User, clock: Clock, seed: int) -> None:
    print(f"seed {seed} (replay: PFB_RANDOM_SEED={seed})")
    rng = random.Random(seed)
    pid = owner.client.post("/projects", json={"name": f"random{seed}"}).json()["id"]
    model = Model()
    ever: set[str] = set()
    for step in range(STEPS):
        files = listing(owner, pid)
        action = rng.choices(
            ["put", "batch", "delete", "move", "checkpoint", "advance", "gc", "race"],
            [6, 4, 2, 1, 1, 3, 2, 1],
        )[0]
        if action == "put":
            path, data = rng.choice(PATHS), rng.choice(POOL)
            model.accept(put(owner, pid, path, data), data)
            ever.add(path)
        elif action == "batch":
            paths = rng.sample(PATHS, rng.randint(1, 4))
            known = list(model.bytes_of.values())
            items = []
            for path in paths:
                if known and rng.random() < 0.5:
                    items.append((path, rng.choice(known), True))
                else:
                    items.append((path, rng.choice(POOL), False))
            r = batch(owner, pid, items)
            assert r.status_code == 200, r.text
            for (path, data, ref), res in zip(items, r.json()["items"], strict=True):
                if res["status"] in (200, 201):
                    model.accept(res["version"], data)
                    ever.add(path)
                else:  # content only in thinned history, or a file/folder clash
                    assert ref or res["error"]["code"] == "path_conflict", res
        elif action == "delete" and files:
            path = rng.choice(sorted(files))
            assert owner.client.delete(url(pid, path)).status_code == 204
        elif action == "move" and files:
            src = rng.choice(sorted(files))
            dst = rng.choice([p for p in PATHS if p not in files] or ["moved/x.txt"])
            r = owner.client.post(f"/projects/{pid}/moves", json={"from": src, "to": dst})
            if r.status_code == 200:
                model.accept(r.json(), model.bytes_of[files[src]["revision"]])
                ever.add(dst)
        elif action == "checkpoint":
            r = owner.client.post(f"/projects/{pid}/checkpoints", json={"name": f"cp{step}"})
            assert r.status_code == 201, r.text
            model.checkpoints.append((r.json()["id"], {p: v["revision"] for p, v in files.items()}))
        elif action == "advance":
            clock.advance(dt.timedelta(days=rng.choice([0.2, 1, 3, 10, 40])))
        elif action == "gc":
            run_gc(gc_cloud, clock.now(), keep_days=rng.choice([1, 2, 5]))
            _check(gc_cloud, owner, pid, model, ever)
        elif action == "race":
            _race(gc_cloud, owner, pid, model, rng, clock.now() + dt.timedelta(days=30))
            ever.update(p for p in listing(owner, pid) if p.startswith("race/"))
            _check(gc_cloud, owner, pid, model, ever)
    clock.advance(dt.timedelta(days=500))
    run_gc(gc_cloud, clock.now(), keep_days=1)
    clock.advance(dt.timedelta(hours=2))
    run_gc(gc_cloud, clock.now(), keep_days=1)
    _check(gc_cloud, owner, pid, model, ever)
    if model.checkpoints:
        cp, state = model.checkpoints[-1]
        r = owner.client.post(f"/projects/{pid}/checkpoints/{cp}/restore")
        assert r.status_code == 200, r.text
        restored = listing(owner, pid)
        assert set(restored) == set(state)
        for path, revision in state.items():
            assert owner.client.get(url(pid, path)).content == model.bytes_of[revision]
