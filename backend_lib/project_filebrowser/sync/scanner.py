"""The scanner: builds the local tree of a project folder.

An index of (size, mtime_ns, inode, ctime_ns) -> sha256 means unchanged files are never
hashed again (the ctime catches a rewrite that puts the old mtime back).
Symlinks are not followed and special files (sockets, FIFOs, devices) are skipped; both are
reported, and so is every name the cloud cannot hold (``invalid_name``: not UTF-8, a control
character or a backslash, too long): such a file stays on this machine only, and the rest of
the project syncs. A file that changes while it is hashed is left out of this scan (reported as
``changing``) and picked up by the next one.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .ignore import IgnoreRules
from .trees import FOLDER_MARKER, LocalFile, LocalTree, can_hold, folder_marker, name_problem

HASH_CHUNK = 1 << 20

IndexLookup = Callable[[str], LocalFile | None]


# What each reason of ScanResult.skipped means, in words.
SKIP_REASONS = {
    "symlink": "a symbolic link (not followed)",
    "special_file": "not a regular file (a socket, a FIFO or a device)",
    "permission_denied": "cannot be read (permission denied)",
    "changing": "changed while it was read; the next scan takes it",
    "reserved_name": "a name the engine keeps for empty folders",
}


def skip_reason(path: str, reason: str) -> str:
    """Why ``path`` was skipped, in words (for a name: what the cloud says of it)."""
    if reason == "invalid_name":
        return f"the cloud cannot hold this name: {name_problem(path)}"
    return SKIP_REASONS.get(reason, reason)


@dataclass(slots=True)
class ScanResult:
    tree: LocalTree = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    ignored: list[str] = field(default_factory=list)
    hashed: int = 0  # how many files had to be read


def identity(st: os.stat_result) -> tuple[int, int, int, int]:
    """What the index trusts of a file: size, mtime, inode and ctime."""
    return st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns


def hash_file(path: Path) -> tuple[str, int]:
    """SHA-256 and byte count of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb", buffering=0) as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _walk(
    root: Path, rel: str, result: ScanResult, rules: IgnoreRules
) -> Iterator[tuple[str, os.stat_result]]:
    try:
        entries = list(os.scandir(f"{root}/{rel}" if rel else root))  # str: no Path per folder
    except (FileNotFoundError, NotADirectoryError):
        return
    except PermissionError:
        result.skipped.append((rel or ".", "permission_denied"))
        return
    if not entries and rel:
        marker = folder_marker(rel)
        result.tree[marker.path] = marker
        return
    for entry in entries:
        name = entry.name
        path = f"{rel}/{name}" if rel else name
        if not can_hold(path, name):
            result.skipped.append((path, "invalid_name"))
            continue
        try:
            # A folder is known from the listing itself (d_type): only files cost an lstat.
            if entry.is_dir(follow_symlinks=False):
                if rules.ignores_dir(path):
                    result.ignored.append(path + "/")
                else:
                    yield from _walk(root, path, result, rules)
                continue
            st = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue
        if stat.S_ISREG(st.st_mode):
            if name == FOLDER_MARKER:
                result.skipped.append((path, "reserved_name"))
            elif rules.ignores_file(path, name):
                result.ignored.append(path)
            else:
                yield path, st
        elif stat.S_ISLNK(st.st_mode):
            result.skipped.append((path, "symlink"))
        else:
            result.skipped.append((path, "special_file"))


def scan(
    root: Path,
    *,
    index: IndexLookup = lambda _path: None,
    rules: IgnoreRules | None = None,
) -> ScanResult:
    """Walk ``root`` and return its files, hashing only those the index cannot vouch for."""
    result = ScanResult()
    for path, st in _walk(root, "", result, rules or IgnoreRules.for_project(root)):
        known = index(path)
        if (
            known is not None
            and known.size == st.st_size
            and known.mtime_ns == st.st_mtime_ns
            and known.inode == st.st_ino
            and known.ctime_ns == st.st_ctime_ns
        ):
            result.tree[path] = known
            continue
        full = root / path
        try:
            sha256, size = hash_file(full)
            after = os.stat(full, follow_symlinks=False)
        except FileNotFoundError:
            continue
        except PermissionError:
            result.skipped.append((path, "permission_denied"))
            continue
        result.hashed += 1
        if identity(after) != (size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns):
            result.skipped.append((path, "changing"))
            continue
        result.tree[path] = LocalFile(path, sha256, size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)
    return result


def stat_scan(root: Path, rules: IgnoreRules) -> ScanResult:
    """The walk of :func:`scan` without an index and without reading a byte: each file's
    entry holds its size, mtime, inode and ctime as ``lstat`` gives them, and no sha256
    (``""``)."""
    result = ScanResult()
    for path, st in _walk(root, "", result, rules):
        result.tree[path] = LocalFile(
            path, "", st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns
        )
    return result
