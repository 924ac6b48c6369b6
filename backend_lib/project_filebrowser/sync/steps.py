"""What the executor's steps are made of and say: progress, the news of a finished step, a
cycle's result, the state a step puts its path in, and how uploads are grouped in batches.

Pure data and pure functions; :mod:`.executor` runs the steps, :mod:`.project` the cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..remotes import (
    NotFound,
    PreconditionFailed,
    RemoteError,
)
from . import failures
from .planner import (
    DeleteGuard,
    DeleteLocal,
    DeleteRemote,
    Download,
    ForgetBase,
    MoveRemote,
    Operation,
    RecordBase,
    ResolveConflict,
    Upload,
)

# Files up to BATCH_FILE_MAX bytes are uploaded in batches of up to BATCH_MAX_FILES files and
# BATCH_MAX_BYTES bytes (the cloud takes up to 1000 files and 32 MiB per batch).
BATCH_FILE_MAX = 1 << 20
BATCH_MAX_FILES = 500
BATCH_MAX_BYTES = 8 << 20
# Cloud error codes that mean "the bytes changed while they were read": retry later.
STALE_UPLOAD_CODES = frozenset({"checksum_mismatch", "sha256_mismatch", "content_changed"})
# A file sent by reference whose content the cloud does not hold: send its bytes.
UNKNOWN_CONTENT = "unknown_content"


class Stale(Exception):
    """A step found the world changed since planning; the cycle plans again."""


@dataclass
class Progress:
    files_total: int = 0
    files_done: int = 0
    bytes_total: int = 0
    bytes_done: int = 0


@dataclass(frozen=True, slots=True)
class FileNews:
    """What a finished step says about a path beside its state: the cloud revision it is
    now at and who made that revision (None where no step told)."""

    revision: str | None = None
    modified_by: str | None = None
    reason: str | None = None  # why a failed path is not synced


NO_NEWS = FileNews()


@dataclass
class CycleResult:
    rounds: int = 0
    operations: int = 0
    # ids of Conflict rows made, adopted or resolved by this cycle (each is announced)
    conflicts: list[int] = field(default_factory=list)
    # paths changed on both sides that merged cleanly (no conflict copy), in order
    merged: list[str] = field(default_factory=list)
    guard: DeleteGuard | None = None
    skipped: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    pending: int = 0
    # cloud deletes confirmed on another replica and applied here: who -> paths
    confirmed_applied: dict[str, list[str]] = field(default_factory=dict)
    # paths whose last step failed on its own (the rest ran), by path; their steps count in
    # ``pending`` and are tried again after a backoff (:mod:`.failures`)
    failures: list[failures.Failure] = field(default_factory=list)


def transfer_size(op: Operation) -> int:
    if isinstance(op, Upload | MoveRemote):
        return op.local.size
    if isinstance(op, Download | ResolveConflict):
        return op.remote.size
    return 0


def group_batches(ops: list[Operation]) -> tuple[list[Operation], list[list[Upload]]]:
    """Split operations into those run one by one and batches of uploads: small files, and
    files of any size sent by reference (no bytes travel)."""
    singles: list[Operation] = []
    batches: list[list[Upload]] = []
    current: list[Upload] = []
    size = 0
    for op in ops:
        if not isinstance(op, Upload) or (not op.stored and op.local.size > BATCH_FILE_MAX):
            singles.append(op)
            continue
        weight = 0 if op.stored else op.local.size
        if current and (len(current) >= BATCH_MAX_FILES or size + weight > BATCH_MAX_BYTES):
            batches.append(current)
            current, size = [], 0
        current.append(op)
        size += weight
    if len(current) == 1 and not current[0].stored:
        singles.extend(current)  # one file: a plain upload
    elif current:
        batches.append(current)
    return singles, batches


def stale_reply(exc: RemoteError) -> bool:
    """The cloud refused a step because the world moved on (412, gone, or bytes that
    changed while they were read): plan again, never force."""
    return isinstance(exc, PreconditionFailed | NotFound) or exc.code in STALE_UPLOAD_CODES


def op_paths(ops: list[Operation]) -> set[str]:
    return {op.path for op in ops}


def read_at_most(path: Path, limit: int) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(limit)


def phase_of(op: Operation) -> int:
    """Pulls before pushes: local changes go last, after the remote ones are in."""
    return 0 if isinstance(op, Download | DeleteLocal | ResolveConflict | RecordBase) else 1


def size_of(op: Operation) -> int | None:
    """The size the path of ``op`` has once it is done (None: unknown, or gone)."""
    if isinstance(op, Upload | MoveRemote | RecordBase):
        return op.local.size
    if isinstance(op, Download | ResolveConflict):
        return op.remote.size
    return None


def pending_states(operations: list[Operation]) -> list[tuple[str, str, int | None]]:
    """What each path of a plan is until it runs: ``(path, state, size)``."""
    return [(op.path, pending_state(op), size_of(op)) for op in operations]


def pending_state(op: Operation) -> str:
    """The one table from a planned step to the state its path shows (the file list, the
    websocket and the CLI all use it)."""
    if isinstance(op, RecordBase):  # both sides already hold the same bytes
        return "synced"
    if isinstance(op, ForgetBase):  # gone from both sides: only the record is left
        return "deleted"
    if isinstance(op, ResolveConflict):
        return "conflict"
    if isinstance(op, DeleteRemote):
        return "deleted_locally"
    if isinstance(op, Upload | MoveRemote):
        return "pending_push"
    return "pending_pull"


def final_states(
    op: Operation, *, merged_size: int | None = None
) -> list[tuple[str, str, int | None]]:
    """What each path is once ``op`` succeeded (``deleted``: gone from both sides), with
    its size; a conflict that merged cleanly (into ``merged_size`` bytes) is synced."""
    if isinstance(op, DeleteRemote | DeleteLocal | ForgetBase):
        return [(op.path, "deleted", None)]
    if isinstance(op, MoveRemote):
        return [(op.from_path, "deleted", None), (op.path, "synced", op.local.size)]
    if isinstance(op, ResolveConflict):
        if merged_size is not None:
            return [(op.path, "synced", merged_size)]
        return [(op.path, "conflict", op.remote.size)]
    return [(op.path, "synced", size_of(op))]
