"""Fixtures of the browser tests: one `jupyter lab` (extension + embedded cloud) and one
headless Chromium (Debian's, through Python Playwright) per module.

CI needs `apt-get install -y chromium` (gives /usr/bin/chromium); without it the tests are
skipped with that reason. Screenshots go to `test-artifacts/ui/` at the repository root.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from support.labs import ARTIFACTS, CHROMIUM, Lab, TwoLabs
from support.pages import new_page


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> None:
    """pytest-jupyter's autouse loop is not wanted here: the servers are subprocesses, and
    Playwright's sync API runs its own loop, which that fixture would try to close."""
    return None


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> None:
    """No in-process Jupyter server to clean up (see ``jp_asyncio_loop``)."""
    return None


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    home = tmp_path_factory.mktemp("lab")
    server = Lab(root=home / "root", home=home)
    server.prepare()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def two_labs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoLabs]:
    """Two JupyterLab servers of one user on one standalone cloud (see ``TwoLabs``)."""
    pair = TwoLabs.start(tmp_path_factory.mktemp("two-labs"))
    try:
        yield pair
    finally:
        pair.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def page(lab: Lab, browser: Any) -> Iterator[Any]:
    page = new_page(browser)
    yield page
    page.context.close()


@pytest.fixture(scope="module")
def two_pages(two_labs: TwoLabs, browser: Any) -> Iterator[tuple[Any, Any]]:
    """One page for each of ``two_labs`` (not yet opened: ``support.pages.open_lab``)."""
    pages = (new_page(browser), new_page(browser))
    yield pages
    for page in pages:
        page.context.close()


@pytest.fixture(scope="session", autouse=True)
def _clean_artifacts() -> None:
    if ARTIFACTS.exists():
        for png in ARTIFACTS.glob("*.png"):
            png.unlink()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for log in ARTIFACTS.glob("jupyter*.log"):
        log.unlink()
