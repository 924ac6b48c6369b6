"""The planner: a pure function of the three trees to the operations that reconcile them.

For each path it compares local vs base and remote vs base (the design's table):

| local vs base | remote vs base | operation |
| --- | --- | --- |
| same | same | nothing |
| changed | same | ``Upload`` (``If-Match: base``) |
| deleted | same | ``DeleteRemote`` (``If-Match: base``) |
| same | changed | ``Download`` (only if the file still matches base) |
| same | deleted | ``DeleteLocal`` (only if the file still matches base) |
| changed | changed, equal content | ``RecordBase`` |
| changed | changed, different | ``ResolveConflict`` (both versions kept) |
| deleted | changed | ``Download``: the edit wins |
| changed | deleted | ``Upload``: the edit wins |
| deleted | deleted | ``ForgetBase`` |

A path new on one side is an upload or a download; new on both sides with the same content
is recorded, with different content it is a conflict. A local delete and a local add of the
same content in one plan become a ``MoveRemote``; an upload of content the remote tree holds
at another path is marked ``stored`` (sent by reference). Ignored paths get no operation. A plan
that deletes more than ``max_delete_fraction`` of a project on either side (from
``MIN_GUARDED_DELETES`` deletes; or, for one run, more than ``max_deletes`` files), or every
file of the project at once, carries a ``DeleteGuard`` and must not run until the user
confirms. Cloud deletes a person already confirmed on another replica (``confirmed_deletes``)
are not counted: that replica's guard asked. With ``restore_local_deletes`` a file deleted
here but unchanged in the cloud is downloaded again instead of deleted in the cloud. A
project whose folder is missing (``root_present=False``) plans nothing at all: its guard
cannot be confirmed, only ended by restoring the folder or unlinking the project (an
unmounted disk is not a mass delete).

No I/O happens here: after a crash the engine simply plans again.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace

from .. import settings as defaults
from .trees import (
    BaseEntry,
    LocalFile,
    LocalTree,
    RemoteFile,
    RemoteTree,
    SyncedTree,
    is_folder_marker,
)

# A plan deleting fewer files than this is never paused by the share rule (deleting every
# file of a project is paused whatever their number).
MIN_GUARDED_DELETES = 3
# Why a plan is paused: too large a share deleted, every file gone at once, the folder gone.
GUARD_SHARE = "share"
GUARD_ALL_VANISHED = "all_vanished"
GUARD_ROOT_MISSING = "root_missing"
CONFIRM_HOW = (
    "review and confirm in the panel, or run `project-filebrowser sync --dry-run` to see "
    "them and `project-filebrowser sync --confirm-deletes` to apply them."
)


@dataclass(frozen=True, slots=True)
class Upload:
    """Push local content; ``if_match`` is the base revision, None means create-only.
    ``stored``: the remote tree holds this content already (at another path), so the bytes
    need not travel: the cloud is asked to reuse it."""

    path: str
    local: LocalFile
    if_match: str | None
    stored: bool = False


@dataclass(frozen=True, slots=True)
class DeleteRemote:
    path: str
    if_match: str


@dataclass(frozen=True, slots=True)
class MoveRemote:
    from_path: str
    path: str
    local: LocalFile
    if_match: str


@dataclass(frozen=True, slots=True)
class Download:
    """Pull a remote revision; ``expect_sha256`` is what the local file must still be
    (None: it must still be absent), else the step becomes a conflict."""

    path: str
    remote: RemoteFile
    expect_sha256: str | None


@dataclass(frozen=True, slots=True)
class DeleteLocal:
    path: str
    expect_sha256: str


@dataclass(frozen=True, slots=True)
class RecordBase:
    """Both sides hold the same content: only the synced row changes."""

    path: str
    local: LocalFile
    remote: RemoteFile


@dataclass(frozen=True, slots=True)
class ForgetBase:
    path: str


@dataclass(frozen=True, slots=True)
class ResolveConflict:
    """Both sides changed differently. ``keep`` (the project's conflict policy):

    * ``both`` - the cloud version takes the path; the local one is kept as a conflict copy
      and pushed as a new file;
    * ``local`` - the local version is pushed over the cloud's (``If-Match`` its revision,
      which stays in the cloud's history);
    * ``remote`` - the local version is first pushed to the cloud (as a conflict copy, then
      deleted: its history keeps it), then the cloud version takes the path;
    * ``newer`` - ``local`` or ``remote``, whichever was modified last (the executor asks
      the cloud when its revision was written).

    Before any of these, a notebook or text file is merged three-way where the settings
    allow it: ``base_revision`` is the revision both sides last agreed on (None: the path is
    new on both sides, so there is nothing to merge from). Only what does not merge cleanly
    goes to the policy."""

    path: str
    local: LocalFile
    remote: RemoteFile
    keep: str = "both"
    base_revision: str | None = None


# The per-project conflict policy (like rclone's --conflict-resolve) -> ResolveConflict.keep
CONFLICT_POLICIES = {"keep-both": "both", "newer": "newer", "local": "local", "remote": "remote"}


Operation = (
    Upload
    | DeleteRemote
    | MoveRemote
    | Download
    | DeleteLocal
    | RecordBase
    | ForgetBase
    | ResolveConflict
)


@dataclass(frozen=True, slots=True)
class DeleteGuard:
    side: str  # "local" (deletes in the cloud mirrored here) or "remote"
    deletes: int
    total: int
    fraction: float
    max_deletes: int | None = None  # a count limit given for one run
    reason: str = GUARD_SHARE  # GUARD_SHARE | GUARD_ALL_VANISHED | GUARD_ROOT_MISSING

    @property
    def confirmable(self) -> bool:
        """Whether the user may confirm these deletes: never for a missing folder (it must
        come back, or the project be unlinked)."""
        return self.reason != GUARD_ROOT_MISSING

    @property
    def message(self) -> str:
        if self.reason == GUARD_ROOT_MISSING:
            return (
                "The project folder is missing — restore it, or unlink the project. "
                "Nothing is synced (and nothing deleted in the cloud) until then."
            )
        if self.reason == GUARD_ALL_VANISHED:
            return (
                f"Every file of this project is gone from its folder ({self.deletes} of "
                f"{self.total}); this sync would delete them all in the cloud; "
                f"paused until you confirm: {CONFIRM_HOW}"
            )
        where = "on this machine" if self.side == "local" else "in the cloud"
        limit = f"{self.fraction:.0%}" if self.max_deletes is None else f"{self.max_deletes} files"
        return (
            f"This sync would delete {self.deletes} of {self.total} files {where} "
            f"(more than {limit}); paused until you confirm: {CONFIRM_HOW}"
        )


@dataclass(slots=True)
class Plan:
    operations: list[Operation] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    guard: DeleteGuard | None = None

    def __bool__(self) -> bool:
        return bool(self.operations)


def _plan_path(
    path: str,
    local: LocalFile | None,
    remote: RemoteFile | None,
    base: BaseEntry | None,
    restore_local_deletes: bool = False,
) -> Operation | None:
    if base is None:
        if local is None and remote is None:
            return None
        if remote is None:
            assert local is not None
            return Upload(path, local, if_match=None)
        if local is None:
            return Download(path, remote, expect_sha256=None)
        if local.sha256 == remote.sha256:
            return RecordBase(path, local, remote)
        return ResolveConflict(path, local, remote)

    local_same = local is not None and local.sha256 == base.sha256
    remote_same = remote is not None and remote.revision == base.revision

    if local_same and remote_same:
        return None
    if remote_same:
        assert remote is not None
        if local is None:
            if restore_local_deletes:
                return Download(path, remote, expect_sha256=None)
            return DeleteRemote(path, if_match=base.revision)
        return Upload(path, local, if_match=base.revision)
    if local_same:
        assert local is not None
        if remote is None:
            return DeleteLocal(path, expect_sha256=base.sha256)
        if remote.sha256 == local.sha256:
            return RecordBase(path, local, remote)  # a new revision of the same bytes
        return Download(path, remote, expect_sha256=base.sha256)
    # both sides moved away from the base
    if local is None and remote is None:
        return ForgetBase(path)
    if local is None:
        assert remote is not None
        return Download(path, remote, expect_sha256=None)  # deleted here, edited there
    if remote is None:
        return Upload(path, local, if_match=None)  # edited here, deleted there
    if local.sha256 == remote.sha256:
        return RecordBase(path, local, remote)
    return ResolveConflict(path, local, remote, base_revision=base.revision)


def _pair_moves(operations: list[Operation], synced: SyncedTree) -> list[Operation]:
    """Turn a remote delete plus a create-only upload of the same content into a move."""
    deletes: dict[str, list[DeleteRemote]] = {}
    for op in operations:
        if isinstance(op, DeleteRemote) and not is_folder_marker(op.path):
            deletes.setdefault(synced[op.path].sha256, []).append(op)
    if not deletes:
        return operations
    moved: dict[str, MoveRemote] = {}  # keyed by the delete's path
    replaced: dict[int, MoveRemote] = {}
    for index, op in enumerate(operations):
        if isinstance(op, Upload) and op.if_match is None and not is_folder_marker(op.path):
            candidates = deletes.get(op.local.sha256)
            if candidates:
                source = candidates.pop(0)
                move = MoveRemote(source.path, op.path, op.local, source.if_match)
                moved[source.path] = move
                replaced[index] = move
    result: list[Operation] = []
    for index, op in enumerate(operations):
        if isinstance(op, DeleteRemote) and op.path in moved:
            continue
        result.append(replaced.get(index, op))
    return result


def _mark_stored(operations: list[Operation], remote: RemoteTree) -> list[Operation]:
    """Mark the uploads of content the remote tree already has (a copied file or folder)."""
    if not any(isinstance(op, Upload) for op in operations):
        return operations
    held = {file.sha256 for file in remote.values()}
    return [
        replace(op, stored=True)
        if isinstance(op, Upload) and op.local.size > 0 and op.local.sha256 in held
        else op
        for op in operations
    ]


def _guard(
    operations: list[Operation],
    local: LocalTree,
    synced: SyncedTree,
    max_delete_fraction: float,
    max_deletes: int | None,
    confirmed_deletes: Collection[str],
) -> DeleteGuard | None:
    total = len(synced)
    local_deletes = sum(
        isinstance(op, DeleteLocal) and op.path not in confirmed_deletes for op in operations
    )
    remote_deletes = sum(isinstance(op, DeleteRemote) for op in operations)
    files = sum(not is_folder_marker(path) for path in synced)
    vanished = not any(not is_folder_marker(path) for path in local)
    # every file gone at once is guarded whatever the count, unless this run set its own limit
    if max_deletes is None and files and remote_deletes >= files and vanished:
        return DeleteGuard(
            "remote", remote_deletes, total, max_delete_fraction, reason=GUARD_ALL_VANISHED
        )
    for side, deletes in (("local", local_deletes), ("remote", remote_deletes)):
        if max_deletes is not None:
            over = deletes > max_deletes
        else:
            over = deletes >= MIN_GUARDED_DELETES and deletes > max_delete_fraction * total
        if over:
            return DeleteGuard(side, deletes, total, max_delete_fraction, max_deletes)
    return None


def plan(
    local: LocalTree,
    remote: RemoteTree,
    synced: SyncedTree,
    *,
    is_ignored: Callable[[str], bool] = lambda _path: False,
    max_delete_fraction: float = defaults.MAX_DELETE_FRACTION,
    max_deletes: int | None = None,
    confirmed_deletes: Collection[str] = frozenset(),
    restore_local_deletes: bool = False,
    root_present: bool = True,
    conflict_policy: str = defaults.CONFLICT_POLICY,
) -> Plan:
    """Compare the three trees path by path and return the operations, sorted by path.
    ``root_present=False``: the project folder itself is missing (``local`` is then empty);
    a project that has synced before plans nothing and is paused."""
    result = Plan()
    if not root_present and synced:
        deletes = sum(not is_folder_marker(path) for path in synced)
        result.guard = DeleteGuard(
            "remote", deletes, len(synced), max_delete_fraction, reason=GUARD_ROOT_MISSING
        )
        return result
    for path in sorted(local.keys() | remote.keys() | synced.keys()):
        if is_ignored(path):
            result.ignored.append(path)
            continue
        op = _plan_path(
            path, local.get(path), remote.get(path), synced.get(path), restore_local_deletes
        )
        if op is not None:
            result.operations.append(op)
    result.operations = _mark_stored(_pair_moves(result.operations, synced), remote)
    keep = CONFLICT_POLICIES[conflict_policy]
    if keep != "both":
        result.operations = [
            replace(op, keep=keep) if isinstance(op, ResolveConflict) else op
            for op in result.operations
        ]
    result.guard = _guard(
        result.operations, local, synced, max_delete_fraction, max_deletes, confirmed_deletes
    )
    return result
