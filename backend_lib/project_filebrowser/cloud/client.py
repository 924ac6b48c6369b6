"""One async client for the Projects API (CONTRACT.md, "Cloud Projects service"): the
:class:`~project_filebrowser.remotes.base.Remote` of ``http://`` and ``https://`` URLs.

One connection pool, bearer auth, retries with exponential backoff and full jitter on network
errors, 5xx and 429, pagination, and request/response hooks. Uploads and downloads stream.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from ..remotes.base import (
    BatchFile,
    Change,
    ChangePage,
    Downloaded,
    FileVersion,
    NotFound,
    PreconditionFailed,
    RemoteError,
    SourceChanged,
    remote_error,
)
from ..schemas import Checkpoint, CloudProject
from . import routes

__all__ = [
    "BatchFile",
    "Change",
    "ChangePage",
    "CloudClient",
    "CloudError",
    "Downloaded",
    "FileVersion",
    "NotFound",
    "PreconditionFailed",
    "SourceChanged",
]

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
BATCH_CONTENT_TYPE = "application/vnd.project-cloud.batch"
CHUNK = 1 << 20
MTIME_HEADER = "X-Mtime-Ns"


CloudError = RemoteError  # the name this client's errors had before the Remote interface


def _error_from(response: httpx.Response) -> CloudError:
    try:
        body = response.json()["error"]
        code, message = str(body["code"]), str(body["message"])
    except (ValueError, KeyError, TypeError):
        code, message = "http_error", response.reason_phrase or "request failed"
    return remote_error(response.status_code, code, message)


Hook = Callable[[Any], Awaitable[None]]


class CloudClient:
    def __init__(
        self,
        base_url: str,
        token: str = "",
        *,
        max_retries: int = 5,
        backoff_base: float = 0.1,
        backoff_max: float = 5.0,
        timeout: float = 60.0,
        max_connections: int = 16,
        on_request: list[Hook] | None = None,
        on_response: list[Hook] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        headers = routes.auth_headers(token)
        self._http = httpx.AsyncClient(
            base_url=f"{self.base_url}{routes.API_PREFIX}",
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=10.0),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            event_hooks={"request": list(on_request or []), "response": list(on_response or [])},
            transport=transport,
            # Plain-http clouds (loopback, the embedded one) need no TLS context, whose CA
            # bundle costs a tenth of a second to load at every start.
            verify=not self.base_url.startswith("http://"),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> CloudClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    # -- the retry loop -------------------------------------------------------------------

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        if response is not None and "Retry-After" in response.headers:
            try:
                return min(self.backoff_max, float(response.headers["Retry-After"]))
            except ValueError:
                pass
        return random.uniform(0, min(self.backoff_max, self.backoff_base * 2**attempt))

    async def _send(
        self,
        method: str,
        url: str,
        *,
        content: Callable[[], Any] | None = None,
        stream: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send with retries; ``content`` is a factory so a retried upload starts afresh."""
        attempt = 0
        while True:
            response: httpx.Response | None = None
            try:
                request = self._http.build_request(
                    method, url, content=content() if content else None, **kwargs
                )
                response = await self._http.send(request, stream=stream)
            except (httpx.TransportError, OSError) as exc:
                if attempt >= self.max_retries:
                    raise CloudError(
                        0, "unreachable", f"cannot reach {self.base_url}: {exc}"
                    ) from exc
            else:
                if response.status_code not in RETRY_STATUSES or attempt >= self.max_retries:
                    if response.is_error:
                        if stream:
                            await response.aread()
                            await response.aclose()
                        raise _error_from(response)
                    return response
                if stream:
                    await response.aclose()
            await asyncio.sleep(self._delay(attempt, response))
            attempt += 1

    async def _json(self, method: str, url: str, **kwargs: Any) -> Any:
        response = await self._send(method, url, **kwargs)
        return response.json() if response.content else None

    async def _pages(self, url: str, params: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        token: str | None = None
        while True:
            page = await self._json(
                "GET", url, params={**params, "page_token": token} if token else params
            )
            for item in page["items"]:
                yield item
            token = page.get("next_page_token")
            if not token:
                return

    # -- users and projects ---------------------------------------------------------------

    async def user(self) -> str:
        return str((await self._json("GET", "/user"))["username"])

    async def login(self, username: str, password: str) -> str:
        body = await self._json(
            "POST", "/auth/token", json={"username": username, "password": password}
        )
        return str(body["token"])

    async def projects(self, page_size: int = 200) -> list[CloudProject]:
        return [
            CloudProject.model_validate(item)
            async for item in self._pages("/projects", {"limit": page_size})
        ]

    async def project(self, project_id: str) -> CloudProject:
        return CloudProject.model_validate(await self._json("GET", routes.project(project_id)))

    async def create_project(
        self, name: str, title: str = "", description: str = ""
    ) -> CloudProject:
        body = {"name": name, "title": title, "description": description}
        return CloudProject.model_validate(await self._json("POST", "/projects", json=body))

    async def delete_project(self, project_id: str) -> None:
        await self._send("DELETE", routes.project(project_id))

    # -- files ----------------------------------------------------------------------------

    def _file_url(self, project_id: str, path: str) -> str:
        return routes.project_file(project_id, path)

    async def files(
        self, project_id: str, page_size: int = 1000, *, include_deleted: bool = False
    ) -> list[FileVersion]:
        url = f"{routes.project(project_id)}/files"
        params: dict[str, Any] = {"limit": page_size}
        if include_deleted:
            params["include_deleted"] = "true"
        return [FileVersion.model_validate(i) async for i in self._pages(url, params)]

    async def upload(
        self,
        project_id: str,
        path: str,
        source: Path | bytes,
        *,
        if_match: str | None,
        sha256: str | None = None,
        on_bytes: Callable[[int], None] | None = None,
        mtime_ns: int | None = None,
    ) -> FileVersion:
        """PUT a file; ``if_match`` None means create-only (``If-None-Match: *``). With
        ``sha256`` the cloud refuses bytes that do not hash to it (a file that changed
        while it was read). ``on_bytes`` is told the size of each chunk as it is sent (a
        retry sends them again). The file's modification time travels with it:
        ``mtime_ns``, by default the source file's."""
        headers = {"If-Match": f'"{if_match}"'} if if_match else {"If-None-Match": "*"}
        if sha256:
            headers["X-Content-SHA256"] = sha256

        st = None if isinstance(source, bytes) else os.stat(source)
        size = len(source) if st is None else st.st_size
        headers["Content-Length"] = str(size)
        if mtime_ns is None and st is not None:
            mtime_ns = st.st_mtime_ns
        if mtime_ns is not None:
            headers[MTIME_HEADER] = str(mtime_ns)

        def content() -> Any:
            return source if isinstance(source, bytes) else _read_exactly(source, size, on_bytes)

        response = await self._send(
            "PUT", self._file_url(project_id, path), content=content, headers=headers
        )
        return FileVersion.model_validate(response.json())

    async def upload_batch(
        self, project_id: str, items: list[BatchFile]
    ) -> list[FileVersion | CloudError]:
        """Upload many small files in one request (``POST /projects/{id}/batch``); returns,
        per file and in order, its new version or the error a single upload would have
        raised (412 :class:`PreconditionFailed`, a checksum mismatch, 409 unknown_content
        for a file sent by reference that the cloud does not hold ...)."""
        manifest = {
            "items": [
                {
                    "path": item.path,
                    "size": item.size,
                    "sha256": item.sha256,
                    **({"if_match": item.if_match} if item.if_match else {"if_none_match": "*"}),
                    **({"stored": True} if item.data is None else {}),
                    **({"mtime_ns": item.mtime_ns} if item.mtime_ns is not None else {}),
                }
                for item in items
            ]
        }
        parts = [item.data for item in items if item.data is not None]
        body = b"".join([json.dumps(manifest).encode("utf-8"), b"\n", *parts])
        url = f"{routes.project(project_id)}/batch"
        reply = await self._json(
            "POST", url, content=lambda: body, headers={"Content-Type": BATCH_CONTENT_TYPE}
        )
        results: list[FileVersion | CloudError] = []
        for item in reply["items"]:
            if item.get("version") is not None:
                results.append(FileVersion.model_validate(item["version"]))
                continue
            error = item.get("error") or {}
            results.append(
                remote_error(
                    int(item["status"]),
                    str(error.get("code", "http_error")),
                    str(error.get("message", "")),
                )
            )
        if len(results) != len(items):
            raise CloudError(0, "invalid_reply", "the batch reply does not match the request")
        return results

    async def download(
        self,
        project_id: str,
        path: str,
        write: Callable[[bytes], Any],
        *,
        revision: str | None = None,
    ) -> Downloaded:
        """Stream a file's bytes into ``write``; returns the revision (from the ETag) and
        the file's modification time and who made it (``X-Modified-By``)."""
        params = {"revision": revision} if revision else None
        response = await self._send(
            "GET", self._file_url(project_id, path), params=params, stream=True
        )
        try:
            async for chunk in response.aiter_bytes(CHUNK):
                write(chunk)
        finally:
            await response.aclose()
        mtime = response.headers.get(MTIME_HEADER, "")
        return Downloaded(
            response.headers.get("ETag", "").strip('"'),
            int(mtime) if mtime.lstrip("-").isdigit() else None,
            response.headers.get("X-Modified-By"),
        )

    async def delete(
        self, project_id: str, path: str, *, if_match: str, confirmed: bool = False
    ) -> None:
        """Delete a file; ``confirmed``: a person confirmed it past the delete guard (the
        change says so, and other replicas apply it without asking again)."""
        await self._send(
            "DELETE",
            self._file_url(project_id, path),
            headers={"If-Match": f'"{if_match}"'},
            params={"confirmed": "true"} if confirmed else None,
        )

    async def move(
        self, project_id: str, from_path: str, to_path: str, *, if_match: str
    ) -> FileVersion:
        body = {"from": from_path, "to": to_path, "if_match": if_match}
        url = f"{routes.project(project_id)}/moves"
        return FileVersion.model_validate(await self._json("POST", url, json=body))

    async def revisions(self, project_id: str, path: str) -> list[FileVersion]:
        url = routes.file_revisions(project_id, path)
        body = await self._json("GET", url)
        return [FileVersion.model_validate(item) for item in body["items"]]

    async def changes(self, project_id: str, since: int, limit: int = 1000) -> ChangePage:
        url = routes.changes(project_id)
        return ChangePage.model_validate(
            await self._json("GET", url, params={"since": since, "limit": limit})
        )

    # -- checkpoints ----------------------------------------------------------------------

    async def checkpoints(self, project_id: str) -> list[Checkpoint]:
        body = await self._json("GET", f"{routes.project(project_id)}/checkpoints")
        return [Checkpoint.model_validate(item) for item in body["items"]]

    async def create_checkpoint(self, project_id: str, name: str) -> Checkpoint:
        url = f"{routes.project(project_id)}/checkpoints"
        return Checkpoint.model_validate(await self._json("POST", url, json={"name": name}))

    async def restore_checkpoint(self, project_id: str, checkpoint_id: str) -> CloudProject:
        url = f"{routes.project(project_id)}/checkpoints/{quote(checkpoint_id, safe='')}/restore"
        return CloudProject.model_validate(await self._json("POST", url))


async def _read_exactly(
    path: Path, size: int, on_bytes: Callable[[int], None] | None = None
) -> AsyncIterator[bytes]:
    """Stream ``size`` bytes of a file without blocking the event loop on disk reads; a file
    that grew or shrank meanwhile raises ``SourceChanged`` (the declared length is a promise
    to the server)."""
    handle = await asyncio.to_thread(open, path, "rb")
    try:
        left = size
        while left > 0:
            chunk = await asyncio.to_thread(handle.read, min(CHUNK, left))
            if not chunk:
                raise SourceChanged(path)
            left -= len(chunk)
            yield chunk
            if on_bytes is not None:  # the transport took it: it is on its way
                on_bytes(len(chunk))
        if await asyncio.to_thread(handle.read, 1):
            raise SourceChanged(path)
    finally:
        handle.close()
