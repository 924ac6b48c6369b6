"""The ``project-filebrowser`` command, one module per group of commands.

Exit status: 0 on success, 1 on a failure explained in one line, 2 on bad usage. Options
follow the command: ``project-filebrowser sync demo --db URL --root DIR``.

Start-up is kept fast (a no-op ``sync`` answers in a tenth of a second): this module imports
at its top only what costs a few milliseconds. The heavy modules are imported where a
command first needs them, each import marked ``# lazy:`` - the sync service (SQLAlchemy,
httpx, pydantic, Tornado), asyncio, rich, alembic and the cloud's own commands - and the
types of those modules come in under ``TYPE_CHECKING``.
"""

from __future__ import annotations

# each registers its commands
from . import conflicts, db, history, projects, syncing  # noqa: F401
from .app import main

__all__ = ["main"]
