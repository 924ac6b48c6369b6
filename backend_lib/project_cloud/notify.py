"""Commit notifications: the service publishes, the ``/stream`` websockets listen.

:class:`Notifier` is the small interface between the two. :class:`InProcessNotifier`
delivers within one process (one server); a PostgreSQL ``LISTEN/NOTIFY`` notifier with the
same interface would deliver across replicas (``publish`` = ``NOTIFY``, a listener task
calls the callbacks).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

log = logging.getLogger(__name__)

EventKind = Literal["changed", "deleted", "revoked"]


@dataclass(frozen=True)
class Event:
    """``changed``: the project's head_seq is now ``seq``. ``deleted``: the project is gone.
    ``revoked``: ``username`` lost access to the project."""

    kind: EventKind
    project_id: str
    seq: int = 0
    username: str | None = None


Callback = Callable[[Event], None]


class Notifier(Protocol):
    def publish(self, event: Event) -> None:
        """Announce a committed change. Thread-safe; never blocks for long."""

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        """Call ``callback`` (on the server's event loop) for every event; returns a function
        that unsubscribes."""

    def bind_loop(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """The loop callbacks run on (None: call them in the publishing thread)."""


class InProcessNotifier:
    """Delivers events to callbacks in this process, on the bound event loop."""

    def __init__(self) -> None:
        self._callbacks: dict[int, Callback] = {}
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind_loop(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self._loop = loop

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        with self._lock:
            key = next(self._ids)
            self._callbacks[key] = callback

        def unsubscribe() -> None:
            with self._lock:
                self._callbacks.pop(key, None)

        return unsubscribe

    def publish(self, event: Event) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            self._dispatch(event)
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._dispatch(event)
        else:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self._dispatch, event)

    def _dispatch(self, event: Event) -> None:
        with self._lock:
            callbacks = list(self._callbacks.values())
        for callback in callbacks:
            try:
                callback(event)
            except Exception:
                log.exception("notification callback failed")
