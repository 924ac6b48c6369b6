"""The Projects cloud service that project-filebrowser syncs with.

Run it with ``project-filebrowser cloud serve`` (or ``python -m project_cloud.cli serve``),
or embed it with :class:`project_cloud.server.CloudServer`.
"""

try:
    from project_filebrowser._version import __version__
except ImportError:  # pragma: no cover - the cloud package used on its own
    __version__ = "0.0.0"

__all__ = ["__version__"]
