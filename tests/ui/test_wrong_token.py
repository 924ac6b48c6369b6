"""A lab whose cloud refuses its token says so in the status bar and the panel, instead of
"No projects"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from support.cloud import start_server
from support.labs import CHROMIUM, Lab
from support.pages import open_lab, open_panel, panel, shot

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A lab on a standalone cloud, with a token that cloud never issued."""
    home: Path = tmp_path_factory.mktemp("wrong-token")
    cloud = start_server(home / "cloud")
    cloud.service.create_user("ann", "secret-pw")
    server = Lab(
        root=home / "root",
        home=home / "lab",
        cloud_url=cloud.url,
        cloud_token="not-a-token-of-this-cloud",
        name="jupyter-wrong-token",
        wait_for_cloud=False,
    )
    server.prepare()
    try:
        server.start()
        yield server
    finally:
        server.stop()
        cloud.stop()


def test_a_wrong_token_is_told_not_no_projects(page: Page, lab: Lab) -> None:
    open_lab(page, lab)
    status = page.locator(".jp-pfb-statusItem")
    expect(status).to_have_attribute("data-status", "error", timeout=20_000)
    expect(status).to_contain_text("Cloud:")
    expect(status).to_contain_text("token")
    expect(status).not_to_contain_text("No projects")
    open_panel(page)
    expect(panel(page)).to_contain_text("Cannot list the cloud's projects")
    expect(panel(page).locator('[data-reason="cloud"]')).to_contain_text(
        "The cloud cannot be used: The token is not valid"
    )
    expect(panel(page)).not_to_contain_text("No projects yet")
    shot(page, "wrong-token")
