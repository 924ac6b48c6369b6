"""Watchdog events as hints: which project folder to rescan, debounced.

One observer watches every linked project. Events only say *where* to look; the scanner
decides what changed. When the inotify watch limit is hit, the polling observer takes over
and ``observer_kind`` says so (shown in ``/status``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

from .ignore import TEMP_SUFFIX

log = logging.getLogger(__name__)

OnChange = Callable[[str], Coroutine[Any, Any, None]]


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: ProjectWatcher, project_id: str) -> None:
        self.watcher = watcher
        self.project_id = project_id

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        if event.is_directory and event.event_type == "modified":
            return  # a child's own event says more
        paths = [str(event.src_path), str(getattr(event, "dest_path", "") or "")]
        if all(not p or p.endswith(TEMP_SUFFIX) for p in paths):
            return  # our own atomic-download temp files
        self.watcher.hint(self.project_id)


class ProjectWatcher:
    def __init__(
        self,
        on_change: OnChange,
        *,
        debounce_seconds: float = 0.2,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.on_change = on_change
        self.debounce_seconds = debounce_seconds
        self.loop = loop
        self.observer: BaseObserver | None = None
        self.observer_kind: str | None = None
        self._watches: dict[str, ObservedWatch] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}

    @property
    def running(self) -> bool:
        return self.observer is not None and self.observer.is_alive()

    def start(self) -> None:
        self.loop = self.loop or asyncio.get_running_loop()
        self.observer = Observer()
        self.observer_kind = type(self.observer).__name__.removesuffix("Observer").lower()
        self.observer.start()

    def _fall_back_to_polling(self, reason: OSError) -> None:
        log.warning(
            "project-filebrowser: native file watching failed (%s); using the polling "
            "observer instead. Raise fs.inotify.max_user_watches to watch natively.",
            reason,
        )
        folders = {pid: Path(w.path) for pid, w in self._watches.items()}
        assert self.observer is not None
        self.observer.stop()
        self.observer = PollingObserver(timeout=1.0)
        self.observer_kind = "polling"
        self._watches = {}
        self.observer.start()
        for project_id, folder in folders.items():
            self.watch(project_id, folder)

    def watch(self, project_id: str, folder: Path) -> None:
        if self.observer is None:
            raise RuntimeError("start() the watcher first")
        self.unwatch(project_id)
        folder.mkdir(parents=True, exist_ok=True)
        try:
            watch = self.observer.schedule(_Handler(self, project_id), str(folder), recursive=True)
        except OSError as exc:
            if self.observer_kind == "polling":
                raise
            self._fall_back_to_polling(exc)
            self.watch(project_id, folder)
            return
        self._watches[project_id] = watch

    def unwatch(self, project_id: str) -> None:
        watch = self._watches.pop(project_id, None)
        if watch is not None and self.observer is not None:
            self.observer.unschedule(watch)
        timer = self._timers.pop(project_id, None)
        if timer is not None:
            timer.cancel()

    def hint(self, project_id: str) -> None:
        """Called from the observer thread: (re)start the project's debounce timer."""
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._debounce, project_id)

    def _debounce(self, project_id: str) -> None:
        if project_id not in self._watches:
            return
        timer = self._timers.pop(project_id, None)
        if timer is not None:
            timer.cancel()
        assert self.loop is not None
        self._timers[project_id] = self.loop.call_later(
            self.debounce_seconds, self._fire, project_id
        )

    def _fire(self, project_id: str) -> None:
        self._timers.pop(project_id, None)
        assert self.loop is not None
        task = self.loop.create_task(self.on_change(project_id))
        task.add_done_callback(_log_failure)

    def stop(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        if self.observer is not None:
            self.observer.stop()
            self.observer.join(timeout=5)
            self.observer = None
        self._watches.clear()


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("project-filebrowser: rescan failed", exc_info=task.exception())
