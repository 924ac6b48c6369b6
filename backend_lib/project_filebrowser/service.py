"""The service layer: everything the handlers and the CLI ask of the extension.

Handlers stay thin: they parse, authorize, call a method here and shape the reply.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ._version import __version__
from .schemas import CloudStatus, DbStatus, Status, WatcherStatus
from .store import Store
from .store.engine import redact_url
from .store.migrate import DatabaseTooNewError, MigrationError, head_revision, upgrade


@dataclass(frozen=True)
class Settings:
    """The extension's settings in force, resolved from traitlets and the environment."""

    db_url: str
    db_journal_mode: str
    db_backup_before_upgrade: bool
    root_dir: str
    projects_dir: str
    cloud_url: str
    cloud_token: str
    debounce_seconds: float
    full_rescan_seconds: float
    max_concurrent_transfers: int
    max_delete_fraction: float


class ServiceUnavailable(RuntimeError):
    """The extension cannot serve requests (its state DB is unusable); says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ProjectFileBrowserService:
    def __init__(self, settings: Settings, log: logging.Logger | None = None) -> None:
        self.settings = settings
        self.log = log or logging.getLogger(__name__)
        self.store: Store | None = None
        self.db_revision: str | None = None
        self.db_error: ServiceUnavailable | None = None

    # -- life cycle -------------------------------------------------------------------------

    def open_store(self) -> None:
        """Migrate the state DB to head and open it; on failure record a clear error and
        leave the DB untouched, so the server keeps running and says what is wrong."""
        try:
            result = upgrade(self.settings.db_url, backup=self.settings.db_backup_before_upgrade)
        except MigrationError as exc:
            code = "database_too_new" if isinstance(exc, DatabaseTooNewError) else "database_error"
            self.db_error = ServiceUnavailable(code, str(exc))
            self.log.error("project-filebrowser: %s", exc)
            return
        self.db_revision = result.to_revision
        self.store = Store(self.settings.db_url, journal_mode=self.settings.db_journal_mode)

    async def stop(self) -> None:
        if self.store is not None:
            self.store.dispose()
            self.store = None

    def require_store(self) -> Store:
        if self.store is None:
            raise self.db_error or ServiceUnavailable("database_closed", "the state DB is closed")
        return self.store

    # -- queries ----------------------------------------------------------------------------

    def status(self) -> Status:
        return Status(
            version=__version__,
            db_revision=self.db_revision,
            db=DbStatus(
                url=redact_url(self.settings.db_url),
                revision=self.db_revision,
                head=head_revision(),
                journal_mode=self.settings.db_journal_mode,
                error=self.db_error.message if self.db_error else None,
            ),
            cloud=CloudStatus(
                url=self.settings.cloud_url,
                embedded=not self.settings.cloud_url,
                connected=False,
            ),
            watcher=WatcherStatus(running=False),
        )
