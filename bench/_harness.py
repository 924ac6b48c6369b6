"""Shared pieces of the benchmarks: a cloud on loopback, CLI replicas, rclone, data, tables.

Every benchmark drives the product the way a user does: ``project-filebrowser cloud serve``
as a subprocess, ``cloud add-user`` for a token, and ``login``/``create``/``link``/``sync``
run as separate processes (process start included in every time). Nothing here asserts on
times: these are figures, not tests.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
CLI = str(BIN / "project-filebrowser") if (BIN / "project-filebrowser").exists() else None
KIB, MIB = 1024, 1024 * 1024


def cli_command(*args: str) -> list[str]:
    if CLI is not None:
        return [CLI, *args]
    return [sys.executable, "-m", "project_filebrowser.cli", *args]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def wait_http(url: str, timeout: float = 60.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Until ``url`` answers at all (any HTTP status), or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"{proc.args!r} exited with {proc.returncode} before serving")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{url} did not come up within {timeout:.0f} s")


def start_jupyter_server(work: Path, port: int, token: str, output: Any) -> subprocess.Popen[bytes]:
    """A real Jupyter server with the extension on the embedded cloud, every Jupyter folder
    and the state DB under ``work``, its root at ``work/root``."""
    (work / "root").mkdir(exist_ok=True)
    env = {
        **os.environ,
        "JUPYTER_DATA_DIR": str(work / "data"),
        "JUPYTER_RUNTIME_DIR": str(work / "runtime"),
        "JUPYTER_CONFIG_DIR": str(work / "config"),
        "PROJECT_FILEBROWSER_DB_URL": f"sqlite:///{work / 'state.db'}",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "server",
            "--allow-root",
            "--no-browser",
            f"--port={port}",
            "--ip=127.0.0.1",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={work / 'root'}",
            "--ServerApp.jpserver_extensions={'project_filebrowser': True}",
        ],
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )


def stop_process(proc: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM) -> None:
    """Stop one process we started (by its own pid), waiting, then killing if it hangs."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(sig)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


# -- data --------------------------------------------------------------------------------------


@dataclass
class Dataset:
    files: int = 0
    bytes: int = 0

    @property
    def mib(self) -> float:
        return self.bytes / MIB


def generate(
    root: Path, files: int, big_files: int, big_size: int = 20 * MIB, seed: int = 1
) -> Dataset:
    """``files`` small files of 1-16 KiB in nested folders (about 50 per folder, three levels
    deep) plus ``big_files`` files of ``big_size`` bytes. Random bytes: nothing compresses."""
    rnd = random.Random(seed)
    data = Dataset()
    pool = os.urandom(16 * KIB + 4096)
    for i in range(files):
        folder = root / f"pkg{i % 10:02d}" / f"mod{(i // 10) % 10:02d}" / f"part{i // 500:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        size = rnd.randint(1 * KIB, 16 * KIB)
        start = rnd.randint(0, 4096)
        # a unique prefix: no two files share content (content-addressed stores dedupe)
        body = f"{seed}:{i}\n".encode() + pool[start : start + size]
        (folder / f"file{i:06d}.txt").write_bytes(body[:size])
        data.files += 1
        data.bytes += size
    if big_files:
        (root / "data").mkdir(parents=True, exist_ok=True)
    for i in range(big_files):
        with open(root / "data" / f"big{i:02d}.bin", "wb") as handle:
            left = big_size
            while left:
                chunk = os.urandom(min(left, 4 * MIB))
                handle.write(chunk)
                left -= len(chunk)
        data.files += 1
        data.bytes += big_size
    return data


def drop_page_cache_hint() -> None:
    """Flush dirty pages so one run's writes do not slow the next one's timing."""
    with contextlib.suppress(OSError):
        os.sync()


# -- the product -------------------------------------------------------------------------------


