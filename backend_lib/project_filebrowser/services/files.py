"""File views of a project: its files and their states, and what a sync would do (a dry run).

A look: nothing here writes, neither the files nor the state DB.
"""

from __future__ import annotations

from sqlalchemy import select

from ..remotes import RemoteError
from ..schemas import (
    DeleteGuardModel,
    FileEntry,
    PlannedStep,
    PlanTotals,
    SyncPlan,
)
from ..store.models import Conflict
from ..sync import failures, state
from ..sync.planner import (
    DeleteLocal,
    DeleteRemote,
    Download,
    MoveRemote,
    Plan,
    ResolveConflict,
    Upload,
)
from ..sync.scanner import skip_reason
from ..sync.steps import pending_states
from ..sync.trees import SyncedTree, is_folder_marker, shown
from .runtime import Runtime, from_cloud


class FileViews(Runtime):
    async def preview(
        self,
        project_id: str,
        *,
        max_delete_fraction: float | None = None,
        max_deletes: int | None = None,
    ) -> SyncPlan:
        """A dry run: what a sync would do now, with sizes; nothing changes anywhere."""
        syncer = self._syncer(
            project_id,
            max_delete_fraction=(
                self.settings.max_delete_fraction
                if max_delete_fraction is None
                else max_delete_fraction
            ),
            max_deletes=max_deletes,
        )
        try:
            plan, synced = await syncer.preview()
        except RemoteError as exc:
            raise from_cloud(exc) from exc
        return _plan_model(project_id, plan, synced)

    async def files(self, project_id: str) -> list[FileEntry]:
        """Every path of the project and its state, by the engine's own table; a look that
        writes nothing (not even the scan's index: that is the engine's, under its lock)."""
        plan, scanned = await self._syncer(project_id).plan(save_index=False)
        with self.require_store().read() as session:
            conflicted = {
                path
                for row in session.scalars(
                    select(Conflict).where(
                        Conflict.project_id == project_id, Conflict.resolved.is_(False)
                    )
                )
                for path in (row.path, row.conflict_path)
            }
        with self.require_store().read() as session:
            remote = state.load_remote(session, project_id)
            failed = failures.load(session, project_id)
        entries: dict[str, FileEntry] = {}
        for path, local in scanned.tree.items():
            entries[path] = FileEntry(path=path, size=local.size, state="synced")
        for path, remote_file in remote.items():
            entries.setdefault(path, FileEntry(path=path, size=remote_file.size, state="synced"))
        for path, state_name, size in pending_states(plan.operations):
            if state_name == "deleted":
                entries.pop(path, None)
                continue
            known = entries[path].size if path in entries else 0
            entries[path] = FileEntry(
                path=path,
                size=known if size is None else size,
                state=state_name,  # type: ignore[arg-type]
            )
        for path in conflicted & entries.keys():
            entries[path] = entries[path].model_copy(update={"state": "conflict"})
        waiting = {path for op in plan.operations for path in failures.paths_of(op)}
        for path in failed.keys() & waiting & entries.keys():  # failed alone, tried again
            entries[path] = entries[path].model_copy(
                update={"state": "failed", "reason": failures.reason(failed[path])}
            )
        for path in plan.ignored:
            if path in scanned.tree:
                entries[path] = FileEntry(path=path, size=scanned.tree[path].size, state="ignored")
        for path, reason in scanned.skipped:  # symlinks, special files, names: never synced
            entries[path] = FileEntry(
                path=shown(path), size=0, state="skipped", reason=skip_reason(path, reason)
            )
        return sorted(
            (e for e in entries.values() if not is_folder_marker(e.path)), key=lambda e: e.path
        )


def _plan_model(project_id: str, plan: Plan, synced: SyncedTree) -> SyncPlan:
    """The plan as the CLI and the UI show it: the steps that touch files, with sizes and
    totals (bookkeeping steps, which only record what both sides agree on, are left out)."""
    steps: list[PlannedStep] = []
    totals = PlanTotals()
    for op in plan.operations:
        if is_folder_marker(op.path):
            continue
        if isinstance(op, Upload):
            step = PlannedStep(action="upload", path=op.path, size=op.local.size)
            totals.uploads += 1
            totals.upload_bytes += 0 if op.stored else op.local.size
        elif isinstance(op, Download):
            step = PlannedStep(action="download", path=op.path, size=op.remote.size)
            totals.downloads += 1
            totals.download_bytes += op.remote.size
        elif isinstance(op, DeleteRemote):
            step = PlannedStep(action="delete_remote", path=op.path, size=synced[op.path].size)
            totals.delete_remote += 1
        elif isinstance(op, DeleteLocal):
            step = PlannedStep(action="delete_local", path=op.path, size=synced[op.path].size)
            totals.delete_local += 1
        elif isinstance(op, MoveRemote):
            step = PlannedStep(
                action="move", path=op.path, from_path=op.from_path, size=op.local.size
            )
            totals.moves += 1
        elif isinstance(op, ResolveConflict):
            step = PlannedStep(action="conflict", path=op.path, size=op.remote.size)
            totals.conflicts += 1
            totals.download_bytes += op.remote.size
            totals.upload_bytes += op.local.size
        else:
            continue
        steps.append(step)
    guard = plan.guard
    return SyncPlan(
        project_id=project_id,
        steps=steps,
        totals=totals,
        guard=None
        if guard is None
        else DeleteGuardModel(
            side=guard.side,  # type: ignore[arg-type]
            deletes=guard.deletes,
            total=guard.total,
            message=guard.message,
            reason=guard.reason,  # type: ignore[arg-type]
            confirmable=guard.confirmable,
        ),
    )
