"""No-op resync: a fully synced project, nothing changed, the time to find that out.

For each project size (default: 5,000, 20,000 and 50,000 small files of 1-16 KiB, plus 20
files of 20 MiB in the first), the project is pushed once with ``project-filebrowser sync``;
then, with nothing changed, are timed (whole commands, process start included, best and
median of ``--repeat`` runs):

* ours: ``project-filebrowser sync NAME``: one request to the cloud's change feed and a
  stat-only walk of the whole folder, compared with the fingerprint the last clean check
  recorded (``clean_scans``);
* ours, full check: the same command with that fingerprint deleted before each run: the three
  trees read, a full rescan against the mtime/size/inode index, the plan, nothing to do (what
  the first no-op after any change costs);
* ours in-process: ``ProjectSync.plan()`` alone (DB loads + scan + plan), no process start;
* ``python -c pass`` and ``project-filebrowser --version``: the interpreter and import floor;
* ``rclone sync SRC bench:`` to ``rclone serve webdav`` on loopback (it lists both sides and
  compares sizes: rclone's WebDAV backend keeps no modification times);
* ``rclone sync SRC DST`` folder to folder.

    python bench/noop_resync.py [--files 5000,20000,50000] [--quick]

Target (the issue): 20,000 files < 0.5 s including process start, >= 10x faster than
rclone -> webdav.
"""

from __future__ import annotations

import argparse
import contextlib
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import (
    MIB,
    Cloud,
    Rclone,
    Replica,
    cli_command,
    generate,
    table,
    workdir,
)

IN_PROCESS = r"""
import asyncio, statistics, sys, time
from pathlib import Path
from project_filebrowser import credentials
from project_filebrowser.cloud.client import CloudClient
from project_filebrowser.store import Store
from project_filebrowser.store.models import LocalProjectRow
from project_filebrowser.sync.project import ProjectSync
from sqlalchemy import select

db_url, root, repeat = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])

async def main():
    login = credentials.load()
    store = Store(db_url)
    with store.read() as session:
        row = session.scalars(select(LocalProjectRow)).one()
        project_id, folder = row.id, root / row.local_path
    async with CloudClient(login.url, login.token) as client:
        sync = ProjectSync(project_id=project_id, root=folder, client=client, store=store,
                           transfers=asyncio.Semaphore(4))
        times, refresh = [], []
        for _ in range(repeat):
            t0 = time.perf_counter()
            await sync.refresh_remote()
            t1 = time.perf_counter()
            plan, scanned = await sync.plan()
            t2 = time.perf_counter()
            assert not plan.operations, plan.operations[:5]
            refresh.append(t1 - t0)
            times.append(t2 - t1)
    print(min(refresh), statistics.median(refresh), min(times), statistics.median(times))

asyncio.run(main())
"""


def timed(
    command: list[str],
    env: dict[str, str],
    repeat: int,
    before: Callable[[], None] = lambda: None,
) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        before()
        t0 = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def fmt(pair: tuple[float, float]) -> list[str]:
    return [f"{pair[0]:.3f} s", f"{pair[1]:.3f} s"]