@dataclass
class Cloud:
    """``project-filebrowser cloud serve`` on a loopback port, with one user."""

    work: Path
    port: int = 0
    token: str = ""
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Cloud:
        self.port = self.port or free_port()
        db = f"sqlite:///{self.work / 'cloud.db'}"
        added = subprocess.run(
            cli_command("cloud", "add-user", "bench", "--db", db),
            capture_output=True,
            text=True,
            check=True,
        )
        self.token = added.stdout.strip().splitlines()[-1]
        self.log = open(self.work / "cloud.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            cli_command(
                "cloud",
                "serve",
                "--port",
                str(self.port),
                "--db",
                db,
                "--storage",
                str(self.work / "blobs"),
                "--max-file-size",
                "1GiB",
                "--log-level",
                "WARNING",
            ),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_http(f"{self.url}/api/v1/openapi.json", proc=self.proc)
        return self

    def stop(self) -> None:
        stop_process(self.proc)
        if getattr(self, "log", None):
            self.log.close()


@dataclass
class Replica:
    """One CLI "machine": its own state DB and root, credentials in its own data dir."""

    work: Path
    name: str
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        base = self.work / self.name
        base.mkdir(parents=True, exist_ok=True)
        self.db_file = base / "state.db"
        self.db = f"sqlite:///{self.db_file}"
        self.root = base / "root"
        self.env = {
            **os.environ,
            "JUPYTER_DATA_DIR": str(base / "jupyter-data"),
            "JUPYTER_CONFIG_DIR": str(base / "jupyter-config"),
            "JUPYTER_RUNTIME_DIR": str(base / "jupyter-runtime"),
            "COLUMNS": "120",
        }
        self.env.pop("PROJECT_FILEBROWSER_DB_URL", None)

    def folder(self, project: str) -> Path:
        return self.root / "projects" / project

    def args(self, *args: str) -> list[str]:
        return cli_command(*args, "--db", self.db, "--root", str(self.root))

    def run(self, *args: str, local: bool = True) -> float:
        """Run one CLI command to the end; its wall time in seconds (process start included)."""
        command = self.args(*args) if local else cli_command(*args)
        t0 = time.perf_counter()
        done = subprocess.run(command, env=self.env, capture_output=True, text=True)
        elapsed = time.perf_counter() - t0
        if done.returncode != 0:
            raise SystemExit(
                f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
            )
        return elapsed

    def login(self, cloud: Cloud) -> None:
        self.run("login", cloud.url, "--token", cloud.token, local=False)


# -- rclone ------------------------------------------------------------------------------------


def rclone_path() -> str | None:
    return shutil.which("rclone")


@dataclass
class Rclone:
    """Debian's rclone with an empty config; a ``bench:`` remote for ``serve webdav``."""

    work: Path
    transfers: int = 4
    server: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        exe = rclone_path()
        if exe is None:
            raise SystemExit("rclone not found: apt-get install -y rclone (or pass --no-rclone)")
        self.exe = exe
        self.config = self.work / "rclone.conf"
        self.config.touch()
        self.env = {**os.environ, "RCLONE_CONFIG": str(self.config)}

    def serve_webdav(self, folder: Path) -> str:
        folder.mkdir(parents=True, exist_ok=True)
        port = free_port()
        self.server = subprocess.Popen(
            [self.exe, "serve", "webdav", str(folder), "--addr", f"127.0.0.1:{port}"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}/"
        wait_http(url, proc=self.server)
        self.env.update(
            RCLONE_CONFIG_BENCH_TYPE="webdav",
            RCLONE_CONFIG_BENCH_URL=url,
            RCLONE_CONFIG_BENCH_VENDOR="other",
        )
        return "bench:"

    def run(self, verb: str, src: str, dst: str) -> float:
        command = [self.exe, verb, src, dst, "--transfers", str(self.transfers)]
        t0 = time.perf_counter()
        done = subprocess.run(command, env=self.env, capture_output=True, text=True)
        elapsed = time.perf_counter() - t0
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
        return elapsed

    def stop(self) -> None:
        stop_process(self.server)


# -- output ------------------------------------------------------------------------------------


@contextlib.contextmanager
def workdir(prefix: str, keep: bool = False) -> Iterator[Path]:
    work = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield work
    finally:
        if keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def table(headers: list[str], rows: list[list[str]], left: int = 1) -> str:
    """A plain text table; the first ``left`` columns are left-aligned, the rest right."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            str(c).ljust(w) if i < left else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])
