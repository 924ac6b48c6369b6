"""The Projects sidebar in a real JupyterLab, in headless Chromium.

The tests of this module run in order against one server and one browser page (each step
builds on the one before, as a user's session does): open the panel, create a project,
see an outside write turn synced, resolve a conflict, link a cloud project, switch to the
dark theme, lose and regain the server. Screenshots: `test-artifacts/ui/*.png`.
"""

from __future__ import annotations

import contextlib

import httpx
import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from support.labs import CHROMIUM, Lab
from support.pages import (
    accept,
    create_in_dialog,
    expand,
    file_row,
    open_lab,
    open_panel,
    panel,
    project,
    shot,
    toolbar_button,
    wait_for_lab,
)
from support.polling import eventually

if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)"
        " to run the browser tests",
        allow_module_level=True,
    )

# -- the tests, in order ------------------------------------------------------------------


def test_panel_opens_with_an_empty_state(page: Page, lab: Lab) -> None:
    open_lab(page, lab)
    open_panel(page)
    expect(panel(page).locator(".jp-SidePanel-header")).to_have_text("Projects")
    expect(panel(page)).to_contain_text("No projects yet — create one")
    expect(panel(page).locator(".jp-pfb-banner")).to_have_count(0)  # connected
    expect(page.locator(".jp-pfb-statusItem")).to_have_attribute("data-status", "empty")
    shot(page, "01-empty-light")


def test_create_dialog_explains_bad_and_taken_names(page: Page, lab: Lab) -> None:
    dialog = create_in_dialog(page, "bad/name")
    expect(dialog.locator(".jp-pfb-formError")).to_contain_text("cannot contain")
    accept(dialog)  # refused locally: the dialog stays
    expect(dialog).to_be_visible()
    dialog.locator("#jp-pfb-create-name").fill(".hidden")
    expect(dialog.locator(".jp-pfb-formError")).to_contain_text("cannot start with")

    # a name the cloud already has (made by another machine): the server's reason shows
    with lab.cloud() as cloud:
        cloud.post("/projects", json={"name": "taken"}).raise_for_status()
    dialog.locator("#jp-pfb-create-name").fill("taken")
    expect(dialog.locator(".jp-pfb-formHelp")).to_contain_text("projects/taken")
    accept(dialog)
    error = dialog.locator(".jp-pfb-formError")
    expect(error).to_be_visible()
    expect(error).to_contain_text("taken")
    expect(dialog.locator("#jp-pfb-create-name")).to_have_value("taken")  # kept
    shot(page, "02-create-error-light")
    dialog.locator(".jp-Dialog-footer button.jp-mod-reject").click()
    expect(dialog).to_have_count(0)
    assert [p["name"] for p in lab.api("GET", "projects")["items"]] == []


def test_create_a_project_and_see_it_listed(page: Page, lab: Lab) -> None:
    dialog = create_in_dialog(
        page, "demo", title="Demo analysis", description="Notebooks for the demo"
    )
    accept(dialog)
    expect(dialog).to_have_count(0)
    item = project(page, "demo")
    expect(item).to_be_visible()
    expect(item.locator(".jp-pfb-projectName")).to_have_text("Demo analysis")
    expect(item.locator(".jp-pfb-toggle")).to_have_attribute("aria-expanded", "true")
    expect(item.locator(".jp-pfb-badge[data-status]")).to_have_attribute(
        "data-status", "synced", timeout=20_000
    )
    expect(item).to_contain_text("No files yet")
    assert (lab.root / "projects" / "demo").is_dir()
    # the cloud-only project made above is offered for linking
    expect(panel(page).locator('.jp-pfb-cloudProject[data-project-name="taken"]')).to_be_visible()


