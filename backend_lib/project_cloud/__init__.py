"""The Projects cloud service that project-filebrowser syncs with.

Run it with ``project-filebrowser cloud serve`` (or ``python -m project_cloud.cli serve``),
or embed it with :class:`project_cloud.server.CloudServer`. The package imports nothing of
its client: its version is the one of the distribution that ships both, read on first use
(``importlib.metadata`` costs a command-line start some 25 ms, and most never ask).
"""

from __future__ import annotations

from functools import cache

__all__ = ["__version__"]


@cache
def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # lazy: see above

    try:
        return version("project-filebrowser")  # the distribution that ships the cloud
    except PackageNotFoundError:  # pragma: no cover - the sources used without installing
        return "0.0.0"


def __getattr__(name: str) -> str:
    if name == "__version__":
        return _version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
