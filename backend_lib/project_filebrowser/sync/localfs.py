"""Local file operations that never lose data.

* Downloads go to a temp file in the target's folder, are fsynced, the target is checked
  again against what the planner expected, and only then ``os.replace``d into place. A target
  that changed meanwhile raises ``LocalChanged``: the step turns into a conflict.
* A temp file has a short name of its own, ``.<16 hex>.pfb.tmp`` (25 bytes), whatever the
  length of the target's: a target name may use all of the file system's 255 bytes. (Older
  versions named it ``.<name>.<8 hex>.pfb.tmp``; both end in ``TEMP_SUFFIX``, which the
  ignore rules and the orphan clean-up go by.)
* Conflict copies are named ``name (conflict YYYY-MM-DD HHMMSS).ext``, the name shortened
  where the tag would take it past 255 bytes.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path, PurePosixPath

from .ignore import TEMP_SUFFIX
from .scanner import hash_file


class LocalChanged(Exception):
    """The local file is no longer what the plan expected."""


# The longest file name (in bytes of UTF-8) Linux file systems and the cloud take.
MAX_NAME_BYTES = 255


def _shortened(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` bytes of UTF-8, never inside a character."""
    return text.encode("utf-8")[: max(max_bytes, 0)].decode("utf-8", errors="ignore")


def conflict_name(path: str, when: datetime, exists: Callable[[str], bool]) -> str:
    """``dir/name (conflict 2026-11-22 014500).ext``, numbered if that is taken too; a name
    too long for the tag loses the end of its stem (then of its extension)."""
    pure = PurePosixPath(path)
    suffix = "".join(pure.suffixes[-1:]) if not pure.name.startswith(".") else ""
    stem = pure.name[: len(pure.name) - len(suffix)] if suffix else pure.name
    stamp = when.strftime("%Y-%m-%d %H%M%S")
    for n in range(1, 10_000):
        tag = f" (conflict {stamp})" if n == 1 else f" (conflict {stamp} {n})"
        room = MAX_NAME_BYTES - len(tag.encode("utf-8"))
        ext = _shortened(suffix, room // 2)
        short = _shortened(stem, room - len(ext.encode("utf-8")))
        candidate = str(pure.with_name(f"{short}{tag}{ext}"))
        if not exists(candidate):
            return candidate
    raise RuntimeError(f"no free conflict name for {path}")


_CONFLICT_TAG = re.compile(r" \(conflict \d{4}-\d\d-\d\d \d{6}(?: \d+)?\)")


def conflict_original(path: str) -> str | None:
    """The path a conflict copy named by :func:`conflict_name` was made of (None: ``path``
    is not named as a conflict copy)."""
    pure = PurePosixPath(path)
    suffix = "".join(pure.suffixes[-1:]) if not pure.name.startswith(".") else ""
    stem = pure.name[: len(pure.name) - len(suffix)] if suffix else pure.name
    tag = _CONFLICT_TAG.search(stem)
    if tag is None or tag.end() != len(stem) or tag.start() == 0:
        return None
    return str(pure.with_name(f"{stem[: tag.start()]}{suffix}"))


def temp_path_for(target: Path) -> Path:
    """A new temp file's path beside ``target``: a short name of its own (see above)."""
    return target.with_name(f".{secrets.token_hex(8)}{TEMP_SUFFIX}")


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def matches(target: Path, expect_sha256: str | None) -> bool:
    """Does ``target`` hold ``expect_sha256`` (None: does it not exist)?"""
    try:
        st = os.stat(target, follow_symlinks=False)
    except FileNotFoundError:
        return expect_sha256 is None
    if expect_sha256 is None or not os.path.isfile(target) or os.path.islink(target):
        return False
    sha, size = hash_file(target)
    return sha == expect_sha256 and size == st.st_size


# Temp files this process is writing now: not orphans, whoever sweeps (a conflict copy is
# written outside any sync cycle, while a cycle may be sweeping the same folder).
_writing: set[str] = set()


def being_written(temp: Path) -> bool:
    return os.path.abspath(temp) in _writing


class AtomicDownload:
    """Write to a temp file beside ``target``; ``commit`` checks and replaces, ``discard``
    removes the temp file. Used as a context manager, an exception discards."""

    def __init__(self, target: Path) -> None:
        self.target = target
        target.parent.mkdir(parents=True, exist_ok=True)
        self.temp = temp_path_for(target)
        _writing.add(os.path.abspath(self.temp))
        try:
            self._handle = open(self.temp, "xb")  # noqa: SIM115 - closed in commit/discard
        except BaseException:
            _writing.discard(os.path.abspath(self.temp))
            raise

    def write(self, chunk: bytes) -> None:
        self._handle.write(chunk)

    def commit(
        self, expect_sha256: str | None, *, check: bool = True, mtime_ns: int | None = None
    ) -> os.stat_result:
        """Replace the target if it still holds ``expect_sha256`` (None: is still absent);
        ``check=False`` replaces whatever is there (the user asked for exactly that). With
        ``mtime_ns`` the file gets that modification time (the source's), before it
        appears; the stat returned is the replaced target's, after it."""
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        if mtime_ns is not None:
            os.utime(self.temp, ns=(time.time_ns(), mtime_ns))
        if check and not matches(self.target, expect_sha256):
            self.discard()
            raise LocalChanged(str(self.target))
        try:
            os.replace(self.temp, self.target)
        finally:
            _writing.discard(os.path.abspath(self.temp))
        fsync_dir(self.target.parent)
        return os.stat(self.target)

    def discard(self) -> None:
        if not self._handle.closed:
            self._handle.close()
        self.temp.unlink(missing_ok=True)
        _writing.discard(os.path.abspath(self.temp))

    def __enter__(self) -> AtomicDownload:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is not None:
            self.discard()


def delete_if_unchanged(target: Path, expect_sha256: str) -> None:
    if not matches(target, expect_sha256):
        raise LocalChanged(str(target))
    target.unlink(missing_ok=True)
