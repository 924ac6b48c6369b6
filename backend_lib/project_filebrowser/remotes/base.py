"""What the sync engine needs from a remote, and nothing else: the :class:`Remote` interface,
the shapes it speaks in and its errors.

The engine (``project_filebrowser.sync``) and the service talk to a remote only through this
module; the HTTP client of the Projects cloud (:class:`project_filebrowser.cloud.client.
CloudClient`) is the first implementation, :class:`project_filebrowser.remotes.memory.
MemoryRemote` (one process, no network) the second. Which one serves a URL is chosen by its
scheme through the ``project_filebrowser.remotes`` entry point group
(:func:`project_filebrowser.remotes.open_remote`).

The semantics every implementation keeps (CONTRACT.md, "Cloud Projects service"): a write
names the revision it replaces (``if_match``; ``None`` means create-only) and a stale one
raises :class:`PreconditionFailed`; a path is a file or a folder, never both (409
``path_conflict``); a batch answers per item; the change feed is ordered by ``seq``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, Self

from pydantic import BaseModel

from ..schemas import Checkpoint, CloudProject, FileVersion


class Change(BaseModel):
    seq: int
    path: str
    op: str
    revision: str | None = None
    sha256: str | None = None
    size: int | None = None
    from_path: str | None = None
    modified_by: str = ""
    confirmed: bool = False  # a delete a person confirmed past another replica's guard
    mtime_ns: int | None = None


class ChangePage(BaseModel):
    items: list[Change]
    next_since: int
    has_more: bool


@dataclass(frozen=True, slots=True)
class Downloaded:
    """What a download tells beside the bytes: the revision (ETag) and the file's
    modification time in the cloud (None from older clouds), and who made it."""

    revision: str
    mtime_ns: int | None
    modified_by: str | None = None  # who made that revision (X-Modified-By)


@dataclass(frozen=True, slots=True)
class BatchFile:
    """One file of a batch upload: its bytes (None: the project holds this content
    already, send it by reference), their SHA-256 and size, and the revision it replaces
    (None: create only)."""

    path: str
    data: bytes | None
    sha256: str
    size: int
    if_match: str | None
    mtime_ns: int | None = None  # the local file's modification time


class RemoteError(Exception):
    """The remote refused a request (or could not be reached: status 0); says which in one
    line. ``code`` is the error code of CONTRACT.md's error bodies."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{message} (HTTP {status} {code})" if status else message)
        self.status = status
        self.code = code
        self.message = message


class NotFound(RemoteError):
    """404: no such project, file or revision."""


class PreconditionFailed(RemoteError):
    """412: the write was stale; re-plan, never force."""


class SourceChanged(RemoteError):
    """The file being uploaded changed size while it was read; try again later."""

    def __init__(self, path: Path) -> None:
        super().__init__(0, "content_changed", f"{path} changed while it was uploaded")


def remote_error(status: int, code: str, message: str) -> RemoteError:
    """The error for a status: 404 and 412 have their own kinds."""
    kind = {404: NotFound, 412: PreconditionFailed}.get(status, RemoteError)
    return kind(status, code, message)


class Remote(Protocol):
    """A place projects are synced with. Every method may raise :class:`RemoteError`."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *_exc: object) -> None: ...

    async def aclose(self) -> None: ...

    # -- users and projects
    async def user(self) -> str: ...

    async def login(self, username: str, password: str) -> str: ...

    async def projects(self) -> list[CloudProject]: ...

    async def project(self, project_id: str) -> CloudProject: ...

    async def create_project(
        self, name: str, title: str = "", description: str = ""
    ) -> CloudProject: ...

    async def delete_project(self, project_id: str) -> None: ...

    # -- files
    async def files(self, project_id: str, *, include_deleted: bool = False) -> list[FileVersion]:
        """Every live file of the project (``include_deleted``: and every path whose head is
        a deletion, as that deletion)."""
        ...

    async def upload(
        self,
        project_id: str,
        path: str,
        source: Path | bytes,
        *,
        if_match: str | None,
        sha256: str | None = None,
        on_bytes: Callable[[int], None] | None = None,
        mtime_ns: int | None = None,
    ) -> FileVersion: ...

    async def upload_batch(
        self, project_id: str, items: list[BatchFile]
    ) -> list[FileVersion | RemoteError]:
        """Per item and in order: its new version, or the error a single upload raises."""
        ...

    async def download(
        self,
        project_id: str,
        path: str,
        write: Callable[[bytes], Any],
        *,
        revision: str | None = None,
    ) -> Downloaded: ...

    async def delete(
        self, project_id: str, path: str, *, if_match: str, confirmed: bool = False
    ) -> None: ...

    async def move(
        self, project_id: str, from_path: str, to_path: str, *, if_match: str
    ) -> FileVersion: ...

    async def revisions(self, project_id: str, path: str) -> list[FileVersion]:
        """The path's history, newest first, deletions included."""
        ...

    async def changes(self, project_id: str, since: int, limit: int = 1000) -> ChangePage: ...

    # -- checkpoints: named states of a project
    async def checkpoints(self, project_id: str) -> list[Checkpoint]:
        """Newest first."""
        ...

    async def create_checkpoint(self, project_id: str, name: str) -> Checkpoint:
        """A checkpoint of the project as it is now; 409 ``conflict`` if the name is taken."""
        ...

    async def restore_checkpoint(self, project_id: str, checkpoint_id: str) -> CloudProject:
        """Make the files what they were at the checkpoint, as new revisions (history
        stays); 404 for an unknown checkpoint."""
        ...


RemoteFactory = Callable[..., Remote]
"""What the entry point names: ``factory(url, token, **options)``; options a remote does not
know (``max_retries`` ...) it ignores."""
