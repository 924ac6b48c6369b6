"""A remote in this process's memory: the second implementation of
:class:`~project_filebrowser.remotes.base.Remote`, for tests of the engine that need no server
and for trying the product out without one.

``memory://NAME`` names one store; every remote opened on the same name in this process
shares it (two replicas of a test sync through it). It keeps the cloud's rules that the
engine relies on: revisions are compared on every write (412 when stale, create-only with
``if_match=None``), a path is a file or a folder (409 ``path_conflict``), an announced
SHA-256 is checked (400 ``checksum_mismatch``), a batch answers per item and content sent
by reference must already be in the project (409 ``unknown_content``), every change is in
an ordered feed, deletions included in a path's history. There is one user, whoever the
token names, and it owns every project.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any, Self

from ..schemas import Checkpoint, CloudProject
from .base import (
    BatchFile,
    Change,
    ChangePage,
    Downloaded,
    FileVersion,
    NotFound,
    PreconditionFailed,
    RemoteError,
)


@dataclass
class _Project:
    meta: CloudProject
    head: dict[str, FileVersion] = field(default_factory=dict)  # live files
    history: dict[str, list[FileVersion]] = field(default_factory=dict)  # oldest first
    content: dict[str, bytes] = field(default_factory=dict)  # by revision
    feed: list[Change] = field(default_factory=list)
    # checkpoints, oldest first, each with the live files it names
    checkpoints: list[tuple[Checkpoint, dict[str, FileVersion]]] = field(default_factory=list)


@dataclass
class MemoryStore:
    """What one ``memory://NAME`` holds."""

    projects: dict[str, _Project] = field(default_factory=dict)
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


_STORES: dict[str, MemoryStore] = {}


def store_of(url: str) -> MemoryStore:
    """The store ``memory://NAME`` names (made on first use)."""
    return _STORES.setdefault(url.removeprefix("memory://").strip("/"), MemoryStore())


def _now() -> datetime:
    return datetime.now(timezone.utc)


