"""Propagation: one replica edits a small file; the time until the other has the new bytes.

A cloud (``project-filebrowser cloud serve``) on loopback and two CLI replicas, A and B,
each with its own state DB and folder, both running ``project-filebrowser sync NAME
--watch`` (the file watcher plus the cloud's change stream). A small file in A's folder is
rewritten ``--edits`` times; after each write B's copy is polled (every ``--poll-ms``) until
it holds the new bytes. The latency covers A's watcher debounce (0.2 s by default), A's
scan + upload, the change stream, B's refresh + download + atomic replace.

    python bench/propagation.py [--edits 100] [--quick]

Target (the issue): p50 <= 300 ms, p99 <= 1 s.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import Cloud, Replica, percentile, stop_process, table, workdir

EDITED = "notes/edited.txt"


def start_watch(replica: Replica, project: str) -> tuple[subprocess.Popen[bytes], threading.Event]:
    """``sync PROJECT --watch``; the event is set once it says it is watching."""
    proc = subprocess.Popen(
        replica.args("sync", project, "--watch"),
        env=replica.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    ready = threading.Event()
    log = open(replica.work / f"{replica.name}-watch.log", "wb")  # noqa: SIM115

    def pump() -> None:
        assert proc.stdout is not None
        with log:
            for line in proc.stdout:
                log.write(line)
                log.flush()
                if b"watching for changes" in line:
                    ready.set()

    threading.Thread(target=pump, daemon=True).start()
    return proc, ready


def wait_ready(proc: subprocess.Popen[bytes], ready: threading.Event, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not ready.wait(0.1):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{' '.join(map(str, proc.args))} did not start watching")


def wait_for_bytes(path: Path, expected: bytes, poll: float, timeout: float) -> bool:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        try:
            if path.read_bytes() == expected:
                return True
        except FileNotFoundError:
            pass
        time.sleep(poll)
    return False


def run(args: argparse.Namespace) -> None:
    latencies: list[float] = []
    timeouts = 0
    with workdir("pfb-bench-prop-", keep=args.keep) as work:
        cloud = Cloud(work / "cloud")
        cloud.work.mkdir()
        watchers: list[subprocess.Popen[bytes]] = []
        try:
            cloud.start()
            a, b = Replica(work, "a"), Replica(work, "b")
            a.login(cloud)
            b.login(cloud)
            a.run("create", "prop")
            folder_a = a.folder("prop")
            (folder_a / "notes").mkdir(parents=True)
            (folder_a / EDITED).write_bytes(b"start\n")
            for i in range(args.other_files):  # some company for the edited file
                (folder_a / "notes" / f"other{i:04d}.txt").write_bytes(os.urandom(2048))
            a.run("sync", "prop")
            b.run("link", "prop")
            target = b.folder("prop") / EDITED
            if target.read_bytes() != b"start\n":
                raise SystemExit("replica B did not get the first version")

            for replica in (a, b):
                proc, ready = start_watch(replica, "prop")
                watchers.append(proc)
                wait_ready(proc, ready, 120)
            time.sleep(args.settle)

            source = folder_a / EDITED
            poll = args.poll_ms / 1000
            for i in range(args.warmup + args.edits):
                body = f"edit {i} {secrets.token_hex(8)}\n".encode() * 4
                t0 = time.perf_counter()
                source.write_bytes(body)
                arrived = wait_for_bytes(target, body, poll, args.timeout)
                elapsed = time.perf_counter() - t0
                if i >= args.warmup:
                    if arrived:
                        latencies.append(elapsed)
                    else:
                        timeouts += 1
                if args.verbose:
                    print(f"edit {i}: {elapsed * 1000:.0f} ms{'' if arrived else ' TIMEOUT'}")
                time.sleep(args.gap)
        finally:
            for proc in watchers:
                stop_process(proc, signal.SIGINT)
            cloud.stop()

    print()
    print(
        f"propagation: A writes {EDITED} ({len(body)} bytes), B polled every "
        f"{args.poll_ms} ms; {args.edits} edits, {args.gap:.2f} s apart; "
        f"both replicas `sync --watch`"
    )
    if not latencies:
        print(f"no edit arrived within {args.timeout} s")
        return
    ms = [x * 1000 for x in latencies]
    print(
        table(
            ["", "p50", "p90", "p99", "max", "min", "timeouts"],
            [
                [
                    "A write -> B has the bytes",
                    f"{percentile(ms, 50):.0f} ms",
                    f"{percentile(ms, 90):.0f} ms",
                    f"{percentile(ms, 99):.0f} ms",
                    f"{max(ms):.0f} ms",
                    f"{min(ms):.0f} ms",
                    str(timeouts),
                ]
            ],
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--edits", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=3, help="edits not counted")
    parser.add_argument("--gap", type=float, default=0.3, help="seconds between edits")
    parser.add_argument("--poll-ms", type=float, default=2.0, help="how often B is checked")
    parser.add_argument("--timeout", type=float, default=30.0, help="per edit, seconds")
    parser.add_argument("--other-files", type=int, default=100, help="files beside the edited")
    parser.add_argument("--settle", type=float, default=1.0, help="seconds before the 1st edit")
    parser.add_argument("--quick", action="store_true", help="20 edits")
    parser.add_argument("--verbose", action="store_true", help="print every edit")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    args = parser.parse_args()
    if args.quick:
        args.edits = min(args.edits, 20)
    run(args)


if __name__ == "__main__":
    main()
