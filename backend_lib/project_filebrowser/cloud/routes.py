"""The Projects API's paths and request headers (CONTRACT.md, "Cloud Projects service"),
written once for the two places that speak HTTP to the cloud: the client
(:class:`~.client.CloudClient`, httpx) and the no-op check of the command line
(:mod:`project_filebrowser.sync.quick`, the standard library's ``urllib``, so that a sync
with nothing to do loads no HTTP library). That check needs exactly one request, the
change feed after a cursor: :func:`changes_url` and :func:`auth_headers` are the subset of
the client it shares. Standard library only.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

API_PREFIX = "/api/v1"


def auth_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def quote_path(path: str) -> str:
    """Per segment; the slash before a last segment ``revisions`` is sent as ``%2F``, so
    that old clouds, and the old-client route of new ones, read it as a file path."""
    quoted = quote(path, safe="/")
    head, sep, last = quoted.rpartition("/")
    return f"{head}%2F{last}" if sep and last == "revisions" else quoted


def project(project_id: str) -> str:
    """``/projects/{id}``, relative to :data:`API_PREFIX` (as every path here)."""
    return f"/projects/{quote(project_id, safe='')}"


def project_file(project_id: str, path: str) -> str:
    return f"{project(project_id)}/files/{quote_path(path)}"


def file_revisions(project_id: str, path: str) -> str:
    return f"{project(project_id)}/revisions/{quote_path(path)}"


def changes(project_id: str) -> str:
    return f"{project(project_id)}/changes"


def changes_url(base_url: str, project_id: str, *, since: int, limit: int) -> str:
    """The full URL of a page of the change feed after ``since``."""
    query = urlencode({"since": since, "limit": limit})
    return f"{base_url.rstrip('/')}{API_PREFIX}{changes(project_id)}?{query}"