def test_a_file_written_outside_turns_synced_without_reload(page: Page, lab: Lab) -> None:
    folder = lab.root / "projects" / "demo"
    (folder / "notes.md").write_text("# Notes\n\nWritten by another program.\n")
    (folder / "data").mkdir()
    (folder / "data" / "table.csv").write_text("a,b\n1,2\n")
    notes = file_row(page, "demo", "notes.md")
    expect(notes).to_have_attribute("data-state", "synced", timeout=20_000)
    expect(file_row(page, "demo", "data/table.csv")).to_have_attribute(
        "data-state", "synced", timeout=20_000
    )
    expect(project(page, "demo").locator(".jp-pfb-badge[data-status]")).to_have_attribute(
        "data-status", "synced"
    )
    expect(page.locator(".jp-pfb-statusItem")).to_have_attribute(
        "data-status", "synced", timeout=20_000
    )
    with lab.cloud() as cloud:
        [demo] = [p for p in cloud.get("/projects").json()["items"] if p["name"] == "demo"]
        paths = {f["path"] for f in cloud.get(f"/projects/{demo['id']}/files").json()["items"]}
    assert {"notes.md", "data/table.csv"} <= paths
    shot(page, "03-synced-light")

    # a click opens the file in JupyterLab
    notes.locator("button").click()
    expect(page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab[title*="notes.md"]')).to_be_visible()


def test_resolve_a_conflict_from_the_panel(page: Page, lab: Lab) -> None:
    folder = lab.root / "projects" / "demo"
    doc = folder / "doc.txt"
    doc.write_text("base\n")
    expect(file_row(page, "demo", "doc.txt")).to_have_attribute(
        "data-state", "synced", timeout=20_000
    )
    demo_id = project(page, "demo").get_attribute("data-project-id")
    assert demo_id

    with lab.cloud() as cloud:
        revision = eventually(
            lambda: next(
                (
                    f["revision"]
                    for f in cloud.get(f"/projects/{demo_id}/files").json()["items"]
                    if f["path"] == "doc.txt"
                ),
                None,
            ),
            what="doc.txt in the cloud",
        )
        # this machine edits the file while another one pushes a different edit
        doc.write_text("mine\n")
        cloud.put(
            f"/projects/{demo_id}/files/doc.txt",
            content=b"theirs\n",
            headers={"If-Match": f'"{revision}"'},
        ).raise_for_status()

    conflict = project(page, "demo").locator(".jp-pfb-conflict")
    expect(conflict).to_have_count(1, timeout=20_000)
    expect(conflict).to_contain_text("doc.txt")
    expect(project(page, "demo").locator(".jp-pfb-badge.jp-pfb-mod-conflict")).to_have_text("1")
    toast = page.locator(".Toastify__toast", has_text="Conflict in demo")
    expect(toast).to_be_visible()
    expect(file_row(page, "demo", "doc.txt")).to_have_attribute("data-state", "conflict")
    expect(page.locator(".jp-pfb-statusItem")).to_have_attribute("data-status", "conflicts")
    shot(page, "04-conflict-light")

    conflict_path = eventually(
        lambda: lab.api("GET", "conflicts", project_id=demo_id)["items"],
        what="the conflict over REST",
    )[0]["conflict_path"]
    conflict.get_by_role("button", name="Keep mine").click()
    expect(conflict).to_have_count(0, timeout=20_000)
    expect(project(page, "demo").locator(".jp-pfb-badge.jp-pfb-mod-conflict")).to_have_count(0)
    assert doc.read_text() == "mine\n"
    assert not (folder / conflict_path).exists()
    expect(file_row(page, "demo", "doc.txt")).to_have_attribute(
        "data-state", "synced", timeout=20_000
    )
    expect(file_row(page, "demo", conflict_path)).to_have_count(0, timeout=20_000)

    def cloud_has_mine() -> bool:
        with lab.cloud() as cloud:
            response = cloud.get(f"/projects/{demo_id}/files/doc.txt")
            return response.status_code == 200 and response.content == b"mine\n"

    eventually(cloud_has_mine, what="the cloud to hold my version")
    shot(page, "05-resolved-light")


def test_link_a_cloud_project(page: Page, lab: Lab) -> None:
    with lab.cloud() as cloud:
        created = cloud.post("/projects", json={"name": "shared", "title": "Shared data"}).json()
        cloud.put(
            f"/projects/{created['id']}/files/readme.md",
            content=b"# Shared\n",
            headers={"If-None-Match": "*"},
        ).raise_for_status()
    toolbar_button(page, "project-filebrowser:refresh").click()  # no event for cloud-only
    offer = panel(page).locator('.jp-pfb-cloudProject[data-project-name="shared"]')
    expect(offer).to_be_visible()
    expect(offer).to_contain_text("1 file")
    offer.get_by_role("button", name="Link shared").click()
    # the user chooses the folder (the default is offered)
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Pull shared into which folder?")
    expect(dialog.locator("input")).to_have_value("projects/shared")
    accept(dialog)
    expect(offer).to_have_count(0)
    expect(file_row(page, "shared", "readme.md")).to_have_attribute(
        "data-state", "synced", timeout=20_000
    )
    readme = lab.root / "projects" / "shared" / "readme.md"
    eventually(readme.exists, what="readme.md on disk")
    assert readme.read_text() == "# Shared\n"


def test_dark_theme(page: Page, lab: Lab) -> None:
    response = httpx.put(
        f"{lab.base}lab/api/settings/@jupyterlab/apputils-extension:themes",
        json={"raw": '{"theme": "JupyterLab Dark"}'},
        headers={"Authorization": f"token {lab.token}"},
    )
    response.raise_for_status()
    page.reload()
    wait_for_lab(page)
    page.wait_for_selector("body[data-jp-theme-name='JupyterLab Dark']", state="attached")
    open_panel(page)
    expand(page, "demo")
    expect(file_row(page, "demo", "notes.md")).to_have_attribute("data-state", "synced")
    shot(page, "06-projects-dark")

    # a conflict in the dark theme, to see its colours
    demo_id = project(page, "demo").get_attribute("data-project-id")
    folder = lab.root / "projects" / "demo"
    with lab.cloud() as cloud:
        files = cloud.get(f"/projects/{demo_id}/files").json()["items"]
        [notes] = [f for f in files if f["path"] == "notes.md"]
        (folder / "notes.md").write_text("# Notes\n\nmy edit\n")
        cloud.put(
            f"/projects/{demo_id}/files/notes.md",
            content=b"# Notes\n\ntheir edit\n",
            headers={"If-Match": f'"{notes["revision"]}"'},
        ).raise_for_status()
    expect(project(page, "demo").locator(".jp-pfb-conflict")).to_have_count(1, timeout=20_000)
    shot(page, "07-conflict-dark")
    project(page, "demo").locator(".jp-pfb-conflict").get_by_role(
        "button", name="Keep both"
    ).click()
    expect(project(page, "demo").locator(".jp-pfb-conflict")).to_have_count(0)

    dialog = create_in_dialog(page, "demo")
    accept(dialog)
    expect(dialog.locator(".jp-pfb-formError")).to_be_visible()
    shot(page, "08-create-error-dark")
    dialog.locator(".jp-Dialog-footer button.jp-mod-reject").click()


def test_offline_and_reconnect(page: Page, lab: Lab) -> None:
    lab.stop()
    banner = panel(page).locator('.jp-pfb-banner[data-connection="offline"]')
    expect(banner).to_be_visible(timeout=20_000)
    expect(banner).to_contain_text("Offline")
    expect(banner).to_contain_text("Retrying in")
    expect(project(page, "demo").locator(".jp-pfb-badge[data-status]")).to_have_attribute(
        "data-status", "offline"
    )
    expect(page.locator(".jp-pfb-statusItem")).to_have_attribute("data-status", "offline")
    shot(page, "09-offline-dark")

    lab.start()
    with contextlib.suppress(PlaywrightTimeoutError):  # unless it reconnected already
        banner.get_by_role("button", name="Reconnect now").click(timeout=2_000)
    expect(panel(page).locator(".jp-pfb-banner[data-connection]")).to_have_count(0, timeout=30_000)
    expect(project(page, "demo").locator(".jp-pfb-badge[data-status]")).not_to_have_attribute(
        "data-status", "offline"
    )
    # and it is live again: an outside write shows up
    (lab.root / "projects" / "demo" / "after.txt").write_text("back online\n")
    expect(file_row(page, "demo", "after.txt")).to_have_attribute(
        "data-state", "synced", timeout=20_000
    )
