"""The three trees the planner compares, one entry per path.

* local  — what the disk holds now (from the scanner);
* remote — what the cloud says now (from the change feed);
* synced — the merge base: what both sides last agreed on (from SQLite).

Plain frozen dataclasses: the planner runs over tens of thousands of them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LocalFile:
    path: str
    sha256: str
    size: int
    mtime_ns: int
    inode: int


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
