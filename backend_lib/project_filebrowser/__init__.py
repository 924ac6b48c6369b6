"""project-filebrowser: keep Jupyter project folders in two-way sync with a Projects cloud."""

from __future__ import annotations

from typing import Any

from ._version import __version__

__all__ = ["__version__"]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "project-filebrowser"}]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .app import ProjectFileBrowser

    return [{"module": "project_filebrowser", "app": ProjectFileBrowser}]
