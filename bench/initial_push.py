"""Initial push: a generated project pushed from a fresh link, against rclone.

Three ways to move the same data (default 5,000 files of 1-16 KiB in nested folders plus 20
files of 20 MiB), each timed as whole commands, process start included:

* ours: ``project-filebrowser create`` (a fresh, empty link), the files are generated into
  the project folder, then ``project-filebrowser sync NAME`` is timed: it pushes everything
  to ``project-filebrowser cloud serve`` on loopback.
* the networked peer: ``rclone copy SRC bench:`` to ``rclone serve webdav`` on loopback.
* the floor: ``rclone copy SRC DST`` folder to folder (no network, no server).

Last, a side figure: ``data/`` (the big files) is copied inside the project and synced again:
content the cloud already holds travels by reference, so this costs no upload.

    python bench/initial_push.py [--files 5000] [--big-files 20] [--quick]

Targets (the issue): ours >= 5x faster than rclone -> webdav; within 5x of folder-to-folder.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import (
    MIB,
    Cloud,
    Rclone,
    Replica,
    drop_page_cache_hint,
    generate,
    table,
    workdir,
)


def run(args: argparse.Namespace) -> None:
    with workdir("pfb-bench-push-", keep=args.keep) as work:
        cloud = Cloud(work / "cloud")
        cloud.work.mkdir()
        rclone: Rclone | None = None
        results: list[tuple[str, float]] = []
        copied: tuple[float, float] | None = None  # (MiB, seconds)
        try:
            cloud.start()
            replica = Replica(work, "a")
            replica.login(cloud)
            replica.run("create", "push")
            folder = replica.folder("push")
            print(f"generating {args.files} small + {args.big_files} big files ...", flush=True)
            data = generate(folder, args.files, args.big_files, args.big_size * MIB)
            print(f"  {data.files} files, {data.mib:.1f} MiB", flush=True)
            drop_page_cache_hint()

            print("project-filebrowser sync (push to the cloud) ...", flush=True)
            results.append(("project-filebrowser sync -> cloud", replica.run("sync", "push")))

            if not args.no_rclone:
                rclone = Rclone(work, transfers=args.transfers)
                remote = rclone.serve_webdav(work / "webdav")
                drop_page_cache_hint()
                print("rclone copy -> rclone serve webdav ...", flush=True)
                results.append(("rclone copy -> webdav", rclone.run("copy", str(folder), remote)))
                drop_page_cache_hint()
                print("rclone copy folder -> folder ...", flush=True)
                results.append(
                    (
                        "rclone copy folder -> folder",
                        rclone.run("copy", str(folder), str(work / "copy")),
                    )
                )
            if (folder / "data").is_dir():  # last: the peers above copy the original only
                shutil.copytree(folder / "data", folder / "data-copy")
                mib = sum(f.stat().st_size for f in (folder / "data-copy").iterdir()) / MIB
                print(f"project-filebrowser sync of a copy of data/ ({mib:.0f} MiB) ...")
                copied = (mib, replica.run("sync", "push"))
        finally:
            if rclone is not None:
                rclone.stop()
            cloud.stop()

    ours = results[0][1]
    rows = []
    for label, seconds in results:
        ratio = seconds / ours
        rows.append(
            [
                label,
                f"{seconds:.2f} s",
                f"{data.mib / seconds:.1f}",
                f"{data.files / seconds:.0f}",
                f"{ratio:.2f}x" if label != results[0][0] else "1.00x",
            ]
        )
    print()
    print(
        f"initial push: {data.files} files ({args.files} x 1-16 KiB + {args.big_files} x "
        f"{args.big_size} MiB), {data.mib:.1f} MiB, loopback, whole commands"
    )
    print(table(["", "wall", "MiB/s", "files/s", "its time / ours"], rows))
    if len(results) == 3:
        webdav, floor = results[1][1], results[2][1]
        print()
        print(
            f"ours vs rclone->webdav: {webdav / ours:.2f}x faster (target >= 5x); "
            f"ours vs folder->folder: {ours / floor:.2f}x slower (target <= 5x)"
        )
    if copied is not None:
        print(
            f"then a copy of data/ ({copied[0]:.0f} MiB) made inside the project: synced in "
            f"{copied[1]:.2f} s (content the cloud holds is sent by reference, not again)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=5000, help="small files (1-16 KiB)")
    parser.add_argument("--big-files", type=int, default=20, help="big files")
    parser.add_argument("--big-size", type=int, default=20, help="MiB per big file")
    parser.add_argument("--transfers", type=int, default=4, help="rclone --transfers (ours: 4)")
    parser.add_argument("--quick", action="store_true", help="500 small + 2 big files")
    parser.add_argument("--no-rclone", action="store_true", help="only our sync")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    args = parser.parse_args()
    if args.quick:
        args.files, args.big_files = min(args.files, 500), min(args.big_files, 2)
    run(args)


if __name__ == "__main__":
    main()
