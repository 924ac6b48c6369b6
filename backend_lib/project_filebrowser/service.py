"""The service layer: everything the handlers and the CLI ask of the extension.

Handlers stay thin: they parse, authorize, call a method here and shape the reply. Errors
are ``ServiceError``s (:mod:`project_cloud.errors`, the one vocabulary of both servers)
carrying the HTTP status, a snake_case code and a human sentence.

The service is made of parts, one module each in :mod:`project_filebrowser.services`:
the runtime (settings, state DB, remote, sync manager, status), projects, file views,
conflicts and history. Each part is a class over :class:`~.services.runtime.Runtime`;
this one is all of them.
"""

from __future__ import annotations

from project_cloud.errors import ServiceError

from .services.conflicts import Conflicts, document_bytes
from .services.files import FileViews
from .services.history import History
from .services.projects import Projects
from .settings import Settings

__all__ = ["ProjectFileBrowserService", "ServiceError", "Settings", "document_bytes"]


class ProjectFileBrowserService(Projects, FileViews, Conflicts, History):
    """The extension's service: one per Jupyter server (or CLI command)."""
