"""One sync cycle of one project: refresh the remote tree, scan, plan, execute, repeat.

The cycle plans from the three trees (remote, synced, local); :class:`~.executor.Executor`
runs the steps. After a crash nothing needs replaying: the next cycle plans from the trees.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from ..remotes import (
    ChangePage,
    FileVersion,
)
from . import failures, state
from .executor import Executor
from .ignore import IgnoreRules
from .planner import (
    Operation,
    Plan,
    plan,
)
from .scanner import ScanResult, scan
from .steps import (
    NO_NEWS,
    CycleResult,
    FileNews,
    op_paths,
    pending_states,
)
from .trees import (
    LocalTree,
    RemoteTree,
    SyncedTree,
)

log = logging.getLogger(__name__)

MAX_ROUNDS = 6
CHANGES_PAGE = 1000


class ProjectSync(Executor):
    """A project's sync: the cycle (this class) over the executor's steps."""

    # -- the cycle --------------------------------------------------------------------------

    async def run(
        self,
        *,
        allow_mass_delete: bool = False,
        restore_deletes: bool = False,
        retry_failed: bool = False,
    ) -> CycleResult:
        """Sync until the trees agree. ``allow_mass_delete``: the user confirmed what the
        delete guard paused; ``restore_deletes``: download files deleted here (and unchanged
        in the cloud) again instead of deleting them in the cloud; ``retry_failed``: paths
        that failed before are tried now, whatever their backoff (a person asked)."""
        result = CycleResult()
        self._retry_failed, self._failed_now = retry_failed, set()
        current: Plan | None = None
        for round_number in range(MAX_ROUNDS):
            result.rounds += 1
            await self.refresh_remote()
            current, scanned = await self.plan(restore_deletes=restore_deletes)
            if round_number == 0:
                self._remove_orphan_temp_files(scanned.ignored)
            result.skipped, result.ignored = scanned.skipped, current.ignored
            if current.guard is not None and (
                not allow_mass_delete or not current.guard.confirmable
            ):
                result.guard = current.guard
                result.pending = len(current.operations)
                # say what waits: deleted here, not yet there
                for path, state_name, size in pending_states(current.operations):
                    self.on_file(path, state_name, size, NO_NEWS)
                return result
            if current.guard is not None and current.guard.side == "remote":
                self._confirmed_by_user = True  # the cloud hears that a person confirmed
            runnable = [op for op in current.operations if not self._held(op)]
            if not runnable:
                break
            stale = await self.execute(runnable, result)
            result.operations += len(runnable) - stale - len(self._failed_now & op_paths(runnable))
            # with no stale step, one more round confirms the trees agree (and picks up what
            # arrived meanwhile)
        else:
            current, _ = await self.plan(restore_deletes=restore_deletes)
        self._settle_failures(current, result)
        return result

    def _held(self, op: Operation) -> bool:
        """A step of a path that failed: not again in this run; before its backoff is over
        only when a person asks (or the step changed since)."""
        paths = failures.paths_of(op)
        if self._failed_now.intersection(paths):
            return True
        return not self._retry_failed and failures.held(op, self._failures, self.now())

    def _settle_failures(self, final: Plan | None, result: CycleResult) -> None:
        """Forget the failures of paths with nothing left to do (done, or fixed by other
        means); what still fails is in ``result.failures`` and announced as ``failed``."""
        if final is None:
            return
        result.pending = len(final.operations)
        waiting = {path for op in final.operations for path in failures.paths_of(op)}
        with self.store.write() as session:
            stored = failures.load(session, self.project_id)
            failures.clear(session, self.project_id, set(stored) - waiting)
        result.failures = [stored[path] for path in sorted(stored.keys() & waiting)]
        for failure in result.failures:
            if failure.path not in self._failed_now:  # held: still failing, say so again
                news = FileNews(reason=failures.reason(failure))
                self.on_file(failure.path, "failed", None, news)

    async def plan(
        self, *, restore_deletes: bool = False, save_index: bool = True
    ) -> tuple[Plan, ScanResult]:
        """Scan and plan. ``save_index=False`` is a pure look (a file list, a status): it
        writes nothing, so it may run outside the project lock."""
        with self.store.read() as session:
            synced = state.load_synced(session, self.project_id)
            remote = state.load_remote(session, self.project_id)
            index = state.load_index(session, self.project_id)
            self._confirmed = state.load_confirmed(session, self.project_id)
            self._policy = state.load_conflict_policy(session, self.project_id)
            self._failures = failures.load(session, self.project_id)
        rules = IgnoreRules.for_project(self.root)
        scanned, present = await self._scan(index, rules)
        if save_index and present and scanned.tree != index:
            with self.store.write() as session:
                state.save_index(session, self.project_id, index, scanned.tree)
        return self._plan(scanned, present, remote, synced, rules, restore_deletes), scanned

    async def _scan(self, index: LocalTree, rules: IgnoreRules) -> tuple[ScanResult, bool]:
        """The local tree, and whether the project folder itself is there (a folder that
        went away during the scan gave a partial tree: missing too)."""
        present = self.root.is_dir()
        scanned = await asyncio.to_thread(scan, self.root, index=index.get, rules=rules)
        return scanned, present and self.root.is_dir()

    def _plan(
        self,
        scanned: ScanResult,
        present: bool,
        remote: RemoteTree,
        synced: SyncedTree,
        rules: IgnoreRules,
        restore_deletes: bool = False,
    ) -> Plan:
        return plan(
            scanned.tree,
            remote,
            synced,
            is_ignored=rules,
            max_delete_fraction=self.max_delete_fraction,
            max_deletes=self.max_deletes,
            confirmed_deletes=self._confirmed,
            conflict_policy=self._policy,
            restore_local_deletes=restore_deletes,
            root_present=present,
        )

    async def preview(self) -> tuple[Plan, SyncedTree]:
        """What a sync would do now, changing nothing: neither the files, nor the stored
        trees, index or cursor, nor the cloud (the change feed is read into memory)."""
        with self.store.read() as session:
            synced = state.load_synced(session, self.project_id)
            remote = state.load_remote(session, self.project_id)
            index = state.load_index(session, self.project_id)
            cursor = state.load_cursor(session, self.project_id)
            self._confirmed = state.load_confirmed(session, self.project_id)
            self._policy = state.load_conflict_policy(session, self.project_id)
        if cursor is None:
            cursor, versions = await self._listing()
            remote, self._confirmed = state.live_files(versions), {}
        async for page in self._pages(cursor):
            state.fold_changes(remote, self._confirmed, page.items)
        rules = IgnoreRules.for_project(self.root)
        scanned, present = await self._scan(index, rules)
        return self._plan(scanned, present, remote, synced, rules), synced

    async def refresh_remote(self) -> None:
        """Bring the remote tree up to the cloud's head: a full listing the first time, then
        the change feed from the stored cursor."""
        with self.store.read() as session:
            cursor = state.load_cursor(session, self.project_id)
        if cursor is None:
            cursor, versions = await self._listing()
            with self.store.write() as session:
                state.replace_remote(session, self.project_id, versions, cursor)
        async for page in self._pages(cursor):
            with self.store.write() as session:
                state.apply_changes(session, self.project_id, page.items)
                state.set_cursor(session, self.project_id, page.next_since)

    async def _listing(self) -> tuple[int, list[FileVersion]]:
        """The cloud's head seq and every file as of (at least) it."""
        head = (await self.client.project(self.project_id)).head_seq
        return head, await self.client.files(self.project_id)

    async def _pages(self, cursor: int) -> AsyncIterator[ChangePage]:
        """The change feed's pages after ``cursor`` that hold changes, up to its head."""
        while True:
            page = await self.client.changes(self.project_id, since=cursor, limit=CHANGES_PAGE)
            if page.items:
                yield page
            cursor = max(cursor, page.next_since)
            if not page.has_more:
                return
