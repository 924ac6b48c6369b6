"""Fixtures of the sync suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.cloud import ServerThread
from support.replicas import Replica, make_pair, memory_pair


@pytest.fixture(params=["cloud", "memory"])
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Replica, Replica]:
    """Two replicas of one project: on the real cloud on loopback, and on the in-memory
    remote (the engine knows only the Remote interface)."""
    if request.param == "memory":
        return memory_pair(tmp_path)
    cloud: ServerThread = request.getfixturevalue("cloud")
    return make_pair(cloud, tmp_path)
