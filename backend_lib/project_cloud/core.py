"""What every part of the Projects service shares: :class:`Core` (the metadata DB, the blob
store, the notifier, the file size limit) and :class:`Outbox`, the one way a write
transaction tells subscribers what it changed.

An event is *announced* inside the transaction that makes it true and *delivered* after
that transaction commits: a transactional notifier (PostgreSQL ``NOTIFY``) queues it on
the transaction itself, so it goes out with the commit and never for a rollback; the
in-process notifier delivers it once the commit is done. :meth:`Core.writing` does both:
a part adds its events to the outbox it yields, and they go out when the block commits.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from .blobs import BlobStore
from .db import read_session, write_session
from .notify import Event, Notifier, is_transactional

DEFAULT_MAX_FILE_SIZE = 5 * 1024**3


@dataclass
class Outbox:
    """The events of one write transaction (see the module's docstring)."""

    notifier: Notifier
    session: Session
    events: list[Event] = field(default_factory=list)

    def add(self, event: Event) -> None:
        """Announce ``event`` in the transaction; it is delivered after the commit."""
        if is_transactional(self.notifier):
            self.notifier.publish_in_transaction(self.session.connection(), event)  # type: ignore[attr-defined]
        self.events.append(event)

    def deliver(self) -> None:
        """After the commit: what a transactional notifier has not sent already."""
        if not is_transactional(self.notifier):
            for event in self.events:
                self.notifier.publish(event)


@dataclass
class Core:
    """The service's state; the parts are functions of it (or of a session)."""

    engine: Engine
    blob_store: BlobStore | None
    notifier: Notifier
    max_file_size: int = DEFAULT_MAX_FILE_SIZE

    @property
    def blobs(self) -> BlobStore:
        if self.blob_store is None:
            raise RuntimeError("this CloudService has no blob store")
        return self.blob_store

    def reading(self) -> contextlib.AbstractContextManager[Session]:
        """A read-only transaction (a consistent snapshot)."""
        return read_session(self.engine)

    @contextlib.contextmanager
    def writing(self) -> Iterator[tuple[Session, Outbox]]:
        """A write transaction and its outbox: committed when the block ends (then the
        events are delivered), rolled back on an exception (then none is)."""
        with write_session(self.engine) as s:
            outbox = Outbox(self.notifier, s)
            yield s, outbox
        outbox.deliver()


def chunks(values: Iterable[str], size: int = 500) -> Iterator[list[str]]:
    """The distinct values in sorted lists of at most ``size`` (for ``IN (...)``)."""
    wanted = sorted(set(values))
    for start in range(0, len(wanted), size):
        yield wanted[start : start + size]
