"""Thin Tornado handlers: parse, authorize, call the service layer, shape the reply."""

from __future__ import annotations

from typing import Any

from .history import (
    CheckpointRestoreHandler,
    CheckpointsHandler,
    ContentHandler,
    DeletedHandler,
    DiffHandler,
    HistoryHandler,
    RestoreHandler,
)
from .projects import (
    ConflictsHandler,
    FilesHandler,
    JobHandler,
    JobsHandler,
    KeepCopyHandler,
    LinkHandler,
    ProjectHandler,
    ProjectsHandler,
    ResolveConflictHandler,
    SyncHandler,
)
from .status import StatusHandler
from .websocket import ProjectWebSocket

API_PREFIX = "/project-filebrowser/api"
_ID = r"(?P<{}>[^/]+)"


def routes() -> list[tuple[str, type[Any]]]:
    """URL patterns (the ExtensionApp prefixes them with the server's base_url)."""
    project = _ID.format("project_id")
    path = "(?P<path>.+)"  # a file path in the project, URL-encoded per segment
    return [
        (rf"{API_PREFIX}/status/?", StatusHandler),
        (rf"{API_PREFIX}/projects/?", ProjectsHandler),
        (rf"{API_PREFIX}/projects/{project}/?", ProjectHandler),
        (rf"{API_PREFIX}/projects/{project}/link/?", LinkHandler),
        (rf"{API_PREFIX}/projects/{project}/sync/?", SyncHandler),
        (rf"{API_PREFIX}/projects/{project}/files/?", FilesHandler),
        (rf"{API_PREFIX}/projects/{project}/keep-copy/?", KeepCopyHandler),
        (rf"{API_PREFIX}/projects/{project}/history/{path}", HistoryHandler),
        (rf"{API_PREFIX}/projects/{project}/content/{path}", ContentHandler),
        (rf"{API_PREFIX}/projects/{project}/diff/{path}", DiffHandler),
        (rf"{API_PREFIX}/projects/{project}/restore/{path}", RestoreHandler),
        (rf"{API_PREFIX}/projects/{project}/deleted/?", DeletedHandler),
        (rf"{API_PREFIX}/projects/{project}/checkpoints/?", CheckpointsHandler),
        (
            rf"{API_PREFIX}/projects/{project}/checkpoints/{_ID.format('checkpoint_id')}/restore/?",
            CheckpointRestoreHandler,
        ),
        (rf"{API_PREFIX}/conflicts/?", ConflictsHandler),
        (
            rf"{API_PREFIX}/conflicts/(?P<conflict_id>[0-9]{{1,18}})/resolve/?",
            ResolveConflictHandler,
        ),
        (rf"{API_PREFIX}/jobs/?", JobsHandler),
        (rf"{API_PREFIX}/jobs/{_ID.format('job_id')}/?", JobHandler),
        (r"/project-filebrowser/ws", ProjectWebSocket),
    ]
