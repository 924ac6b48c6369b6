"""Two processes never sync the same project at once: an exclusive ``flock`` per project.

The holder writes who it is into the lock file, so the other process can say who holds it.
The kernel drops the lock when the holder dies, even on ``kill -9``.
"""

from __future__ import annotations

import fcntl
import os
import sys
from pathlib import Path


def lock_dir_for(db_file: Path | None, root_dir: Path) -> Path:
    """Where the project locks live: beside the SQLite state DB (so every process sharing
    the DB shares the locks), else under the root folder."""
    return (db_file.parent if db_file is not None else root_dir) / "locks"


class ProjectLock:
    def __init__(self, lock_dir: Path, project_id: str) -> None:
        lock_dir.mkdir(parents=True, exist_ok=True)
        self.path = lock_dir / f"{project_id}.lock"
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}: {' '.join(sys.argv)[:200]}".encode())
        self._fd = fd
        return True

    def holder(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8", errors="replace").strip() or "unknown"
        except OSError:
            return "unknown"

    async def acquire(self, on_wait: object = None, poll: float = 0.2) -> None:
        """Wait for the lock; ``on_wait(holder)`` is called once if we have to wait."""
        import asyncio  # here: the no-op check of the CLI takes locks without asyncio

        told = False
        while not self.try_acquire():
            if not told and callable(on_wait):
                on_wait(self.holder())
                told = True
            await asyncio.sleep(poll)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
