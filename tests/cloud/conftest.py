"""Fixtures of the cloud tests: the real Projects service on a loopback port (one per
session, with a temp SQLite file and blob folder) and HTTP clients for fresh users.
Helpers live in ``cloud_support.py``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

from cloud_support import ServerThread, User, new_user, next_name, start_server


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    server = start_server(tmp_path_factory.mktemp("cloud"))
    yield server
    server.stop()


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
