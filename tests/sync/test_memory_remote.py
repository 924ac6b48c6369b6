"""The in-memory remote keeps the rules the engine relies on (the engine's scenarios run on it
in test_two_replicas.py), and remotes are found by their URL's scheme."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from project_filebrowser.remotes import (
    BatchFile,
    NotFound,
    PreconditionFailed,
    RemoteError,
    open_remote,
    schemes,
)
from project_filebrowser.remotes.memory import MemoryRemote

pytestmark = pytest.mark.unit


def test_remotes_come_from_the_entry_points() -> None:
    assert {"http", "https", "memory"} <= set(schemes())
    assert isinstance(open_remote("memory://x"), MemoryRemote)
    with pytest.raises(RemoteError) as caught:
        open_remote("ftp://example.org")
    assert caught.value.code == "unknown_remote" and "memory://" in caught.value.message


def test_writes_name_the_revision_they_replace(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with open_remote(f"memory://{tmp_path}", "ann") as remote:
            pid = (await remote.create_project("p")).id
            first = await remote.upload(pid, "a.txt", b"one", if_match=None)
            with pytest.raises(PreconditionFailed):  # create-only, but it exists
                await remote.upload(pid, "a.txt", b"two", if_match=None)
            second = await remote.upload(pid, "a.txt", b"two", if_match=first.revision)
            with pytest.raises(PreconditionFailed):  # stale
                await remote.upload(pid, "a.txt", b"three", if_match=first.revision)
            with pytest.raises(PreconditionFailed):
                await remote.delete(pid, "a.txt", if_match=first.revision)
            with pytest.raises(RemoteError) as shape:
                await remote.upload(pid, "a.txt/inside", b"x", if_match=None)
            assert shape.value.code == "path_conflict"
            with pytest.raises(RemoteError) as checksum:
                await remote.upload(pid, "b.txt", b"x", if_match=None, sha256="0" * 64)
            assert checksum.value.code == "checksum_mismatch"

            got: list[bytes] = []
            await remote.download(pid, "a.txt", got.append, revision=first.revision)
            assert got == [b"one"]
            await remote.delete(pid, "a.txt", if_match=second.revision)
            with pytest.raises(NotFound):
                await remote.download(pid, "a.txt", got.append)
            history = await remote.revisions(pid, "a.txt")
            assert [v.deleted for v in history] == [True, False, False]  # newest first
            page = await remote.changes(pid, since=0)
            assert [c.op for c in page.items] == ["put", "put", "delete"]
            assert (await remote.project(pid)).head_seq == page.next_since == 3

    asyncio.run(scenario())


def test_a_batch_answers_per_item(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with open_remote(f"memory://{tmp_path}") as remote:
            pid = (await remote.create_project("p")).id
            data = b"content"
            sha = hashlib.sha256(data).hexdigest()
            unknown = hashlib.sha256(b"never sent").hexdigest()
            outcomes = await remote.upload_batch(
                pid,
                [
                    BatchFile("a.txt", data, sha, len(data), None),
                    BatchFile("copy.txt", None, sha, len(data), None),  # by reference
                    BatchFile("ghost.txt", None, unknown, 10, None),
                    BatchFile("a.txt", data, sha, len(data), None),  # exists now
                ],
            )
            kinds = [o.code if isinstance(o, RemoteError) else o.path for o in outcomes]
            assert kinds == ["a.txt", "copy.txt", "unknown_content", "precondition_failed"]
            assert sorted(v.path for v in await remote.files(pid)) == ["a.txt", "copy.txt"]

    asyncio.run(scenario())
