"""Local state: SQLAlchemy models, engine set-up, migrations and small query functions."""

from .engine import Store, make_engine, resolve_db_url
from .migrate import DatabaseTooNewError, MigrationError, current_revision, head_revision
from .models import (
    Base,
    CloudCursor,
    Conflict,
    Job,
    LocalIndexEntry,
    LocalProjectRow,
    RemoteEntry,
    SyncedEntry,
)

__all__ = [
    "Base",
    "CloudCursor",
    "Conflict",
    "DatabaseTooNewError",
    "Job",
    "LocalIndexEntry",
    "LocalProjectRow",
    "MigrationError",
    "RemoteEntry",
    "Store",
    "SyncedEntry",
    "current_revision",
    "head_revision",
    "make_engine",
    "resolve_db_url",
]
