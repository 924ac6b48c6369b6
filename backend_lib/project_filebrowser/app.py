"""The Jupyter server extension: settings, start-up and shutdown."""

from __future__ import annotations

import os
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, CaselessStrEnum, Float, Integer, TraitError, Unicode, default, validate

from . import handlers
from . import settings as defaults
from ._version import __version__
from .credentials import TOKEN_ENV
from .service import ProjectFileBrowserService
from .settings import Settings
from .store.engine import DB_URL_ENV, JOURNAL_MODES, default_db_url, resolve_db_url


class ProjectFileBrowser(ExtensionApp):
    """Keeps project folders on this Jupyter server in two-way sync with a Projects cloud."""

    name = "project_filebrowser"
    version = __version__
    description = __doc__
    load_other_extensions = True

    db_url = Unicode(
        config=True,
        help=(
            "SQLAlchemy URL of the local state DB. "
            f"The environment variable {DB_URL_ENV} overrides it. "
            "Default: sqlite:///<jupyter data dir>/project_filebrowser/state.db"
        ),
    )
    db_journal_mode = CaselessStrEnum(
        JOURNAL_MODES,
        default_value=defaults.DB_JOURNAL_MODE,
        config=True,
        help="SQLite journal mode of the state DB. Use DELETE on NFS home directories, "
        "where WAL is unreliable.",
    )
    db_backup_before_upgrade = Bool(
        defaults.DB_BACKUP_BEFORE_UPGRADE,
        config=True,
        help="Copy the SQLite state DB aside before migrating it.",
    )
    projects_dir = Unicode(
        defaults.PROJECTS_DIR,
        config=True,
        help="Folder, relative to the server's root_dir, where projects live.",
    )
    cloud_url = Unicode(
        "",
        config=True,
        help="Base URL of a Projects service, e.g. http://127.0.0.1:8765. "
        "Empty: run the embedded cloud inside this server.",
    )
    cloud_token = Unicode(
        config=True, help=f"API token for the Projects service; also read from {TOKEN_ENV}."
    )
    debounce_seconds = Float(
        defaults.DEBOUNCE_SECONDS,
        config=True,
        help="Quiet time before a burst of local file events is synced.",
    )
    full_rescan_seconds = Float(
        defaults.FULL_RESCAN_SECONDS,
        config=True,
        help="Period of the backstop full rescan of every linked project.",
    )
    max_concurrent_transfers = Integer(
        defaults.MAX_CONCURRENT_TRANSFERS,
        config=True,
        help="How many uploads and downloads may run at once.",
    )
    max_delete_fraction = Float(
        defaults.MAX_DELETE_FRACTION,
        config=True,
        help="A sync plan deleting more than this share of a project pauses it and asks.",
    )
    merge_notebooks = Bool(
        defaults.MERGE_NOTEBOOKS,
        config=True,
        help="Merge a notebook edited on two machines cell by cell (a conflict copy only "
        "where the same cell changed differently).",
    )
    merge_text = Bool(
        defaults.MERGE_TEXT,
        config=True,
        help="Merge a UTF-8 text file edited on two machines line by line (a conflict copy "
        "only where the same lines changed differently).",
    )

    @default("db_url")
    def _default_db_url(self) -> str:
        return default_db_url()

    @default("cloud_token")
    def _default_cloud_token(self) -> str:
        return os.environ.get(TOKEN_ENV, "")

    @validate("debounce_seconds", "full_rescan_seconds")
    def _validate_seconds(self, proposal: dict[str, Any]) -> float:
        value = float(proposal["value"])
        if value < 0:
            raise TraitError(f"{proposal['trait'].name} must be >= 0, not {value}")
        return value

    @validate("max_concurrent_transfers")
    def _validate_transfers(self, proposal: dict[str, Any]) -> int:
        value = int(proposal["value"])
        if value < 1:
            raise TraitError(f"max_concurrent_transfers must be >= 1, not {value}")
        return value

    @validate("max_delete_fraction")
    def _validate_fraction(self, proposal: dict[str, Any]) -> float:
        value = float(proposal["value"])
        if not 0.0 <= value <= 1.0:
            raise TraitError(f"max_delete_fraction must be between 0 and 1, not {value}")
        return value

    @validate("projects_dir")
    def _validate_projects_dir(self, proposal: dict[str, Any]) -> str:
        value = str(proposal["value"]).strip().strip("/")
        if not value or value.startswith("..") or "/../" in f"/{value}/" or "\0" in value:
            raise TraitError(f"projects_dir must be a folder inside root_dir, not {value!r}")
        return value

    def resolved_settings(self) -> Settings:
        root_dir = self.serverapp.root_dir if self.serverapp is not None else os.getcwd()
        return Settings(
            db_url=resolve_db_url(self.db_url),
            db_journal_mode=self.db_journal_mode.upper(),
            db_backup_before_upgrade=self.db_backup_before_upgrade,
            root_dir=str(root_dir),
            projects_dir=self.projects_dir,
            cloud_url=self.cloud_url.rstrip("/"),
            cloud_token=self.cloud_token,
            debounce_seconds=self.debounce_seconds,
            full_rescan_seconds=self.full_rescan_seconds,
            max_concurrent_transfers=self.max_concurrent_transfers,
            max_delete_fraction=self.max_delete_fraction,
            merge_notebooks=self.merge_notebooks,
            merge_text=self.merge_text,
        )

    def initialize_settings(self) -> None:
        self.service = ProjectFileBrowserService(self.resolved_settings(), log=self.log)
        self.service.open_store()
        self.settings["project_filebrowser_service"] = self.service
        self.log.info(
            "project-filebrowser %s: state DB %s at revision %s",
            __version__,
            self.service.status().db.url,
            self.service.db_revision,
        )

    def initialize_handlers(self) -> None:
        self.handlers.extend(handlers.routes())

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        """After the server's loop runs: embedded cloud (if no cloud_url), watcher, sync."""
        await self.service.start()

    async def stop_extension(self) -> None:
        await self.service.stop()
