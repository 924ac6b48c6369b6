"""Conflicts: list them, resolve one (under the project's lock), keep another version of a
file as a conflict copy; and the bytes of a document as Jupyter's contents API carries it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import shutil
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select

from project_cloud.errors import ServiceError  # one error vocabulary for both servers

from ..remotes import NotFound, RemoteError
from ..schemas import (
    ConflictEvent,
    ConflictModel,
    FileStatusEvent,
)
from ..store.models import Conflict, utcnow
from ..sync import state
from ..sync.ignore import IgnoreRules
from ..sync.localfs import AtomicDownload, LocalChanged
from ..sync.trees import is_folder_marker, is_safe_path
from .runtime import Runtime, from_cloud, not_found


class Conflicts(Runtime):
    def conflicts(self, project_id: str | None = None) -> list[ConflictModel]:
        query = select(Conflict).order_by(Conflict.detected_at.desc())
        if project_id:
            query = query.where(Conflict.project_id == project_id)
        with self.require_store().read() as session:
            return [ConflictModel.model_validate(row) for row in session.scalars(query)]

    async def resolve_conflict(
        self, conflict_id: int, keep: Literal["local", "remote", "both"]
    ) -> ConflictModel:
        manager, _ = self.require_manager()
        with self.require_store().read() as session:
            row = session.get(Conflict, conflict_id)
            if row is None:
                raise not_found(f"conflict {conflict_id}")
            project_id = row.project_id
        # under the project's lock: no sync of it runs while its files change here
        async with manager.project_lock(project_id):
            model = await self._resolve_locked(conflict_id, keep)
        manager.request_sync(project_id, user=True)
        return model

    async def _resolve_locked(
        self, conflict_id: int, keep: Literal["local", "remote", "both"]
    ) -> ConflictModel:
        with self.require_store().read() as session:
            row = session.get(Conflict, conflict_id)
            if row is None:
                raise not_found(f"conflict {conflict_id}")
            if row.resolved:
                raise ServiceError(409, "already_resolved", f"conflict {conflict_id} is resolved")
            project = self._local_project(row.project_id)
            path, copy_path = row.path, row.conflict_path
        root = Path(self.settings.root_dir) / project.local_path
        target, copy = root / path, root / copy_path
        if keep == "local":
            if not copy.is_file():
                raise ServiceError(
                    409, "conflict_copy_missing", f"{copy_path} is gone; keep remote or both"
                )
            await asyncio.to_thread(_replace_with, copy, target)
            # an open editor of the path learns at once that its file was replaced
            self.bus.publish(
                FileStatusEvent(project_id=row.project_id, path=path, state="pending_push")
            )
        elif keep == "remote":
            copy.unlink(missing_ok=True)
        with self.require_store().write() as session:
            conflict = session.get(Conflict, conflict_id)
            assert conflict is not None
            conflict.resolved, conflict.resolution, conflict.resolved_at = True, keep, utcnow()
            return ConflictModel.model_validate(conflict)

    async def keep_copy(
        self,
        project_id: str,
        path: str,
        *,
        revision: str | None = None,
        content: bytes | None = None,
    ) -> ConflictModel:
        """Keep another version of ``path`` beside it as a conflict copy, as the engine keeps
        its own conflicts: the cloud's ``revision`` of it, or ``content`` (an editor's
        buffer). The copy is written atomically under a fresh conflict name, a Conflict is
        recorded and announced, and a sync pushes the copy. The path itself is not touched."""
        manager, client = self.require_manager()
        self._local_project(project_id)
        if (revision is None) == (content is None):
            raise ServiceError(400, "invalid_body", "give either a revision or the content")
        if not is_safe_path(path) or is_folder_marker(path):
            raise ServiceError(400, "invalid_path", f"{path!r} is not a file path in a project")
        syncer = self._syncer(project_id)
        if IgnoreRules.for_project(syncer.root)(path):
            raise ServiceError(
                400, "ignored_path", f"{path} is not synced (an ignore rule matches it)"
            )
        # under the project's lock, as every change to its files outside a sync: no sync of
        # it picks a name or plans while the copy is being written
        async with manager.project_lock(project_id):
            copy_path = syncer.conflict_copy_name(path)
            digest = hashlib.sha256()
            with AtomicDownload(syncer.root / copy_path) as copy:

                def write(chunk: bytes) -> None:
                    digest.update(chunk)
                    copy.write(chunk)

                if content is not None:
                    write(content)
                else:
                    try:
                        await client.download(project_id, path, write, revision=revision)
                    except NotFound as exc:
                        raise ServiceError(
                            404,
                            "revision_not_found",
                            f"the cloud has no revision {revision!r} of {path}: {exc.message}",
                        ) from exc
                    except RemoteError as exc:
                        raise from_cloud(exc) from exc
                try:
                    await asyncio.to_thread(copy.commit, None)  # the name must still be free
                except LocalChanged as exc:
                    raise ServiceError(
                        409, "copy_name_taken", f"{copy_path} appeared meanwhile; try again"
                    ) from exc
            with self.require_store().write() as session:
                conflict_id = state.add_conflict(
                    session,
                    project_id,
                    path,
                    copy_path,
                    local_sha256=digest.hexdigest(),
                    remote_revision=revision,
                )
                model = ConflictModel.model_validate(session.get(Conflict, conflict_id))
        self.bus.publish(ConflictEvent(conflict=model))
        manager.request_sync(project_id, user=True)
        return model


def document_bytes(content: str | dict[str, Any], fmt: str | None) -> bytes:
    """The file bytes of a document as Jupyter's contents API carries it: a notebook
    (``json``, written as Jupyter writes notebooks), ``text`` or ``base64``."""
    if fmt == "json" and isinstance(content, dict):
        import nbformat  # only here: the CLI never needs it

        # The shape, not the schema: a buffer that fails strict validation is still the
        # user's work (Jupyter saves such notebooks too, with a warning).
        if not isinstance(content.get("cells"), list) or not isinstance(
            content.get("nbformat"), int
        ):
            raise ServiceError(
                400, "invalid_notebook", "a notebook needs a 'cells' list and an 'nbformat' number"
            )
        try:
            text = nbformat.writes(nbformat.from_dict(content), version=nbformat.NO_CONVERT)
        except Exception as exc:  # nbformat raises many kinds for a malformed notebook
            raise ServiceError(400, "invalid_notebook", f"not a notebook: {exc}") from None
        return (text if text.endswith("\n") else text + "\n").encode("utf-8")
    if fmt == "text" and isinstance(content, str):
        return content.encode("utf-8")
    if fmt == "base64" and isinstance(content, str):
        try:
            return base64.b64decode(content, validate=True)
        except binascii.Error as exc:
            raise ServiceError(400, "invalid_body", f"content is not base64: {exc}") from None
    raise ServiceError(
        400,
        "invalid_body",
        "content needs a format: 'json' with a notebook object, 'text' or 'base64' with a string",
    )


def _replace_with(source: Path, target: Path) -> None:
    """Atomically put ``source``'s bytes at ``target`` and remove ``source``."""
    with AtomicDownload(target) as download, open(source, "rb") as handle:
        shutil.copyfileobj(handle, download)  # type: ignore[misc]
        download.commit(expect_sha256=None, check=False)
    source.unlink()
