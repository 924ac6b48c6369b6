"""A conflict that may merge: the three versions of a path changed on both sides, fetched
for :mod:`project_filebrowser.merge` (pure) to merge three-way.

* **base** - the revision both sides last agreed on (the synced tree's), read from the
  cloud's history;
* **local** - the file as the plan saw it (a file changed since makes the step stale);
* **remote** - the cloud's revision the plan saw.

Nothing is written here: the executor writes a clean merge (atomically, checked against the
local content the plan saw) and pushes it with ``If-Match`` on the remote revision, or keeps
both versions as today when the merge is not clean.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ..remotes import NotFound, Remote, RemoteError
from .localfs import LocalChanged
from .planner import ResolveConflict
from .steps import read_at_most

if TYPE_CHECKING:
    from ..merge import MergeResult

# ``..merge`` is imported where a conflict is first met: nbformat costs every start of the
# server and of the command line about a second otherwise.


@dataclass(frozen=True, slots=True)
class Attempt:
    """A merge tried: its result, and who wrote the cloud's side (for the news)."""

    result: MergeResult
    remote_by: str | None = None


class _TooLarge(Exception):
    """A version is larger than the merge limit of its kind."""


def looks_binary(data: bytes) -> bool:
    """Not text: a NUL byte, or bytes that are not UTF-8 (checked on the start only)."""
    head = data[: 1 << 16]
    if b"\0" in head:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:  # a multi-byte character cut at the end is still text
        return exc.start < len(head) - 3
    return False


class Merger:
    """Fetches the three versions of a conflicting path and merges them (see the module)."""

    def __init__(
        self, *, client: Remote, project_id: str, root: Path, notebooks: bool, text: bool
    ) -> None:
        self.client = client
        self.project_id = project_id
        self.root = root
        self.notebooks = notebooks
        self.text = text

    def wants(self, op: ResolveConflict) -> bool:
        """Whether a merge is tried for ``op``: its kind is merged (the settings) and both
        sides have a common base to merge from."""
        if op.base_revision is None:
            return False
        return self.notebooks if op.path.lower().endswith(".ipynb") else self.text

    async def attempt(self, op: ResolveConflict) -> Attempt | None:
        """The merge of ``op``'s three versions (None: not tried, e.g. the base revision is
        no longer in the cloud's history). Raises :class:`LocalChanged` when the local file
        is not what the plan saw, and a remote error when the cloud's revision is gone."""
        from ..merge import (  # lazy: see above
            NOTEBOOK_MAX_BYTES,
            TEXT_MAX_BYTES,
            MergeResult,
            kind_of,
            merge_file,
        )

        assert op.base_revision is not None
        limit = NOTEBOOK_MAX_BYTES if kind_of(op.path) == "notebook" else TEXT_MAX_BYTES
        if max(op.local.size, op.remote.size) > limit:
            return Attempt(MergeResult(None, "too_large"))
        local = await asyncio.to_thread(read_at_most, self.root / op.path, limit + 1)
        if hashlib.sha256(local).hexdigest() != op.local.sha256:
            raise LocalChanged(op.path)
        if kind_of(op.path) == "text" and looks_binary(local):
            return Attempt(MergeResult(None, "binary"))  # no need to fetch the others
        try:
            remote, remote_mtime, remote_by = await self._read(op.path, op.remote.revision, limit)
            if hashlib.sha256(remote).hexdigest() != op.remote.sha256:
                raise RemoteError(0, "checksum_mismatch", f"downloaded bytes of {op.path} differ")
            try:
                base, _mtime, _by = await self._read(op.path, op.base_revision, limit)
            except NotFound:
                return None  # the base left the cloud's history: nothing to merge from
        except _TooLarge:
            return Attempt(MergeResult(None, "too_large"))
        later: Literal["local", "remote"] = (
            "local" if remote_mtime is None or op.local.mtime_ns >= remote_mtime else "remote"
        )
        result = await asyncio.to_thread(
            merge_file,
            op.path,
            base,
            local,
            remote,
            later=later,
            notebooks=self.notebooks,
            text=self.text,
        )
        return None if result is None else Attempt(result, remote_by)

    async def _read(
        self, path: str, revision: str, limit: int
    ) -> tuple[bytes, int | None, str | None]:
        """A revision's bytes (at most ``limit``), its modification time and author."""
        chunks: list[bytes] = []
        size = 0

        def write(chunk: bytes) -> None:
            nonlocal size
            size += len(chunk)
            if size > limit:
                raise _TooLarge(path)
            chunks.append(chunk)

        downloaded = await self.client.download(self.project_id, path, write, revision=revision)
        return b"".join(chunks), downloaded.mtime_ns, downloaded.modified_by
