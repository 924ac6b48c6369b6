"""Local state: SQLAlchemy models, engine set-up, migrations and small query functions.

The names below load on first use (PEP 562), so that ``store.location`` - where the DB is
and which revision it holds - can be imported without SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers see; at run time these load on first use
    from .engine import Store, make_engine
    from .location import resolve_db_url
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

_WHERE = {
    "Store": "engine",
    "make_engine": "engine",
    "resolve_db_url": "location",
    "DatabaseTooNewError": "migrate",
    "MigrationError": "migrate",
    "current_revision": "migrate",
    "head_revision": "migrate",
    "Base": "models",
    "CloudCursor": "models",
    "Conflict": "models",
    "Job": "models",
    "LocalIndexEntry": "models",
    "LocalProjectRow": "models",
    "RemoteEntry": "models",
    "SyncedEntry": "models",
}

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


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
