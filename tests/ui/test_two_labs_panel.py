"""What the panel shows is true, on two JupyterLab servers of one user on one cloud, in
headless Chromium: a project made in one lab appears in the other live; an edit saved
while the cloud is down shows at once as pending with its new size, and the project and
status bar say "offline — N changes waiting"; a conflict is one entry on both machines,
and resolving it on one resolves it on the other.

The tests run in order on one pair of labs (each step builds on the one before).
Screenshots: `test-artifacts/ui/two-*.png`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from support.labs import CHROMIUM, TwoLabs
from support.pages import expand, file_row, open_lab, open_panel, panel, project, shot
from support.polling import eventually

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing", allow_module_level=True)

NAME = "pair"
NB = "nb.ipynb"


def notebook(size: int, fill: str) -> bytes:
    """A small valid notebook of exactly ``size`` bytes."""
    head = b'{"cells": [], "metadata": {"x": "'
    tail = b'"}, "nbformat": 4, "nbformat_minor": 5}\n'
    return head + fill.encode() * (size - len(head) - len(tail)) + tail


@pytest.fixture(scope="module")
def pages(two_labs: TwoLabs, two_pages: tuple[Page, Page]) -> tuple[Page, Page]:
    for page, lab in zip(two_pages, (two_labs.one, two_labs.two), strict=True):
        open_lab(page, lab)
        open_panel(page)
    return two_pages


@pytest.fixture(scope="module")
def folders(two_labs: TwoLabs) -> tuple[Path, Path]:
    return (two_labs.one.root / "projects" / NAME, two_labs.two.root / "projects" / NAME)


def badge(page: Page) -> Any:
    return project(page, NAME).locator(".jp-pfb-projectRow .jp-pfb-badge[data-status]")


def test_a_project_made_in_lab_one_appears_in_lab_two_live(
    two_labs: TwoLabs, pages: tuple[Page, Page]
) -> None:
    one, two = pages
    offer = panel(two).locator(f'.jp-pfb-cloudProject[data-project-name="{NAME}"]')
    expect(offer).to_have_count(0)
    created = two_labs.one.api("POST", "projects", body={"name": NAME})
    expect(project(one, NAME)).to_be_visible()
    expect(offer).to_be_visible()  # no refresh: the cloud's stream told lab two
    shot(two, "two-01-offered-live")
    two_labs.two.api("POST", "projects", created["id"], "link", body={})
    expect(project(two, NAME)).to_be_visible()
    expect(offer).to_have_count(0)


def test_an_edit_saved_while_the_cloud_is_down_shows_as_pending(
    two_labs: TwoLabs, pages: tuple[Page, Page], folders: tuple[Path, Path]
) -> None:
    one, _two = pages
    (folders[0] / NB).write_bytes(notebook(879, "a"))
    expand(one, NAME)
    row = file_row(one, NAME, NB)
    expect(row).to_have_attribute("data-state", "synced")
    expect(row.locator(".jp-pfb-fileSize")).to_have_text("879 B")
    eventually(lambda: (folders[1] / NB).exists(), what="nb.ipynb in lab two")

    two_labs.stop_cloud()
    try:
        (folders[0] / NB).write_bytes(notebook(890, "b"))  # saved while the cloud is down
        expect(row).to_have_attribute("data-state", "pending_push")
        expect(row.locator(".jp-pfb-fileSize")).to_have_text("890 B")
        expect(badge(one)).to_have_attribute("data-status", "offline")
        expect(badge(one)).to_have_text("offline \u2014 1 change waiting")
        status = one.locator(".jp-pfb-statusItem")
        expect(status).to_have_attribute("data-status", "offline")
        expect(status).to_contain_text("1 change waiting")
        expect(project(one, NAME).locator(".jp-pfb-projectError")).to_contain_text(
            f"The cloud at {two_labs.cloud.url} cannot be reached; 1 change will sync"
        )
        one.mouse.move(700, 400)  # the row's hover actions would cover the badge
        shot(one, "two-02-offline-pending")

        # "Sync now" says why nothing happens
        project(one, NAME).locator(".jp-pfb-bodyActions button", has_text="Sync now").click()
        expect(one.locator(".jp-Notification-Toast, .Toastify__toast").last).to_contain_text(
            "cannot be reached", timeout=30_000
        )
        shot(one, "two-03-sync-now-offline")
    finally:
        two_labs.start_cloud()
    expect(row).to_have_attribute("data-state", "synced", timeout=60_000)
    expect(badge(one)).to_have_attribute("data-status", "synced")
    eventually(lambda: (folders[1] / NB).stat().st_size == 890, 60, what="the edit in lab two")


def conflicts(page: Page) -> Any:
    return project(page, NAME).locator(".jp-pfb-conflict")


def test_a_conflict_is_one_entry_on_both_machines_and_resolves_on_both(
    two_labs: TwoLabs, pages: tuple[Page, Page], folders: tuple[Path, Path]
) -> None:
    for page in pages:
        expand(page, NAME)
    two_labs.stop_cloud()  # both edit the same notebook while neither can push
    try:
        (folders[0] / NB).write_bytes(notebook(900, "c"))
        (folders[1] / NB).write_bytes(notebook(901, "d"))
        for page in pages:
            expect(file_row(page, NAME, NB)).to_have_attribute("data-state", "pending_push")
    finally:
        two_labs.start_cloud()

    for page in pages:  # one conflict, one entry, counted once, on each machine
        expect(conflicts(page)).to_have_count(1, timeout=60_000)
        item = project(page, NAME)
        expect(item.locator(".jp-pfb-projectRow .jp-pfb-mod-conflict")).to_have_text("1")
        expect(item.locator(".jp-pfb-count").last).to_contain_text("1 conflict")
        expect(item.locator(".jp-pfb-count").last).not_to_contain_text("2 conflicts")
    copies = [sorted(p.name for p in folder.glob("nb (conflict *).ipynb")) for folder in folders]
    assert copies[0] == copies[1] and len(copies[0]) == 1, copies
    made_here = [
        next(c for c in lab.api("GET", "conflicts")["items"] if not c["resolved"])["made_here"]
        for lab in (two_labs.one, two_labs.two)
    ]
    assert sorted(made_here) == [False, True], made_here
    other = pages[made_here.index(False)]
    expect(conflicts(other)).to_contain_text("copied on another machine")
    expect(other.locator(".Toastify__toast", has_text="changed on two machines")).to_be_visible()
    shot(pages[0], "two-04-conflict-one")
    shot(pages[1], "two-05-conflict-two")

    # resolved on the machine that did not make the copy: keep the version at the path
    conflicts(other).locator("button", has_text="Keep the path").click()
    for page in pages:
        expect(conflicts(page)).to_have_count(0, timeout=60_000)
        expect(
            project(page, NAME).locator(".jp-pfb-projectRow .jp-pfb-mod-conflict")
        ).to_have_count(0)
    for folder in folders:
        eventually(lambda f=folder: not list(f.glob("nb (conflict *).ipynb")), 60, what="copy gone")
    assert (folders[0] / NB).read_bytes() == (folders[1] / NB).read_bytes()
    shot(pages[0], "two-06-resolved-everywhere")
