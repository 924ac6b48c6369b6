"""The three trees the planner compares, one entry per path.

* local  — what the disk holds now (from the scanner);
* remote — what the cloud says now (from the change feed);
* synced — the merge base: what both sides last agreed on (from SQLite).

Plain frozen dataclasses: the planner runs over tens of thousands of them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

# An empty folder travels as a zero-byte marker file inside it: the cloud stores files only.
FOLDER_MARKER = ".pfb-empty-folder"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def is_safe_path(path: str) -> bool:
    """A relative POSIX path that stays inside the project: what the cloud promises, checked
    again here so that no remote name can make the engine write outside the folder."""
    if not path or path.startswith("/") or "\\" in path or "\0" in path:
        return False
    return all(part not in ("", ".", "..") for part in path.split("/"))


def is_folder_marker(path: str) -> bool:
    return path == FOLDER_MARKER or path.endswith("/" + FOLDER_MARKER)


@dataclass(frozen=True, slots=True)
class LocalFile:
    path: str
    sha256: str
    size: int
    mtime_ns: int
    inode: int
    # The inode's change time: a rewrite that restores the old mtime (``touch -d``) still
    # moves it, so the index trusts (size, mtime, inode, ctime), not mtime alone.
    ctime_ns: int = 0


@dataclass(frozen=True, slots=True)
class RemoteFile:
    path: str
    revision: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class BaseEntry:
    path: str
    sha256: str
    revision: str
    size: int
    mtime_ns: int = 0
    inode: int | None = None


LocalTree = dict[str, LocalFile]
RemoteTree = dict[str, RemoteFile]
SyncedTree = dict[str, BaseEntry]


def folder_marker(folder: str) -> LocalFile:
    """The local tree's entry for an empty folder."""
    return LocalFile(f"{folder}/{FOLDER_MARKER}", EMPTY_SHA256, 0, 0, 0)