def one_size(args: argparse.Namespace, files: int, big_files: int) -> list[list[str]]:
    rows: list[list[str]] = []
    with workdir(f"pfb-bench-noop-{files}-", keep=args.keep) as work:
        cloud = Cloud(work / "cloud")
        cloud.work.mkdir()
        rclone: Rclone | None = None
        try:
            cloud.start()
            replica = Replica(work, "a")
            replica.login(cloud)
            replica.run("create", "noop")
            folder = replica.folder("noop")
            print(f"[{files}] generating {files} small + {big_files} big files ...", flush=True)
            data = generate(folder, files, big_files, args.big_size * MIB)
            print(f"[{files}] first push of {data.files} files ...", flush=True)
            push = replica.run("sync", "noop")
            print(f"[{files}]   took {push:.1f} s", flush=True)
            label = f"{data.files} files"

            def forget_clean_scan() -> None:
                with contextlib.closing(sqlite3.connect(replica.db_file)) as db, db:
                    db.execute("DELETE FROM clean_scans")

            full = timed(replica.args("sync", "noop"), replica.env, args.repeat, forget_clean_scan)
            ours = timed(replica.args("sync", "noop"), replica.env, args.repeat)
            rows.append([label, "project-filebrowser sync (no-op)", *fmt(ours), "1.0x"])
            rows.append([label, "  the same, full check (no fingerprint)", *fmt(full), ""])
            if not args.no_in_process:
                out = subprocess.run(
                    [
                        sys.executable,
                        "-c",
                        IN_PROCESS,
                        replica.db,
                        str(replica.root),
                        str(args.repeat),
                    ],
                    env=replica.env,
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout.split()
                r_min, r_med, p_min, p_med = map(float, out)
                rows.append([label, "  in-process: refresh_remote()", *fmt((r_min, r_med)), ""])
                rows.append([label, "  in-process: plan() (scan+plan)", *fmt((p_min, p_med)), ""])
            floor = timed([sys.executable, "-c", "pass"], replica.env, args.repeat)
            rows.append([label, "  python -c pass", *fmt(floor), ""])
            version = timed(cli_command("--version"), replica.env, args.repeat)
            rows.append([label, "  project-filebrowser --version", *fmt(version), ""])

            if not args.no_rclone and files <= args.rclone_up_to:
                rclone = Rclone(work, transfers=args.transfers)
                remote = rclone.serve_webdav(work / "webdav")
                print(f"[{files}] rclone copy -> webdav (setup) ...", flush=True)
                rclone.run("copy", str(folder), remote)
                rclone.run("copy", str(folder), str(work / "copy"))
                times_w = [rclone.run("sync", str(folder), remote) for _ in range(args.repeat)]
                w = (min(times_w), statistics.median(times_w))
                rows.append(
                    [label, "rclone sync -> webdav (no-op)", *fmt(w), f"{w[1] / ours[1]:.1f}x"]
                )
                times_f = [
                    rclone.run("sync", str(folder), str(work / "copy")) for _ in range(args.repeat)
                ]
                f = (min(times_f), statistics.median(times_f))
                rows.append(
                    [
                        label,
                        "rclone sync folder -> folder (no-op)",
                        *fmt(f),
                        f"{f[1] / ours[1]:.1f}x",
                    ]
                )
        finally:
            if rclone is not None:
                rclone.stop()
            cloud.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--files", default="5000,20000,50000", help="comma-separated project sizes (small files)"
    )
    parser.add_argument("--big-files", type=int, default=20, help="big files, first size only")
    parser.add_argument("--big-size", type=int, default=20, help="MiB per big file")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each command")
    parser.add_argument("--transfers", type=int, default=4, help="rclone --transfers")
    parser.add_argument("--quick", action="store_true", help="1,000 files, 2 big, 3 repeats")
    parser.add_argument("--no-rclone", action="store_true")
    parser.add_argument(
        "--rclone-up-to",
        type=int,
        default=20000,
        help="run rclone only for sizes up to this many files (its WebDAV setup copy takes"
        " ~35 ms a file)",
    )
    parser.add_argument("--no-in-process", action="store_true", help="skip ProjectSync.plan()")
    parser.add_argument("--keep", action="store_true", help="keep the temp folders")
    args = parser.parse_args()
    sizes = [int(x) for x in args.files.split(",") if x.strip()]
    if args.quick:
        sizes, args.big_files, args.repeat = [1000], min(args.big_files, 2), 3
    rows: list[list[str]] = []
    for n, files in enumerate(sizes):
        rows.extend(one_size(args, files, args.big_files if n == 0 else 0))
    print()
    print("no-op resync: fully synced, nothing changed; whole commands unless 'in-process'")
    print(table(["project", "command", "best", "median", "median / ours"], rows, left=2))


if __name__ == "__main__":
    main()
