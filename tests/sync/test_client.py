"""The cloud client and the change-stream listener against the real cloud on loopback."""

from __future__ import annotations

import asyncio
import errno
import threading
import time
from pathlib import Path

import httpx
import pytest

from project_filebrowser.cloud.client import CloudClient, CloudError, NotFound, PreconditionFailed
from project_filebrowser.cloud.stream import ChangeStream
from support.cloud import ServerThread
from support.polling import eventually_async


@pytest.fixture
def token(cloud: ServerThread) -> str:
    return cloud.new_user(name="ann", password="pw-ann-123").token


def test_errors_map_to_exceptions_and_pages_are_followed(cloud: ServerThread, token: str) -> None:
    seen: list[str] = []

    async def on_request(request: httpx.Request) -> None:
        seen.append(f"{request.method} {request.url.path}")

    async def main() -> None:
        async with CloudClient(cloud.url, token, on_request=[on_request]) as client:
            project = await client.create_project("paged")
            for i in range(7):
                await client.upload(project.id, f"f{i}.txt", f"{i}".encode(), if_match=None)
            files = await client.files(project.id, page_size=3)
            assert sorted(f.path for f in files) == [f"f{i}.txt" for i in range(7)]
            with pytest.raises(PreconditionFailed):
                await client.upload(project.id, "f0.txt", b"again", if_match=None)
            with pytest.raises(PreconditionFailed):
                await client.upload(project.id, "f0.txt", b"again", if_match="0-stale")
            with pytest.raises(NotFound):
                await client.project("no-such-project")
            with pytest.raises(CloudError, match="checksum_mismatch"):
                await client.upload(project.id, "g.txt", b"bytes", if_match=None, sha256="0" * 64)
        async with CloudClient(cloud.url, "wrong-token") as client:
            with pytest.raises(CloudError) as excinfo:
                await client.user()
            assert excinfo.value.status == 401

    asyncio.run(main())
    assert "POST /api/v1/projects" in seen  # the request hook saw every request
    assert sum(1 for s in seen if s.endswith("/files")) == 3  # 7 files, 3 per page


def test_retries_until_the_cloud_is_back(cloud: ServerThread, token: str) -> None:
    args, port = cloud.args, cloud.port
    cloud.stop()
    restarted: dict[str, ServerThread] = {}

    def bring_back() -> None:
        time.sleep(0.8)
        restarted["server"] = ServerThread(*args, port=port).start()

    thread = threading.Thread(target=bring_back)
    thread.start()

    async def main() -> str:
        async with CloudClient(cloud.url, token, max_retries=10, backoff_max=0.5) as client:
            return await client.user()

    try:
        assert asyncio.run(main()) == "ann"
    finally:
        thread.join()
        _adopt(cloud, restarted["server"])


def test_unreachable_cloud_is_a_clear_error(tmp_path: Path) -> None:
    async def main() -> None:
        async with CloudClient("http://127.0.0.1:9", "t", max_retries=1, backoff_max=0.01) as c:
            await c.user()

    with pytest.raises(CloudError) as excinfo:
        asyncio.run(main())
    assert excinfo.value.code == "unreachable" and "cannot reach" in str(excinfo.value)


def test_stream_notifies_and_reconnects_after_a_cloud_restart(
    cloud: ServerThread, token: str
) -> None:
    async def main() -> None:
        async with CloudClient(cloud.url, token) as client:
            project = await client.create_project("streamed")
            changes: list[str] = []
            states: list[bool] = []
            stream = ChangeStream(
                cloud.url,
                token,
                projects=lambda: [project.id],
                on_change=changes.append,
                on_state=states.append,
                poll_seconds=0.2,
                backoff_max=0.3,
            )
            stream.start()
            try:
                await eventually_async(lambda: stream.connected)
                changes.clear()
                await client.upload(project.id, "a.txt", b"a", if_match=None)
                await eventually_async(lambda: project.id in changes)

                restarted = await asyncio.to_thread(cloud.restart)
                _adopt(cloud, restarted)
                await eventually_async(lambda: states[-2:] == [False, True], timeout=20)
                changes.clear()
                await client.upload(project.id, "b.txt", b"b", if_match=None)
                await eventually_async(lambda: project.id in changes)
            finally:
                await stream.stop()

    asyncio.run(main())


def test_stream_polls_while_the_cloud_is_down(tmp_path: Path) -> None:
    async def main() -> None:
        changes: list[str] = []
        stream = ChangeStream(
            "http://127.0.0.1:9",
            "t",
            projects=lambda: ["p1"],
            on_change=changes.append,
            poll_seconds=0.1,
            backoff_max=0.5,
        )
        stream.start()
        try:
            await eventually_async(lambda: changes.count("p1") >= 3, timeout=10)
            assert not stream.connected
        finally:
            await stream.stop()

    asyncio.run(main())


def _adopt(fixture_server: ServerThread, new: ServerThread) -> None:
    fixture_server.server, fixture_server.loop, fixture_server.thread = (
        new.server,
        new.loop,
        new.thread,
    )


def test_watcher_falls_back_to_polling_at_the_inotify_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from watchdog.observers.inotify import InotifyObserver

    from project_filebrowser.sync.watcher import ProjectWatcher

    def limit(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "inotify watch limit reached")

    monkeypatch.setattr(InotifyObserver, "schedule", limit)  # the kernel limit, simulated

    async def main() -> None:
        hints: list[str] = []

        async def on_change(project_id: str) -> None:
            hints.append(project_id)

        watcher = ProjectWatcher(on_change, debounce_seconds=0.05)
        watcher.start()
        try:
            watcher.watch("p", tmp_path / "p")
            assert watcher.observer_kind == "polling" and watcher.running
            (tmp_path / "p" / "new.txt").write_text("x")
            await eventually_async(lambda: hints == ["p"], timeout=10)
        finally:
            watcher.stop()

    asyncio.run(main())
