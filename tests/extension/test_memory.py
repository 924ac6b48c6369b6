"""The server's memory tweaks on glibc: what a big sync's buffers leave on the heap goes back
to the system, either because big buffers get their own mappings (limit_heap_growth) or
because free heap pages are handed back (release_free_memory)."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROGRAM = r"""
import os, sys
from project_filebrowser.memory import limit_heap_growth, release_free_memory

def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

if "limit" in sys.argv:
    assert limit_heap_growth()
start = rss()
kept = []
for _round in range(5):  # as a sync does: big bodies, and small objects that outlive them
    buffers = []
    for _ in range(8):
        buffer = bytearray(8 << 20)
        buffer[::4096] = b"x" * len(buffer[::4096])  # touch every page
        buffers.append(buffer)
        kept.append([str(i) * 3 for i in range(2000)])
    del buffers
if "trim" in sys.argv:
    release_free_memory()
print((rss() - start) >> 20)
"""


def grown_mib(*args: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, *args], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
def test_freed_big_buffers_leave_the_process() -> None:
    untouched = grown_mib()
    if untouched < 40:
        pytest.skip(f"this libc returns freed buffers by itself ({untouched} MiB kept)")
    # the small objects kept are ~13 MiB; 320 MiB of buffers came and went
    assert grown_mib("limit") < 30, f"{untouched} MiB kept without either"
    assert grown_mib("trim") < 30, f"{untouched} MiB kept without either"
