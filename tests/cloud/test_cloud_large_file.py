"""A large file streams through the server with bounded memory, both ways.

Size: 256 MiB by default; set ``PROJECT_CLOUD_LARGE_FILE_MB`` (e.g. 1024) for more.
The server runs in its own process so that its peak RSS (``VmHWM``) can be read.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from support.cloud import cli_add_user, spawn_server

SIZE_MB = int(os.environ.get("PROJECT_CLOUD_LARGE_FILE_MB", "256"))
ALLOWED_GROWTH_MB = 150
CHUNK = 1024 * 1024


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def pattern_chunks() -> Iterator[bytes]:
    block = hashlib.sha256(b"seed").digest() * (CHUNK // 32)
    for i in range(SIZE_MB):
        yield i.to_bytes(8, "big") + block[8:]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_large_file_streams_with_bounded_memory(tmp_path: Path) -> None:
    token = cli_add_user(tmp_path, "big")
    server = spawn_server(tmp_path, "--max-file-size", "8GiB")
    expected = hashlib.sha256()
    for chunk in pattern_chunks():
        expected.update(chunk)
    try:
        with httpx.Client(
            base_url=server.api, headers={"Authorization": f"Bearer {token}"}, timeout=300
        ) as c:
            pid = c.post("/projects", json={"name": "big"}).json()["id"]
            # warm up every code path once, then take the baseline
            c.put(f"/projects/{pid}/files/small", content=b"s" * 100_000)
            c.get(f"/projects/{pid}/files/small")
            baseline = peak_rss_mb(server.proc.pid)

            r = c.put(
                f"/projects/{pid}/files/big.bin",
                content=pattern_chunks(),  # chunked transfer: nothing held in memory
                headers={"X-Content-SHA256": expected.hexdigest()},
            )
            assert r.status_code == 201, r.text
            assert r.json()["size"] == SIZE_MB * CHUNK
            assert r.json()["sha256"] == expected.hexdigest()
            after_upload = peak_rss_mb(server.proc.pid)

            got = hashlib.sha256()
            size = 0
            with c.stream("GET", f"/projects/{pid}/files/big.bin") as resp:
                assert resp.status_code == 200
                assert resp.headers["Content-Length"] == str(SIZE_MB * CHUNK)
                for chunk in resp.iter_bytes(CHUNK):
                    got.update(chunk)
                    size += len(chunk)
            assert size == SIZE_MB * CHUNK and got.hexdigest() == expected.hexdigest()
            after_download = peak_rss_mb(server.proc.pid)
    finally:
        server.terminate()
    growth = after_download - baseline
    print(
        f"server peak RSS: baseline {baseline:.0f} MB, after upload {after_upload:.0f} MB, "
        f"after download {after_download:.0f} MB ({SIZE_MB} MiB file)"
    )
    assert growth < ALLOWED_GROWTH_MB, (baseline, after_upload, after_download)
