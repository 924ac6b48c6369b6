"""A bounded per-connection outbox, so a slow client never blocks the engine or others.

Messages are queued and written one at a time. Progress updates (``droppable``) may be
replaced or dropped, newest kept: a newer update with the same ``key`` (a job id, a path)
replaces the queued one, and when the outbox is full the oldest progress update goes first.
Final messages (replies, ``job_finished``, ``conflict``, ...) are never dropped; a client so
far behind that even those pile up past ``hard_limit`` is disconnected (``overflowed``).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from itertools import count


@dataclass(slots=True)
class _Entry:
    payload: str
    droppable: bool


class Outbox:
    def __init__(
        self,
        send: Callable[[str], Awaitable[None]],
        *,
        limit: int = 256,
        hard_limit: int = 4096,
        on_overflow: Callable[[], None] = lambda: None,
    ) -> None:
        self._send = send
        self.limit = limit
        self.hard_limit = hard_limit
        self._on_overflow = on_overflow
        self._entries: OrderedDict[object, _Entry] = OrderedDict()
        self._ids = count()
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0
        self.overflowed = False

    def __len__(self) -> int:
        return len(self._entries)

    def put(self, payload: str, *, droppable: bool = False, key: object = None) -> None:
        if self.overflowed:
            return
        slot: object
        if droppable and key is not None:
            slot = ("progress", key)
            if slot in self._entries:  # the newer update replaces the queued one, in place
                self._entries[slot] = _Entry(payload, True)
                return
        else:
            slot = next(self._ids)
        if len(self._entries) >= self.limit:
            oldest = next((k for k, e in self._entries.items() if e.droppable), None)
            if oldest is not None:
                del self._entries[oldest]
                self.dropped += 1
            elif droppable:
                self.dropped += 1
                return
        self._entries[slot] = _Entry(payload, droppable)
        if len(self._entries) > self.hard_limit:
            self.overflowed = True
            self._entries.clear()
            self._on_overflow()
            return
        self._ready.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await self._ready.wait()
            while self._entries:
                _slot, entry = self._entries.popitem(last=False)
                await self._send(entry.payload)
            self._ready.clear()

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._entries.clear()
