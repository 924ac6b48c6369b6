"""Typed models at the edges: what the cloud API returns, what the UI and CLI see.

``CloudProject`` and ``LocalProject`` are two schemas on purpose: the cloud describes a
project as the service stores it; the local shape adds where it lives here and how its sync
is going.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, computed_field

ProjectStatus = Literal["idle", "syncing", "paused", "offline", "error"]
# deleted_locally: gone from this machine, still in the cloud; the next sync deletes it there
# (or, paused by the delete guard, waits until the user confirms or restores it)
# skipped: never synced (a symlink, a special file, a name the cloud cannot hold), ``reason``
# says why; failed: its last step failed on its own (the rest syncs on), ``reason`` says why,
# and it is tried again after a backoff or at the next sync a person asks for
_PathState = Literal[
    "synced",
    "pending_push",
    "pending_pull",
    "conflict",
    "ignored",
    "deleted_locally",
    "failed",
]
FileState = Literal[_PathState, "skipped"]
# A file_status event may also say a path is gone from both sides.
FileEventState = Literal[_PathState, "deleted"]
JobState = Literal["queued", "running", "done", "failed", "cancelled"]
Keep = Literal["local", "remote", "both"]
# What a conflict becomes (like rclone's --conflict-resolve): keep-both makes a conflict copy;
# newer, local and remote pick a side, and the losing version stays in the cloud's history.
ConflictPolicy = Literal["keep-both", "newer", "local", "remote"]


class _Model(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="ignore")


class CloudProject(_Model):
    """A project as the cloud Projects service describes it."""

    id: str
    name: str
    title: str = ""
    description: str = ""
    owner: str
    created_at: datetime
    updated_at: datetime
    metadata: dict[str, Any] = Field(default_factory=dict)
    head_seq: int = 0
    file_count: int = 0
    size_bytes: int = 0


class FileVersion(BaseModel):
    """One revision of a file as the cloud gives it (a deletion too, in a history)."""

    path: str
    revision: str
    sha256: str | None = None  # None for a deletion in the history
    size: int = 0
    modified_at: str | None = None
    modified_by: str | None = None
    deleted: bool = False
    mtime_ns: int | None = None  # the file's modification time (None from older clouds)


class Checkpoint(_Model):
    """A named state of a project in the cloud (its ``seq``)."""

    id: str
    name: str
    seq: int
    created_at: datetime


class LocalProject(_Model):
    """A cloud project linked to a folder on this server, as the UI and CLI show it."""

    id: str
    name: str
    title: str = ""
    description: str = ""
    owner: str = ""
    local_path: str
    status: ProjectStatus = "idle"
    last_synced_at: datetime | None = None
    pending: int = 0
    conflicts: int = 0
    error: str | None = None
    conflict_policy: ConflictPolicy = "keep-both"
    cloud_url: str = ""  # the cloud it syncs with
    # paused because the project folder is missing: no deletes to confirm (restore or unlink)
    folder_missing: bool = False


class FileEntry(_Model):
    path: str
    size: int
    state: FileState
    # why a file is skipped or failed, in words; only on those entries
    reason: str | None = Field(default=None, exclude_if=lambda value: value is None)


PlannedAction = Literal["upload", "download", "delete_local", "delete_remote", "move", "conflict"]


class PlannedStep(_Model):
    """One step a sync would take: ``delete_local`` deletes on this machine (deleted in the
    cloud), ``delete_remote`` deletes in the cloud (deleted here); ``size`` is the bytes it
    moves (a delete: the size of the file it deletes)."""

    action: PlannedAction
    path: str
    from_path: str | None = None  # a move's old path
    size: int


class PlanTotals(_Model):
    uploads: int = 0
    downloads: int = 0
    delete_local: int = 0
    delete_remote: int = 0
    moves: int = 0
    conflicts: int = 0
    upload_bytes: int = 0
    download_bytes: int = 0


class DeleteGuardModel(_Model):
    """The delete guard a sync would stop at: ``side`` ``local`` (cloud deletes mirrored
    here) or ``remote`` (local deletes made in the cloud)."""

    side: Literal["local", "remote"]
    deletes: int
    total: int
    message: str
    # share: too large a share deleted; all_vanished: every file gone at once; root_missing:
    # the project folder is gone (never confirmable: restore it, or unlink the project)
    reason: Literal["share", "all_vanished", "root_missing"] = "share"
    confirmable: bool = True


class SyncPlan(_Model):
    """What ``POST /projects/{id}/sync {"dry_run": true}`` answers: the plan, nothing done."""

    project_id: str
    steps: list[PlannedStep]
    totals: PlanTotals
    guard: DeleteGuardModel | None = None


ConflictReason = Literal["overlap", "delete_edit", "binary", "unparsable", "too_large"]


class ConflictCell(_Model):
    """A notebook cell both sides changed differently: its id (None in an nbformat 4.4
    notebook) and index (in the cloud's version, at the path; in the local one where the
    cloud deleted it)."""

    id: str | None = None
    index: int


class ConflictModel(_Model):
    id: int
    project_id: str
    path: str
    conflict_path: str
    detected_at: datetime
    resolved: bool
    # why the versions could not be merged (None: no merge was tried, e.g. merging is off
    # or the two versions have no common base) and, for a notebook, the conflicting cells
    reason: ConflictReason | None = None
    cells: list[ConflictCell] = Field(default_factory=list)
    # the local bytes kept as the copy; None when the copy came from another machine
    local_sha256: str | None = Field(default=None, exclude=True)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def made_here(self) -> bool:
        """Whether this machine made the conflict copy (its "mine"), or another machine
        did and the copy arrived with sync."""
        return self.local_sha256 is not None


class JobModel(_Model):
    id: str
    project_id: str
    kind: str
    state: JobState
    files_done: int = 0
    files_total: int = 0
    bytes_done: int = 0
    bytes_total: int = 0
    error: str | None = None
    merged: int = 0  # paths changed on both sides that merged cleanly (no conflict copy)


class DbStatus(_Model):
    url: str
    revision: str | None
    head: str
    journal_mode: str
    error: str | None = None


class CloudStatus(_Model):
    url: str
    embedded: bool
    connected: bool
    stream: bool = False  # the change stream is up (else changes are polled)
    user: str | None = None
    error: str | None = None


class WatcherStatus(_Model):
    running: bool
    observer: str | None = None  # "inotify", "polling", ... once running


class Status(_Model):
    version: str
    projects_dir: str
    db_revision: str | None
    db: DbStatus
    cloud: CloudStatus
    watcher: WatcherStatus


class ErrorDetail(_Model):
    code: str
    message: str


class ErrorBody(_Model):
    error: ErrorDetail


# -- events the server pushes (the engine's event bus; the websocket forwards them) --------


class ProjectUpdatedEvent(_Model):
    type: Literal["project_updated"] = "project_updated"
    project: LocalProject


class FileStatusEvent(_Model):
    type: Literal["file_status"] = "file_status"
    project_id: str
    path: str
    state: FileEventState
    size: int | None = None  # the path's size in this state (None: unknown, or deleted)
    # the cloud revision the path is now synced at, and who made it (None: not known here)
    revision: str | None = None
    modified_by: str | None = None
    # why a ``failed`` path is not synced, and when it is tried again (None otherwise)
    reason: str | None = Field(default=None, exclude_if=lambda value: value is None)


class FileMergedEvent(_Model):
    """Both sides changed a path and the three-way merge was clean: the merge is at the
    path here and in the cloud (``revision``); both parents stay in the cloud's history."""

    type: Literal["file_merged"] = "file_merged"
    project_id: str
    path: str
    revision: str
    # who wrote the other side's version (None: not known)
    merged_with: str | None = None


