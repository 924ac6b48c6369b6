"""The extension's settings and their defaults, written once.

The traitlets of :class:`~project_filebrowser.app.ProjectFileBrowserApp` (what a user sets in
``jupyter_server_config``), the command line, the sync manager, the engine and the planner all
take their defaults from here; :class:`Settings` is what the service runs with, resolved from
traitlets (JupyterLab) or from the stored login (the command line).
"""

from __future__ import annotations

from dataclasses import dataclass

DB_JOURNAL_MODE = "WAL"
DB_BACKUP_BEFORE_UPGRADE = True
PROJECTS_DIR = "projects"
DEBOUNCE_SECONDS = 0.2
FULL_RESCAN_SECONDS = 600.0
MAX_CONCURRENT_TRANSFERS = 4
MAX_DELETE_FRACTION = 0.5
CONFLICT_POLICY = "keep-both"
# A path changed on both sides is merged three-way where that is safe (notebooks by cell,
# UTF-8 text by line; :mod:`project_filebrowser.merge`); else it gets a conflict copy.
MERGE_NOTEBOOKS = True
MERGE_TEXT = True


@dataclass(frozen=True)
class Settings:
    """The extension's settings in force, resolved from traitlets and the environment."""

    db_url: str
    root_dir: str
    cloud_url: str
    cloud_token: str
    db_journal_mode: str = DB_JOURNAL_MODE
    db_backup_before_upgrade: bool = DB_BACKUP_BEFORE_UPGRADE
    projects_dir: str = PROJECTS_DIR
    debounce_seconds: float = DEBOUNCE_SECONDS
    full_rescan_seconds: float = FULL_RESCAN_SECONDS
    max_concurrent_transfers: int = MAX_CONCURRENT_TRANSFERS
    max_delete_fraction: float = MAX_DELETE_FRACTION
    merge_notebooks: bool = MERGE_NOTEBOOKS
    merge_text: bool = MERGE_TEXT
    watch: bool = True
