"""The Projects cloud service that project-filebrowser syncs with.

Run it with ``project-filebrowser cloud serve`` (or ``python -m project_cloud.cli serve``),
or embed it with :class:`project_cloud.server.CloudServer`. The package imports nothing of
its client: its version is the one of the distribution that ships both.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("project-filebrowser")  # the distribution that ships the cloud
except PackageNotFoundError:  # pragma: no cover - the sources used without installing them
    __version__ = "0.0.0"

__all__ = ["__version__"]