class MemoryRemote:
    def __init__(self, url: str, token: str = "", **_options: Any) -> None:
        if not url.startswith("memory://"):
            raise RemoteError(0, "unknown_remote", f"{url!r} is not a memory:// URL")
        self.store = store_of(url)
        self.username = token or "memory"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        return None

    # -- users and projects ---------------------------------------------------------------

    async def user(self) -> str:
        return self.username

    async def login(self, username: str, password: str) -> str:
        return username

    async def projects(self) -> list[CloudProject]:
        return [self._describe(p) for p in self.store.projects.values()]

    async def project(self, project_id: str) -> CloudProject:
        return self._describe(self._project(project_id))

    async def create_project(
        self, name: str, title: str = "", description: str = ""
    ) -> CloudProject:
        if any(p.meta.name == name for p in self.store.projects.values()):
            raise RemoteError(409, "conflict", f"you already have a project named {name!r}")
        now = _now()
        meta = CloudProject(
            id=f"m{next(self.store.counter)}",
            name=name,
            title=title,
            description=description,
            owner=self.username,
            created_at=now,
            updated_at=now,
        )
        self.store.projects[meta.id] = _Project(meta)
        return self._describe(self.store.projects[meta.id])

    async def delete_project(self, project_id: str) -> None:
        self._project(project_id)
        del self.store.projects[project_id]

    # -- files ----------------------------------------------------------------------------

    async def files(self, project_id: str, *, include_deleted: bool = False) -> list[FileVersion]:
        project = self._project(project_id)
        versions = list(project.head.values())
        if include_deleted:
            versions += [
                history[-1]
                for path, history in project.history.items()
                if path not in project.head and history and history[-1].deleted
            ]
        return sorted(versions, key=lambda v: v.path)

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
    ) -> FileVersion:
        if isinstance(source, bytes):
            data = source
        else:
            data = source.read_bytes()
            mtime_ns = os.stat(source).st_mtime_ns if mtime_ns is None else mtime_ns
        if sha256 and hashlib.sha256(data).hexdigest() != sha256:
            raise RemoteError(400, "checksum_mismatch", "the SHA-256 is not the one announced")
        version = self._put(self._project(project_id), path, data, if_match, mtime_ns)
        if on_bytes is not None:
            on_bytes(len(data))
        return version

    async def upload_batch(
        self, project_id: str, items: list[BatchFile]
    ) -> list[FileVersion | RemoteError]:
        project = self._project(project_id)
        results: list[FileVersion | RemoteError] = []
        for item in items:
            try:
                if item.data is None:  # by reference: any revision of the project (so far)
                    held = [
                        v.revision
                        for vs in project.history.values()
                        for v in vs
                        if v.sha256 == item.sha256
                    ]
                    if not held:
                        raise RemoteError(409, "unknown_content", f"no content {item.sha256}")
                    data = project.content[held[0]]
                else:
                    data = item.data
                if hashlib.sha256(data).hexdigest() != item.sha256:
                    raise RemoteError(400, "checksum_mismatch", f"{item.path}: wrong SHA-256")
                results.append(self._put(project, item.path, data, item.if_match, item.mtime_ns))
            except RemoteError as exc:
                results.append(exc)
        return results

    async def download(
        self,
        project_id: str,
        path: str,
        write: Callable[[bytes], Any],
        *,
        revision: str | None = None,
    ) -> Downloaded:
        project = self._project(project_id)
        if revision is None:
            version = project.head.get(path)
        else:
            version = next(
                (v for v in project.history.get(path, []) if v.revision == revision), None
            )
        if version is None or version.deleted:
            raise NotFound(404, "not_found", f"no file {path!r}")
        write(project.content[version.revision])
        return Downloaded(version.revision, version.mtime_ns, version.modified_by)

    async def delete(
        self, project_id: str, path: str, *, if_match: str, confirmed: bool = False
    ) -> None:
        project = self._project(project_id)
        self._check(project, path, if_match)
        del project.head[path]
        self._record(project, path, "delete", None, None, confirmed=confirmed)

    async def move(
        self, project_id: str, from_path: str, to_path: str, *, if_match: str
    ) -> FileVersion:
        project = self._project(project_id)
        self._check(project, from_path, if_match)
        if to_path in project.head:
            raise PreconditionFailed(412, "precondition_failed", f"{to_path!r} exists")
        self._check_shape(project, to_path, moving=from_path)
        old = project.head.pop(from_path)
        self._record(project, from_path, "delete", None, None, log=False)
        data = project.content[old.revision]
        return self._record(project, to_path, "move", data, old.mtime_ns, from_path=from_path)

    async def revisions(self, project_id: str, path: str) -> list[FileVersion]:
        history = self._project(project_id).history.get(path)
        if not history:
            raise NotFound(404, "not_found", f"no file {path!r}")
        return list(reversed(history))

    async def changes(self, project_id: str, since: int, limit: int = 1000) -> ChangePage:
        feed = [c for c in self._project(project_id).feed if c.seq > since]
        items = feed[:limit]
        return ChangePage(
            items=items,
            next_since=items[-1].seq if items else since,
            has_more=len(feed) > limit,
        )

    # -- checkpoints ----------------------------------------------------------------------

    async def checkpoints(self, project_id: str) -> list[Checkpoint]:
        return [cp for cp, _files in reversed(self._project(project_id).checkpoints)]

    async def create_checkpoint(self, project_id: str, name: str) -> Checkpoint:
        project = self._project(project_id)
        if any(cp.name == name for cp, _files in project.checkpoints):
            raise RemoteError(409, "conflict", f"a checkpoint named {name!r} exists")
        checkpoint = Checkpoint(
            id=f"cp-{next(self.store.counter)}", name=name, seq=len(project.feed), created_at=_now()
        )
        project.checkpoints.append((checkpoint, dict(project.head)))
        return checkpoint

    async def restore_checkpoint(self, project_id: str, checkpoint_id: str) -> CloudProject:
        """New revisions for every path that differs from the checkpoint: deletes first."""
        project = self._project(project_id)
        saved = next((files for cp, files in project.checkpoints if cp.id == checkpoint_id), None)
        if saved is None:
            raise NotFound(404, "not_found", f"no checkpoint {checkpoint_id!r}")
        for path in sorted(set(project.head) - set(saved)):
            del project.head[path]
            self._record(project, path, "delete", None, None)
        for path, version in sorted(saved.items()):
            current = project.head.get(path)
            if current is None or current.sha256 != version.sha256:
                data = project.content[version.revision]
                self._record(project, path, "put", data, version.mtime_ns)
        return self._describe(project)

    # -- the rules ------------------------------------------------------------------------

    def _project(self, project_id: str) -> _Project:
        try:
            return self.store.projects[project_id]
        except KeyError:
            raise NotFound(404, "not_found", f"no project {project_id!r}") from None

    def _describe(self, project: _Project) -> CloudProject:
        return project.meta.model_copy(
            update={
                "head_seq": project.feed[-1].seq if project.feed else 0,
                "file_count": len(project.head),
                "size_bytes": sum(v.size for v in project.head.values()),
            }
        )

    def _check(self, project: _Project, path: str, if_match: str) -> None:
        current = project.head.get(path)
        if current is None:
            raise NotFound(404, "not_found", f"no file {path!r}")
        if if_match not in ("*", current.revision):
            raise PreconditionFailed(412, "precondition_failed", f"{path!r} has changed")

    def _check_shape(self, project: _Project, path: str, moving: str | None = None) -> None:
        """A path is a file or a folder: no live file above it, none below it."""
        for parent in PurePosixPath(path).parents:
            if str(parent) != "." and str(parent) in project.head and str(parent) != moving:
                raise RemoteError(409, "path_conflict", f"{str(parent)!r} is a file")
        prefix = path + "/"
        if any(p.startswith(prefix) for p in project.head if p != moving):
            raise RemoteError(409, "path_conflict", f"{path!r} is a folder")

    def _put(
        self, project: _Project, path: str, data: bytes, if_match: str | None, mtime: int | None
    ) -> FileVersion:
        current = project.head.get(path)
        if if_match is None and current is not None:
            raise PreconditionFailed(412, "precondition_failed", f"{path!r} exists")
        if if_match is not None and (current is None or if_match != current.revision):
            raise PreconditionFailed(412, "precondition_failed", f"{path!r} has changed")
        self._check_shape(project, path)
        return self._record(project, path, "put", data, mtime)

    def _record(
        self,
        project: _Project,
        path: str,
        op: str,
        data: bytes | None,
        mtime_ns: int | None,
        *,
        from_path: str | None = None,
        confirmed: bool = False,
        log: bool = True,
    ) -> FileVersion:
        """One new revision of ``path`` (``data`` None: a deletion), in its history and,
        unless ``log`` is off (the source of a move), in the feed."""
        seq = next(self.store.counter)
        sha = hashlib.sha256(data).hexdigest() if data is not None else None
        version = FileVersion(
            path=path,
            revision=f"rev-{seq}",
            sha256=sha,
            size=len(data) if data is not None else 0,
            modified_at=_now().isoformat(),
            modified_by=self.username,
            deleted=data is None,
            mtime_ns=mtime_ns,
        )
        project.history.setdefault(path, []).append(version)
        if data is not None:
            project.content[version.revision] = data
            project.head[path] = version
        if log:
            project.feed.append(
                Change(
                    seq=len(project.feed) + 1,
                    path=path,
                    op=op,
                    revision=version.revision,
                    sha256=sha,
                    size=version.size if data is not None else None,
                    from_path=from_path,
                    modified_by=self.username,
                    confirmed=confirmed,
                    mtime_ns=mtime_ns,
                )
            )
        return version
