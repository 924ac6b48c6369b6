"""Commit notifications: the service publishes, the ``/stream`` websockets listen.

:class:`Notifier` is the small interface between the two.

* :class:`InProcessNotifier` delivers within one process (one server): the default on
  SQLite.
* :class:`PostgresNotifier` delivers across replicas with PostgreSQL ``LISTEN/NOTIFY``:
  the service sends ``NOTIFY`` from inside the committing transaction
  (:meth:`PostgresNotifier.publish_in_transaction`), so PostgreSQL delivers it if and only
  if the transaction commits, and only after it did: a listener never sees a seq before it
  is committed. Every replica holds one dedicated ``LISTEN`` connection (psycopg 3, async,
  reconnecting) and calls its callbacks on its event loop. Chosen automatically by
  :func:`make_notifier` for a PostgreSQL URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from sqlalchemy import Connection, text
from sqlalchemy.engine import URL, make_url

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

EventKind = Literal["changed", "deleted", "revoked", "projects_changed"]
EVENT_KINDS: tuple[EventKind, ...] = ("changed", "deleted", "revoked", "projects_changed")


@dataclass(frozen=True)
class Event:
    """``changed``: the project's head_seq is now ``seq``. ``deleted``: the project is gone.
    ``revoked``: ``username`` lost access to the project. ``projects_changed``: the project
    list of ``username`` changed because of this project (created, shared with them,
    unshared, renamed or deleted)."""

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

    async def start(self) -> None:
        """Called by the server on its loop once bound; returns when delivery works."""

    async def close(self) -> None:
        """Called by the server on its loop before it unbinds; stops background work."""


class TransactionalNotifier(Notifier, Protocol):
    """A notifier that publishes through the metadata DB's own transaction.

    The service calls :meth:`publish_in_transaction` inside the write transaction (instead
    of :meth:`publish` after the commit); the event is delivered only if that transaction
    commits."""

    def publish_in_transaction(self, connection: Connection, event: Event) -> None: ...


def is_transactional(notifier: Notifier) -> bool:
    return callable(getattr(notifier, "publish_in_transaction", None))


class InProcessNotifier:
    """Delivers events to callbacks in this process, on the bound event loop."""

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

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


# --- PostgreSQL LISTEN/NOTIFY -------------------------------------------------------------

CHANNEL = "project_cloud_events"
RECONNECT_MIN_DELAY = 0.2
RECONNECT_MAX_DELAY = 10.0
HEALTH_CHECK_SECONDS = 15.0


def event_payload(event: Event) -> str:
    """The ``NOTIFY`` payload: ``{"project_id", "seq"}`` plus ``kind`` when it is not
    ``changed`` and ``username`` for ``revoked`` and ``projects_changed`` (always far below
    PostgreSQL's 8000 bytes)."""
    data: dict[str, Any] = {"project_id": event.project_id, "seq": event.seq}
    if event.kind != "changed":
        data["kind"] = event.kind
    if event.username is not None:
        data["username"] = event.username
    return json.dumps(data, separators=(",", ":"))


def parse_payload(payload: str) -> Event | None:
    """The event of a ``NOTIFY`` payload (None if it is not one of ours)."""
    try:
        data = json.loads(payload)
        kind = data.get("kind", "changed")
        project_id = data["project_id"]
        seq = int(data.get("seq", 0))
        username = data.get("username")
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    if kind not in EVENT_KINDS or not isinstance(project_id, str):
        return None
    if username is not None and not isinstance(username, str):
        return None
    return Event(kind, project_id, seq, username)


def psycopg_connect_args(url: str | URL) -> dict[str, Any]:
    """psycopg keyword arguments for a SQLAlchemy PostgreSQL URL (host, port, user,
    password, dbname and query options such as ``host=/socket/dir`` or ``sslmode``)."""
    u = make_url(url)
    args: dict[str, Any] = {
        k: v
        for k, v in u.translate_connect_args(username="user", database="dbname").items()
        if v not in (None, "")
    }
    for key, value in u.query.items():
        args[key] = value[-1] if isinstance(value, tuple) else value
    return args


class PostgresNotifier:
    """Events across replicas through PostgreSQL ``LISTEN/NOTIFY`` on ``channel``.

    Publishing: :meth:`publish_in_transaction` runs ``SELECT pg_notify(...)`` in the
    service's write transaction (delivered at commit, dropped on rollback). :meth:`publish`
    (outside any transaction) sends it on a short-lived connection.

    Listening: :meth:`start` opens a dedicated autocommit connection on the bound loop,
    runs ``LISTEN`` and dispatches every notification (this replica's own included) to the
    subscribed callbacks. When the connection breaks it reconnects with backoff; as
    notifications sent meanwhile are lost, it then compares every project's ``head_seq``
    with the last seq it saw and announces the differences (``changed``, or ``deleted`` for
    projects gone), so a subscriber at worst gets a spurious ``changed`` and never misses
    the last one.
    """

    def __init__(self, url: str | URL, channel: str = CHANNEL) -> None:
        self.url = make_url(url)
        self.channel = channel
        self._connect_args = psycopg_connect_args(self.url)
        self._local = InProcessNotifier()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._seen: dict[str, int] = {}
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self.connects = 0  # how many times the LISTEN connection was (re)established

    # -- the Notifier interface --

    def bind_loop(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self._loop = loop
        self._local.bind_loop(loop)

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        return self._local.subscribe(callback)

    def publish_in_transaction(self, connection: Connection, event: Event) -> None:
        connection.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {"channel": self.channel, "payload": event_payload(event)},
        )

    def publish(self, event: Event) -> None:
        import psycopg  # here: the driver is optional (the postgres extra), needed only here

        with psycopg.connect(**self._connect_args, autocommit=True) as conn:
            conn.execute("SELECT pg_notify(%s, %s)", (self.channel, event_payload(event)))

    async def start(self, timeout: float = 30.0) -> None:
        """Start listening (on the running loop); returns once ``LISTEN`` is active."""
        if self._task is None or self._task.done():
            self._ready = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(
                self._listen(), name="project-cloud-listen"
            )
        ready = asyncio.ensure_future(self._ready.wait())
        done, _ = await asyncio.wait(
            {ready, self._task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            if self._task in done:
                self._task.result()  # re-raise what stopped the listener
            raise TimeoutError(f"could not LISTEN on PostgreSQL within {timeout} s")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    @property
    def listening(self) -> bool:
        return self._ready.is_set()

    async def drop_connection(self) -> None:
        """Close the LISTEN connection as a network failure would (tests)."""
        conn = self._conn
        if conn is not None:
            await conn.close()

    # -- the listener --

    async def _listen(self) -> None:
        import psycopg  # here: the driver is optional (the postgres extra), needed only here

        delay = RECONNECT_MIN_DELAY
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    **self._connect_args, autocommit=True
                ) as conn:
                    self._conn = conn
                    await conn.execute(f'LISTEN "{self.channel}"')
                    await self._catch_up(conn, announce=self.connects > 0)
                    self.connects += 1
                    self._ready.set()
                    delay = RECONNECT_MIN_DELAY
                    while True:
                        async for notify in conn.notifies(timeout=HEALTH_CHECK_SECONDS):
                            self._deliver(notify.payload)
                        await conn.execute("SELECT 1")  # a quiet connection: still alive?
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._ready.clear()
                log.warning(
                    "lost the PostgreSQL LISTEN connection (%s); reconnecting in %.1f s",
                    exc,
                    delay,
                )
            finally:
                self._conn = None
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_DELAY)

    async def _catch_up(self, conn: psycopg.AsyncConnection[Any], announce: bool) -> None:
        """Record every project's head_seq; with ``announce``, publish locally what changed
        since the last seq seen (notifications lost while disconnected)."""
        cursor = await conn.execute("SELECT id, head_seq FROM projects")
        rows = await cursor.fetchall()
        current = {str(pid): int(seq) for pid, seq in rows}
        if announce:
            for pid, seq in current.items():
                if seq > 0 and self._seen.get(pid, -1) != seq:  # a new empty one: nothing
                    self._local.publish(Event("changed", pid, seq))
            for pid in set(self._seen) - set(current):
                self._local.publish(Event("deleted", pid))
        self._seen = current

    def _deliver(self, payload: str) -> None:
        event = parse_payload(payload)
        if event is None:
            log.warning("ignored a malformed notification on %s", self.channel)
            return
        if event.kind == "changed":
            if event.seq > self._seen.get(event.project_id, -1):
                self._seen[event.project_id] = event.seq
        elif event.kind == "deleted":
            self._seen.pop(event.project_id, None)
        self._local.publish(event)


def make_notifier(db_url: str | URL) -> Notifier:
    """:class:`PostgresNotifier` for a PostgreSQL URL, :class:`InProcessNotifier` otherwise."""
    if make_url(db_url).get_backend_name() == "postgresql":
        return PostgresNotifier(db_url)
    return InProcessNotifier()
