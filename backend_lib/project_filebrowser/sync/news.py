"""What the engine tells about projects: their stored status (with the error or pause
reason), the description the UI and CLI show (conflict and pending counts), and the events a
sync announces on the bus (a file's state, a file merged, a project updated, a conflict,
deletes confirmed elsewhere and applied here).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from ..events import EventBus
from ..schemas import (
    DELETES_LISTED,
    ConflictEvent,
    ConflictModel,
    DeletesAppliedEvent,
    FileMergedEvent,
    FileStatusEvent,
    LocalProject,
    ProjectUpdatedEvent,
)
from ..store import Store
from ..store.models import Conflict, LocalProjectRow, utcnow
from .steps import NO_NEWS, FileNews


class ProjectNews:
    def __init__(self, *, store: Store, bus: EventBus, root_dir: Path) -> None:
        self.store = store
        self.bus = bus
        self.root_dir = root_dir
        self.pending: dict[str, int] = {}  # project id -> operations left after last cycle

    def deletes_applied(self, project_id: str, by: str, paths: list[str]) -> None:
        project = self.describe(project_id)
        name = project.name if project is not None else project_id
        files = "1 file" if len(paths) == 1 else f"{len(paths)} files"
        # short: a notification shows about 140 characters
        message = (
            f"{by or 'Someone'} deleted {files} of {name} in the cloud, confirmed on their "
            "machine; deleted here too. The cloud's history keeps them."
        )
        self.bus.publish(
            DeletesAppliedEvent(
                project_id=project_id,
                deleted_by=by,
                count=len(paths),
                paths=sorted(paths)[:DELETES_LISTED],
                message=message,
            )
        )

    def file(
        self,
        project_id: str,
        path: str,
        state: str,
        size: int | None,
        news: FileNews = NO_NEWS,
    ) -> None:
        self.bus.publish(
            FileStatusEvent(
                project_id=project_id,
                path=path,
                state=state,  # type: ignore[arg-type]
                size=size,
                revision=news.revision,
                modified_by=news.modified_by,
                reason=news.reason,
            )
        )

    def merged(self, project_id: str, path: str, revision: str, by: str | None) -> None:
        self.bus.publish(
            FileMergedEvent(project_id=project_id, path=path, revision=revision, merged_with=by)
        )

    def set_project(
        self,
        project_id: str,
        *,
        status: str,
        error: str | None = None,
        paused_reason: str | None = None,
        synced: bool = False,
    ) -> None:
        with self.store.write() as session:
            row = session.get(LocalProjectRow, project_id)
            if row is None:
                return
            row.status, row.error, row.paused_reason = status, error, paused_reason
            if synced:
                row.last_synced_at = utcnow()
        project = self.describe(project_id)
        if project is not None:
            self.bus.publish(ProjectUpdatedEvent(project=project))

    def status(self, project_id: str) -> str | None:
        with self.store.read() as session:
            row = session.get(LocalProjectRow, project_id)
            return row.status if row is not None else None

    def describe(self, project_id: str) -> LocalProject | None:
        with self.store.read() as session:
            row = session.get(LocalProjectRow, project_id)
            if row is None:
                return None
            conflicts = session.scalar(
                select(func.count())
                .select_from(Conflict)
                .where(Conflict.project_id == project_id, Conflict.resolved.is_(False))
            )
            project = LocalProject.model_validate(row)
        project.conflicts = int(conflicts or 0)
        project.pending = self.pending.get(project_id, 0)
        project.error = row.error or row.paused_reason
        # paused because the folder itself is gone: nothing to confirm, it must come back
        project.folder_missing = (
            row.status == "paused" and not (self.root_dir / row.local_path).is_dir()
        )
        return project

    def conflict(self, conflict_id: int) -> None:
        with self.store.read() as session:
            row = session.get(Conflict, conflict_id)
            if row is not None:
                self.bus.publish(ConflictEvent(conflict=ConflictModel.model_validate(row)))
