"""The three trees the planner compares, one entry per path.

* local  — what the disk holds now (from the scanner);
* remote — what the cloud says now (from the change feed);
* synced — the merge base: what both sides last agreed on (from SQLite).

Plain frozen dataclasses: the planner runs over tens of thousands of them.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from project_cloud.paths import MAX_PATH_BYTES, MAX_SEGMENT_BYTES, InvalidPath, validate_path

# An empty folder travels as a zero-byte marker file inside it: the cloud stores files only.
FOLDER_MARKER = ".pfb-empty-folder"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def name_problem(path: str) -> str | None:
    """Why the cloud cannot hold ``path`` (its own rule, :mod:`project_cloud.paths`: valid
    UTF-8, no control character or backslash, at most 255 bytes a name and 4096 in all), or
    None if it can."""
    try:
        validate_path(path)
    except InvalidPath as exc:
        return str(exc)
    return None


def is_safe_path(path: str) -> bool:
    """A path the cloud accepts, so one that stays inside the project: what the cloud
    promises, checked again here so that no remote name can make the engine write outside
    the folder."""
    return name_problem(path) is None


def can_hold(path: str, name: str) -> bool:
    """Whether the cloud can hold ``path`` (whose last part is ``name`` and whose folder it
    can hold): :func:`is_safe_path`, decided without its full work for the plain ASCII names
    of most projects (the scanner asks for every entry of every scan)."""
    plain = name.isascii() and name.isprintable() and "\\" not in name  # printable: no control
    if plain and len(name) <= MAX_SEGMENT_BYTES and len(path) <= MAX_PATH_BYTES // 4:
        return name not in (".", "..")
    return is_safe_path(path)


def shown(path: str) -> str:
    """A path as a person can read it: bytes that are not UTF-8 as ``\\xNN`` escapes (the
    scanner's names hold them as surrogates, which no JSON, terminal or DB takes)."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", errors="backslashreplace")
    return path


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
