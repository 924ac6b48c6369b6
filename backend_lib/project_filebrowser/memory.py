"""Keep a long-running server's resident memory close to what it uses.

A sync of a big project handles many large, short-lived buffers (batch bodies of up to
8 MiB, on both ends when the cloud is embedded). glibc's malloc raises its mmap threshold
after the first such buffer is freed, so later ones come from the heap, and what the heap
frees stays resident: a Jupyter server that synced 20,000 files once kept ~100 MB it no
longer used. Two calls fix that on glibc, and are no-ops elsewhere (macOS, musl):

* :func:`limit_heap_growth` at start-up: a fixed mmap threshold (1 MiB), so big buffers are
  always mapped on their own and unmapped when freed;
* :func:`release_free_memory` after a sync: ``malloc_trim(0)`` hands free heap pages back
  (about 0.1 ms).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
from typing import Any

M_MMAP_THRESHOLD = -3  # glibc's mallopt() parameter number
MMAP_THRESHOLD = 1 << 20


@functools.cache
def _glibc() -> Any | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt  # noqa: B018 - musl has no mallopt / malloc_trim
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


def limit_heap_growth() -> bool:
    """Serve allocations of 1 MiB and more from their own mappings; True if it took."""
    libc = _glibc()
    return bool(libc and libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def release_free_memory() -> None:
    """Give the heap's free pages back to the system."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
