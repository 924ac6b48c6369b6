"""Paths that fail on their own: one bad file never stops the others.

A step that fails for a reason of its own path (the cloud refuses that file: too large, a
name it cannot hold; the disk refuses that name or that folder) is recorded in
``path_failures`` and the rest of the plan runs. The path is tried again after a backoff that
doubles with each failure (``BACKOFF_FIRST`` up to ``BACKOFF_MAX``), at once when what would
be tried changed (the user fixed the file, the cloud has a new revision), and at once when a
person asks for a sync. Errors that are not the path's own (the cloud cannot be reached,
the token is refused, the cloud is shutting down) still end the cycle: every path would fail
alike, and the project says so as a whole.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..remotes import RemoteError
from ..store.models import PathFailure
from .planner import (
    DeleteLocal,
    DeleteRemote,
    Download,
    MoveRemote,
    Operation,
    RecordBase,
    ResolveConflict,
    Upload,
)

log = logging.getLogger(__name__)

BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
# Cloud answers that are about the whole service or this client, never about one path.
GLOBAL_STATUSES = frozenset({401, 403, 429, 503})
GLOBAL_CODES = frozenset({"unreachable"})
MESSAGE_MAX = 500


@dataclass(frozen=True, slots=True)
class Failure:
    """What failed for one path, how often, and when it is tried again."""

    path: str
    code: str
    message: str
    attempts: int
    tried: str
    next_attempt_at: datetime


def backoff(attempts: int) -> timedelta:
    """How long a path that failed ``attempts`` times in a row waits: 30 s, 1 min, 2 min, …,
    at most an hour."""
    return min(BACKOFF_FIRST * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def path_error(exc: BaseException) -> tuple[str, str] | None:
    """``(code, message)`` when ``exc`` is the failure of one path alone; None when it
    concerns the whole project (the cycle ends, as before)."""
    if isinstance(exc, RemoteError):
        if exc.code in GLOBAL_CODES or exc.status in GLOBAL_STATUSES:
            return None
        return exc.code, exc.message
    if isinstance(exc, TimeoutError):  # an OSError, but about the connection
        return None
    if isinstance(exc, OSError):
        code = {36: "name_too_long", 13: "permission_denied", 28: "disk_full"}.get(
            exc.errno or 0, "local_error"
        )
        return code, f"{exc.strerror or type(exc).__name__}: {exc.filename or ''}".rstrip(": ")
    if isinstance(exc, Exception):  # a bug on one path: logged with its traceback, not fatal
        log.error("project-filebrowser: unexpected error", exc_info=exc)
        return "internal_error", f"{type(exc).__name__}: {exc}"
    return None  # cancellation and the like


def tried(op: Operation) -> str:
    """What a step would try, so that a changed step is not held back by an old failure."""
    if isinstance(op, Upload | MoveRemote | RecordBase):
        return op.local.sha256
    if isinstance(op, Download | ResolveConflict):
        return op.remote.revision
    if isinstance(op, DeleteRemote):
        return f"delete:{op.if_match}"
    if isinstance(op, DeleteLocal):
        return f"delete:{op.expect_sha256}"
    return type(op).__name__


def paths_of(op: Operation) -> tuple[str, ...]:
    return (op.from_path, op.path) if isinstance(op, MoveRemote) else (op.path,)


def held(op: Operation, failures: dict[str, Failure], now: datetime) -> bool:
    """Whether ``op`` waits out the backoff of an earlier failure of its path."""
    failure = next((failures[p] for p in paths_of(op) if p in failures), None)
    return failure is not None and failure.tried == tried(op) and failure.next_attempt_at > now


def load(session: Session, project_id: str) -> dict[str, Failure]:
    rows = session.scalars(select(PathFailure).where(PathFailure.project_id == project_id))
    return {
        row.path: Failure(
            row.path, row.code, row.message, row.attempts, row.tried, row.next_attempt_at
        )
        for row in rows
    }


def record(
    session: Session, project_id: str, op: Operation, code: str, message: str, now: datetime
) -> Failure:
    """One more failure of ``op``'s path; a different step than last time starts afresh."""
    row = session.get(PathFailure, (project_id, op.path))
    step = tried(op)
    attempts = row.attempts + 1 if row is not None and row.tried == step else 1
    if row is None:
        row = PathFailure(project_id=project_id, path=op.path, first_failed_at=now)
        session.add(row)
    row.attempts, row.tried = attempts, step
    row.code, row.message = code[:64], message[:MESSAGE_MAX]
    row.next_attempt_at = now + backoff(attempts)
    return Failure(op.path, row.code, row.message, attempts, step, row.next_attempt_at)


def clear(session: Session, project_id: str, paths: set[str]) -> None:
    if paths:
        session.execute(
            delete(PathFailure).where(
                PathFailure.project_id == project_id, PathFailure.path.in_(paths)
            )
        )


def reason(failure: Failure) -> str:
    """Why one path is not synced, and when it is tried again, in words."""
    times = "once" if failure.attempts == 1 else f"{failure.attempts} times"
    at = failure.next_attempt_at.astimezone().strftime("%H:%M:%S")
    return f"{failure.message} (failed {times}; tried again at {at}, or now with Sync)"


def describe(failures: list[Failure]) -> str:
    """One line for the project: how many files fail, the first one's reason, and when."""
    first = failures[0]
    files = "1 file" if len(failures) == 1 else f"{len(failures)} files"
    more = "" if len(failures) == 1 else f" (and {len(failures) - 1} more)"
    return (
        f"{files} could not be synced; the rest is in sync. {first.path}: {first.message}"
        f"{more}. Tried again automatically, or now with Sync."
    )
