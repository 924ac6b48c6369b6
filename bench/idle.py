"""Idle cost: a Jupyter server syncing a 20,000-file project, watched with nothing changing.

Starts a real ``jupyter server`` with the extension on the embedded cloud (loopback,
isolated JUPYTER_* folders and state DB), creates a project through the REST API, writes
``--files`` small files (1-16 KiB, nested folders) into its folder, and waits until they are
all in the cloud and the project is idle with nothing pending (that time is reported as a
side figure: watcher -> full sync of N new files). Then, for ``--seconds`` with no change at
all, it measures the server process (and any children): CPU seconds (user + system) and RSS,
sampled every second; plus VmHWM, the lifetime peak RSS (reached during the sync).

    python bench/idle.py [--files 20000] [--seconds 60] [--quick]

Target (the issue): idle CPU < 1 % (of one core), RSS < 250 MB.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import free_port, generate, start_jupyter_server, stop_process, table, workdir


class Api:
    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.headers = {"Authorization": f"token {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.base}project-filebrowser/api{path}",
            data=data,
            method=method,
            headers=self.headers,
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            raw = response.read()
        return json.loads(raw) if raw else None


def wait_for_server(api: Api, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the Jupyter server exited with {proc.returncode}")
        try:
            if api.call("GET", "/status")["cloud"]["connected"]:
                return
        except (OSError, urllib.error.HTTPError, KeyError):
            pass
        time.sleep(0.2)
    raise SystemExit("the Jupyter server did not come up")


def family(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def cpu_seconds(pid: int) -> float:
    total = 0.0
    for proc in family(pid):
        try:
            t = proc.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.NoSuchProcess:
            pass
    return total


def rss_bytes(pid: int) -> int:
    total = 0
    for proc in family(pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += proc.memory_info().rss
    return total


def vm_hwm(pid: int) -> int:
    """Peak RSS over the process's life (VmHWM), summed over the family."""
    total = 0
    for proc in family(pid):
        try:
            for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) * 1024
        except (FileNotFoundError, psutil.NoSuchProcess):
            pass
    return total


def run(args: argparse.Namespace) -> None:
    with workdir("pfb-bench-idle-", keep=args.keep) as work:
        port, token = free_port(), secrets.token_hex(16)
        log = open(work / "server.log", "wb")  # noqa: SIM115 - closed below
        server = start_jupyter_server(work, port, token, log)
        api = Api(f"http://127.0.0.1:{port}/", token)
        try:
            t_start = time.perf_counter()
            wait_for_server(api, server)
            startup = time.perf_counter() - t_start
            project = api.call("POST", "/projects", {"name": "idle"})
            folder = work / "root" / project["local_path"]
            time.sleep(1.0)
            base_cpu, base_rss = cpu_seconds(server.pid), rss_bytes(server.pid)

            print(f"writing {args.files} files into {project['local_path']} ...", flush=True)
            t0 = time.perf_counter()
            data = generate(folder, args.files, 0)
            written = time.perf_counter() - t0
            sync_peak_rss = 0
            while True:
                sync_peak_rss = max(sync_peak_rss, rss_bytes(server.pid))
                if server.poll() is not None:
                    raise SystemExit("the Jupyter server died while syncing")
                clouds = api.call("GET", "/projects?scope=cloud")["items"]
                in_cloud = next(p["file_count"] for p in clouds if p["id"] == project["id"])
                local = api.call("GET", f"/projects/{project['id']}")
                if in_cloud >= data.files and local["status"] == "idle" and not local["pending"]:
                    break
                if time.perf_counter() - t0 > args.sync_timeout:
                    raise SystemExit(
                        f"not synced after {args.sync_timeout} s: {in_cloud} in the cloud, "
                        f"{local['status']}, {local['pending']} pending"
                    )
                time.sleep(1.0)
            synced = time.perf_counter() - t0
            sync_cpu = cpu_seconds(server.pid) - base_cpu
            print(f"  synced in {synced:.1f} s; settling {args.settle:.0f} s ...", flush=True)
            time.sleep(args.settle)

            print(f"idle for {args.seconds:.0f} s ...", flush=True)
            cpu0, w0 = cpu_seconds(server.pid), time.perf_counter()
            rss_start, rss_peak = rss_bytes(server.pid), 0
            while time.perf_counter() - w0 < args.seconds:
                rss_peak = max(rss_peak, rss_bytes(server.pid))
                time.sleep(1.0)
            cpu1, w1 = cpu_seconds(server.pid), time.perf_counter()
            rss_end = rss_bytes(server.pid)
            hwm = vm_hwm(server.pid)
            children = len(family(server.pid)) - 1
        finally:
            stop_process(server)
            log.close()

    mb = 1e6
    idle_cpu = cpu1 - cpu0
    window = w1 - w0
    print()
    print(
        f"idle: Jupyter server + extension (embedded cloud), one project of {data.files} files "
        f"({data.mib:.0f} MiB), {children} child processes"
    )
    print(
        table(
            ["", "value"],
            [
                ["server start -> /status connected", f"{startup:.1f} s"],
                ["RSS before the files (1 empty project)", f"{base_rss / mb:.0f} MB"],
                [f"writing {data.files} files (bench itself)", f"{written:.1f} s"],
                [f"sync of {data.files} new files (write start -> idle)", f"{synced:.1f} s"],
                ["  CPU used by the server meanwhile", f"{sync_cpu:.1f} s"],
                ["  peak RSS while syncing (1 s samples)", f"{sync_peak_rss / mb:.0f} MB"],
                [f"idle window ({window:.0f} s): CPU seconds", f"{idle_cpu:.3f} s"],
                ["idle CPU, % of one core", f"{100 * idle_cpu / window:.2f} %"],
                ["idle RSS start / end", f"{rss_start / mb:.0f} / {rss_end / mb:.0f} MB"],
                ["idle RSS peak (1 s samples)", f"{rss_peak / mb:.0f} MB"],
                ["VmHWM (lifetime peak RSS)", f"{hwm / mb:.0f} MB"],
            ],
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=20000)
    parser.add_argument("--seconds", type=float, default=60.0, help="the idle window")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after the sync")
    parser.add_argument("--sync-timeout", type=float, default=1800.0)
    parser.add_argument("--quick", action="store_true", help="2,000 files, 15 s")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    args = parser.parse_args()
    if args.quick:
        args.files, args.seconds = min(args.files, 2000), min(args.seconds, 15.0)
    run(args)


if __name__ == "__main__":
    main()
