"""Three-way merge of text files, line by line.

Rules:

* Any of the three versions larger than ``TEXT_MAX_BYTES`` -> ``too_large``; not strict
  UTF-8, or containing a NUL byte -> ``binary``.
* Shortcuts: local == remote -> that; local == base -> remote; remote == base -> local.
* Otherwise a standard three-way merge with ``merge3.Merge3`` over
  ``str.splitlines(keepends=True)`` of each version, so CRLF line endings and a missing final
  newline come through byte for byte. Regions changed on one side, or the same way on both,
  are taken; any region changed differently on both sides -> ``overlap``.
* Like git, merge3 treats changes to *adjacent* lines (line 3 locally, line 4 remotely) as one
  region changed on both sides: a conflict. Changes separated by at least one unchanged line
  merge cleanly.

The two-way diffs merge3 intersects are patience diffs (``diff.py``), as in bzr/breezy:
``difflib.SequenceMatcher`` is quadratic on files with many repeated lines.

The size limit is read from this module at call time (tests may monkeypatch it).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

import merge3

from .diff import PatienceMatcher
from .result import MergeResult, not_clean

T = TypeVar("T", bound=Hashable)

TEXT_MAX_BYTES = 4 << 20
"""Text files are merged up to 4 MiB (each of the three versions)."""


def merge_sequences(
    base: list[T],
    local: list[T],
    remote: list[T],
    conflict: Callable[[list[T], list[T], list[T]], list[T] | None] = lambda *_: None,
) -> list[T] | None:
    """Three-way merge of sequences (lines, or a notebook's cell keys). A region changed
    differently on both sides is given to ``conflict`` (the base's, local's and remote's
    parts of it): what it returns is kept; None (the default) makes the merge fail."""
    out: list[T] = []
    regions = merge3.Merge3(base, local, remote, sequence_matcher=PatienceMatcher).merge_regions()
    for region in regions:
        kind = region[0]
        if kind == "unchanged":
            out.extend(base[region[1] : region[2]])
        elif kind in ("a", "same"):
            out.extend(local[region[1] : region[2]])
        elif kind == "b":
            out.extend(remote[region[1] : region[2]])
        else:
            _, z1, z2, a1, a2, b1, b2 = region
            merged = conflict(base[z1:z2], local[a1:a2], remote[b1:b2])
            if merged is None:
                return None
            out.extend(merged)
    return out


def merge_lines(base: str, local: str, remote: str) -> str | None:
    """Three-way line merge of three strings; None on a conflicting region."""
    if local == remote or remote == base:
        return local
    if local == base:
        return remote
    merged = merge_sequences(
        base.splitlines(keepends=True),
        local.splitlines(keepends=True),
        remote.splitlines(keepends=True),
    )
    return None if merged is None else "".join(merged)


def _decode(data: bytes) -> str | None:
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def merge_text(base: bytes, local: bytes, remote: bytes) -> MergeResult:
    """Merge three versions of a text file (see the module docstring for the rules)."""
    if max(len(base), len(local), len(remote)) > TEXT_MAX_BYTES:
        return not_clean("too_large")
    texts = [_decode(data) for data in (base, local, remote)]
    if None in texts:
        return not_clean("binary")
    if local == remote or remote == base:
        return MergeResult(local)
    if local == base:
        return MergeResult(remote)
    merged = merge_lines(*(t or "" for t in texts))
    if merged is None:
        return not_clean("overlap")
    return MergeResult(merged.encode("utf-8"))
