"""Remotes are plugins: the engine syncs with whatever implements
:class:`~project_filebrowser.remotes.base.Remote`, chosen by the URL's scheme.

An implementation registers a factory ``factory(url, token, **options) -> Remote`` under the
``project_filebrowser.remotes`` entry point group, named by the scheme it serves::

    [project.entry-points."project_filebrowser.remotes"]
    http = "project_filebrowser.cloud.client:CloudClient"
    memory = "project_filebrowser.remotes.memory:MemoryRemote"

This distribution registers ``http`` and ``https`` (the Projects cloud) and ``memory`` (an
in-process remote for tests and experiments, :mod:`project_filebrowser.remotes.memory`).
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from typing import Any

from .base import (
    BatchFile,
    Change,
    ChangePage,
    Downloaded,
    FileVersion,
    NotFound,
    PreconditionFailed,
    Remote,
    RemoteError,
    RemoteFactory,
    SourceChanged,
)

GROUP = "project_filebrowser.remotes"

__all__ = [
    "GROUP",
    "BatchFile",
    "Change",
    "ChangePage",
    "Downloaded",
    "FileVersion",
    "NotFound",
    "PreconditionFailed",
    "Remote",
    "RemoteError",
    "RemoteFactory",
    "SourceChanged",
    "open_remote",
    "schemes",
]


@cache
def _factories() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def schemes() -> list[str]:
    """The URL schemes a remote is installed for."""
    return sorted(_factories())


def open_remote(url: str, token: str = "", **options: Any) -> Remote:
    """The remote serving ``url`` (by its scheme), opened with ``token``; ``options`` go to
    its factory (``max_retries`` ... for the HTTP client)."""
    scheme = url.partition(":")[0].lower()
    entry = _factories().get(scheme)
    if entry is None:
        known = ", ".join(f"{s}://" for s in schemes()) or "none (is the package installed?)"
        raise RemoteError(0, "unknown_remote", f"no remote serves {url!r}; installed: {known}")
    factory: RemoteFactory = entry.load()
    return factory(url, token, **options)
