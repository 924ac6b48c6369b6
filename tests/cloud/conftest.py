"""Fixtures of the cloud tests: the real Projects service on a loopback port and HTTP
clients for fresh users. Helpers live in ``support/cloud.py`` and ``support/team_stack.py``.

``cloud`` is parametrized over the two storage stacks, one server each per session:

* ``sqlite-folder`` - a temp SQLite file and a blob folder (the zero-set-up default);
* ``postgres-s3`` - a database on a real PostgreSQL and a bucket on an S3 server (moto's
  server mode unless ``PROJECT_CLOUD_TEST_S3_ENDPOINT`` names one); skipped with the reason
  when they cannot be started, or failed when ``PFB_REQUIRE_TEAM_STACK=1``.

Select one with ``-k sqlite-folder`` / ``-k postgres-s3``. Tests that only need the team
stack use ``pg_server_url`` / ``s3_endpoint_url`` / ``team_urls``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from support.cloud import (
    SMALL_MAX_FILE_SIZE,
    ServerThread,
    User,
    new_user,
    next_name,
    start_server,
)
from support.team_stack import create_bucket, create_database, postgres_server, s3_endpoint

STACKS = ("sqlite-folder", "postgres-s3")


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A PostgreSQL server for this session (databases are made per use)."""
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def s3_endpoint_url() -> Iterator[str]:
    """An S3 server for this session (buckets are made per use); the process environment
    has test credentials and no AWS_CA_BUNDLE meanwhile."""
    with pytest.MonkeyPatch.context() as mp, s3_endpoint(mp) as endpoint:
        yield endpoint


@pytest.fixture
def team_urls(pg_server_url: str, s3_endpoint_url: str) -> tuple[str, str]:
    """A fresh ``(db_url, storage_url)`` pair on the team stack: a new database and bucket."""
    return create_database(pg_server_url), create_bucket(s3_endpoint_url)


@pytest.fixture(scope="session", params=STACKS)
def cloud(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerThread]:
    if request.param == "sqlite-folder":
        server = start_server(tmp_path_factory.mktemp("cloud"))
    else:
        db_url = create_database(request.getfixturevalue("pg_server_url"))
        storage_url = create_bucket(request.getfixturevalue("s3_endpoint_url"))
        server = ServerThread(db_url, storage_url, SMALL_MAX_FILE_SIZE).start()
    yield server
    server.stop()


@pytest.fixture
def stack(cloud: ServerThread) -> str:
    """Which stack ``cloud`` runs on."""
    return "sqlite-folder" if cloud.server.db_url.startswith("sqlite") else "postgres-s3"


@pytest.fixture
def make_user(cloud: ServerThread) -> Iterator[Callable[..., User]]:
    made: list[User] = []

    def make(prefix: str = "user") -> User:
        user = new_user(cloud, prefix)
        made.append(user)
        return user

    yield make
    for user in made:
        user.client.close()


@pytest.fixture
def alice(make_user: Callable[..., User]) -> User:
    return make_user("alice")


@pytest.fixture
def bob(make_user: Callable[..., User]) -> User:
    return make_user("bob")


@pytest.fixture
def anon(cloud: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=cloud.api, timeout=60) as client:
        yield client


@pytest.fixture
def project(alice: User) -> dict[str, Any]:
    r = alice.client.post("/projects", json={"name": f"proj{next_name()}"})
    assert r.status_code == 201, r.text
    return dict(r.json())