class JobProgressEvent(_Model):
    type: Literal["job_progress"] = "job_progress"
    job: JobModel


class JobFinishedEvent(_Model):
    type: Literal["job_finished"] = "job_finished"
    job: JobModel


class ProjectRemovedEvent(_Model):
    """A project was unlinked on this server (its files stay)."""

    type: Literal["project_removed"] = "project_removed"
    project_id: str


class ConflictEvent(_Model):
    type: Literal["conflict"] = "conflict"
    conflict: ConflictModel


class CloudProjectsEvent(_Model):
    """The cloud user's projects, linked or not: sent when the cloud says the list changed
    (a project created, shared, unshared, renamed or deleted) and when it is reachable
    again."""

    type: Literal["cloud_projects"] = "cloud_projects"
    items: list[CloudProject]


class DeletesAppliedEvent(_Model):
    """Cloud deletes a person confirmed on another machine (past its delete guard) were
    applied here without asking again: who deleted how many files, and which."""

    type: Literal["deletes_applied"] = "deletes_applied"
    project_id: str
    deleted_by: str
    count: int
    paths: list[str]  # the first DELETES_LISTED of them
    message: str


DELETES_LISTED = 100

ServerEvent = (
    ProjectUpdatedEvent
    | ProjectRemovedEvent
    | FileStatusEvent
    | FileMergedEvent
    | JobProgressEvent
    | JobFinishedEvent
    | ConflictEvent
    | CloudProjectsEvent
    | DeletesAppliedEvent
)


# -- websocket messages from the browser: one discriminated union --------------------------


class _ClientMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(default=None, max_length=128)


class SubscribeMessage(_ClientMessage):
    type: Literal["subscribe"]
    projects: list[str] | None = Field(default=None, max_length=10_000)


class ListProjectsMessage(_ClientMessage):
    type: Literal["list_projects"]


class SyncMessage(_ClientMessage):
    type: Literal["sync"]
    project_id: str = Field(min_length=1, max_length=128)
    confirm_deletes: bool = False
    restore_deletes: bool = False


class CancelMessage(_ClientMessage):
    type: Literal["cancel"]
    job_id: str = Field(min_length=1, max_length=128)


class ResolveConflictMessage(_ClientMessage):
    type: Literal["resolve_conflict"]
    conflict_id: int
    keep: Keep


class PingMessage(_ClientMessage):
    type: Literal["ping"]


ClientMessage = Annotated[
    SubscribeMessage
    | ListProjectsMessage
    | SyncMessage
    | CancelMessage
    | ResolveConflictMessage
    | PingMessage,
    Field(discriminator="type"),
]
CLIENT_MESSAGE = TypeAdapter(ClientMessage)
CLIENT_MESSAGE_TYPES = ("subscribe", "list_projects", "sync", "cancel", "resolve_conflict", "ping")


# -- history (docs/interfaces.md, "History") ------------------------------------------------


class HistoryPage(_Model):
    """A page of a file's history (or of the deleted files): newest first."""

    items: list[FileVersion]
    next_page_token: str | None = None


DiffKind = Literal["notebook", "text", "binary"]


class DiffReply(_Model):
    """Two versions of a file compared. ``diff``: nbdime's diff (a list of diff entries) for
    a notebook, a unified diff (a string) for text, ``{from_size, to_size}`` for binary
    content. ``base`` (beyond the contract): the "from" notebook as JSON, which nbdime's
    widgets need to render the diff; null for text and binary."""

    kind: DiffKind
    diff: Any
    base: dict[str, Any] | None = None


class CheckpointList(_Model):
    items: list[Checkpoint]


class CheckpointRestored(_Model):
    """A checkpoint restored: ``undo`` is the checkpoint made automatically first (restore
    it to go back)."""

    checkpoint: Checkpoint
    undo: Checkpoint
