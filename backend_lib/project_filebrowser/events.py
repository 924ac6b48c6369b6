"""The in-process event bus: the engine publishes, subscribers (the websocket, the CLI's
progress bar, tests) listen. Subscribers must not block: they get the event and return."""

from __future__ import annotations

import logging
from collections.abc import Callable

from .schemas import ServerEvent

log = logging.getLogger(__name__)

Subscriber = Callable[[ServerEvent], None]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add a subscriber; returns the function that removes it."""
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

        return unsubscribe

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, event: ServerEvent) -> None:
        for subscriber in list(self._subscribers):
            try:
                subscriber(event)
            except Exception:  # one bad subscriber must not stop the engine or the others
                log.exception("project-filebrowser: event subscriber failed")
