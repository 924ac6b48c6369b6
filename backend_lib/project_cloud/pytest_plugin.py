"""pytest fixtures that serve the real Projects service on ``127.0.0.1``, for the tests of
anything that talks to it (this project's own tests use them too).

Registered as the ``pytest11`` entry point ``project_cloud``, so with the package installed
the fixtures are there in every test session:

* ``cloud_server`` - a started :class:`CloudServerThread` on a free port, with its own SQLite
  file and blob folder in a temporary folder; stopped after the test. It has ``url``
  (``http://127.0.0.1:PORT``), ``api`` (``url + "/api/v1"``), ``service`` (the
  :class:`~project_cloud.service.CloudService`) and ``new_user()``.
* ``cloud_user`` - a new user of ``cloud_server`` with a token (a :class:`CloudUser`:
  ``name``, ``password``, ``token``, ``headers``).
* ``cloud_server_factory`` - start more servers, or other ones:
  ``cloud_server_factory(folder=None, *, db_url=None, storage_url=None, max_file_size=None,
  port=0, **options)`` (``options``: ``CloudServer``'s, e.g. ``temp_sweep_seconds``); each
  is stopped after the test.

Outside a fixture (a server for a whole session, say), ``CloudServerThread.in_folder(path)
.start()`` starts one and ``.stop()`` stops it.

At import the module needs only the standard library and pytest: pytest loads it in every
session of an environment that has the package, so the server (tornado, SQLAlchemy, the
models) is imported only when a server is made.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from project_cloud.server import CloudServer
    from project_cloud.service import CloudService

HOST = "127.0.0.1"
START_SECONDS = 30.0
_numbers = itertools.count()


@dataclass(frozen=True)
class CloudUser:
    """A user of a :class:`CloudServerThread` and a bearer token of theirs."""

    name: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        """The ``Authorization`` header of the user's requests."""
        return {"Authorization": f"Bearer {self.token}"}


class CloudServerThread:
    """A :class:`~project_cloud.server.CloudServer` serving on ``127.0.0.1`` from a
    background thread with its own event loop, so that synchronous tests (and clients on
    other loops) can talk to it over HTTP.

    ``max_file_size=None`` is the server's default; ``port=0`` a free port. ``options`` go
    to ``CloudServer`` as they are (``temp_sweep_seconds``, ``drain_seconds``, ...).
    """

    def __init__(
        self,
        db_url: str,
        storage_url: str,
        max_file_size: int | None = None,
        *,
        port: int = 0,
        **options: Any,
    ) -> None:
        # Imported here, not at the top: see the module's docstring.
        from project_cloud.server import CloudServer

        self.args = (db_url, storage_url, max_file_size)
        self.options = options
        self.port = port
        if max_file_size is not None:
            options = {**options, "max_file_size": max_file_size}
        self.server: CloudServer = CloudServer(db_url, storage_url, **options)
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.thread = threading.Thread(target=self._main, daemon=True, name="cloud-server")

    @classmethod
    def in_folder(
        cls, folder: Path, max_file_size: int | None = None, **kwargs: Any
    ) -> CloudServerThread:
        """A server (not started yet) on ``folder/cloud.db`` and the blobs in
        ``folder/blobs``; ``folder`` is made if need be."""
        folder.mkdir(parents=True, exist_ok=True)
        return cls(
            f"sqlite:///{folder / 'cloud.db'}", str(folder / "blobs"), max_file_size, **kwargs
        )

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.port = self.loop.run_until_complete(self.server.start(HOST, self.port))
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()
        self.loop.close()

    def start(self) -> CloudServerThread:
        """Serve; returns once the server listens (or raises why it could not)."""
        self.thread.start()
        if not self._ready.wait(START_SECONDS):
            raise RuntimeError(f"the cloud server did not start in {START_SECONDS:g} s")
        if self._error is not None:
            raise self._error
        return self

    @property
    def running(self) -> bool:
        return self.thread.is_alive()

    def stop(self) -> None:
        """Stop serving (as :meth:`CloudServer.stop` does) and end the thread; again: nothing."""
        if not self.running:
            return
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)

    def restart(self) -> CloudServerThread:
        """Stop, then serve the same DB and blobs on the same port (clients keep their URL);
        returns the new server."""
        self.stop()
        return type(self)(*self.args, port=self.port, **self.options).start()

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def api(self) -> str:
        return self.server.url + "/api/v1"

    @property
    def service(self) -> CloudService:
        return self.server.service

    def new_user(
        self, prefix: str = "user", *, name: str | None = None, password: str = "secret-pw"
    ) -> CloudUser:
        """Create a user (``name``, or ``prefix`` and a number unique in this session) and
        issue them a token."""
        name = name if name is not None else f"{prefix}{next(_numbers)}"
        self.service.create_user(name, password)
        return CloudUser(name=name, password=password, token=self.service.issue_token(name))


@pytest.fixture
def cloud_server_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., CloudServerThread]]:
    """Start cloud servers on 127.0.0.1; each is stopped after the test."""
    started: list[CloudServerThread] = []

    def start(
        folder: Path | None = None,
        *,
        db_url: str | None = None,
        storage_url: str | None = None,
        max_file_size: int | None = None,
        port: int = 0,
        **options: Any,
    ) -> CloudServerThread:
        """A started server: on ``db_url`` and ``storage_url`` if given, otherwise on a
        SQLite file and a blob folder in ``folder`` (default: a new temporary one);
        ``options`` go to :class:`CloudServerThread`."""
        if db_url is not None and storage_url is not None:
            server = CloudServerThread(db_url, storage_url, max_file_size, port=port, **options)
        elif db_url is None and storage_url is None:
            if folder is None:
                folder = tmp_path_factory.mktemp("cloud")
            server = CloudServerThread.in_folder(folder, max_file_size, port=port, **options)
        else:
            raise TypeError("db_url and storage_url go together")
        started.append(server)
        return server.start()

    yield start
    for server in reversed(started):
        server.stop()


@pytest.fixture
def cloud_server(cloud_server_factory: Callable[..., CloudServerThread]) -> CloudServerThread:
    """The Projects service on a free port of 127.0.0.1, on SQLite and a blob folder in a
    temporary folder; stopped after the test."""
    return cloud_server_factory()


@pytest.fixture
def cloud_user(cloud_server: CloudServerThread) -> CloudUser:
    """A new user of ``cloud_server`` with a token."""
    return cloud_server.new_user()
