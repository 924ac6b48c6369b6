"""Page helpers of the browser tests: a page of its own, find the sidebar's parts, open
JupyterLab, take screenshots."""

from __future__ import annotations

import sys
from typing import Any

import httpx
from playwright.sync_api import Browser, Locator, Page, expect

from support.labs import ARTIFACTS, Lab

PANEL = "#project-filebrowser-panel"
TAB = '.jp-SideBar .lm-TabBar-tab[data-id="project-filebrowser-panel"]'


def new_page(browser: Browser) -> Page:
    """A page in a context of its own (its own storage), errors of its console printed."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.on(
        "console",
        lambda message: (
            message.type == "error" and print(f"[browser console] {message.text}", file=sys.stderr)
        ),
    )
    return page


def shot(page: Page, name: str) -> None:
    """A screenshot of the whole window, after animations settle."""
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), animations="disabled")


def panel(page: Page) -> Locator:
    return page.locator(PANEL)


def project(page: Page, name: str) -> Locator:
    return panel(page).locator(f'.jp-pfb-project[data-project-name="{name}"]')


def file_row(page: Page, name: str, path: str) -> Locator:
    return project(page, name).locator(f'.jp-pfb-file[data-path="{path}"]')


def toolbar_button(page: Page, command: str) -> Locator:
    return panel(page).locator(f'.jp-SidePanel-toolbar [data-command="{command}"]')


def save_in(lab: Lab, path: str, content: dict[str, Any]) -> None:
    """What a save of notebook ``path`` in that lab's editor does: a PUT through Jupyter's
    contents API."""
    response = httpx.put(
        f"{lab.base}api/contents/{path}",
        json={"type": "notebook", "format": "json", "content": content},
        headers={"Authorization": f"token {lab.token}"},
        timeout=10,
    )
    response.raise_for_status()


def dirty(page: Page) -> bool:
    """The current tab has unsaved edits."""
    return page.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty").count() == 1


def save_until_clean(page: Page) -> None:
    """Save the open notebook until its tab stays clean: the kernel's start fills in the
    notebook's metadata (an edit), maybe after the first save."""
    page.locator(".jp-NotebookPanel .jp-Cell").first.click()
    clean = 0
    for _ in range(60):
        if dirty(page):
            clean = 0
            page.keyboard.press("Control+s")
        else:
            clean += 1
            if clean == 5:
                return
        page.wait_for_timeout(500)
    raise AssertionError("the tab does not stay clean")


def wait_for_lab(page: Page) -> None:
    """Until JupyterLab has restored its layout (the splash screen is gone)."""
    page.wait_for_selector("#jp-main-dock-panel", state="attached", timeout=60_000)
    page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=60_000)
    page.locator(TAB).wait_for()


def open_lab(page: Page, lab: Lab) -> None:
    page.goto(lab.url)
    wait_for_lab(page)


def open_panel(page: Page) -> None:
    if page.locator(TAB).get_attribute("aria-selected") != "true":
        page.locator(TAB).click()
    expect(panel(page)).to_be_visible()


def expand(page: Page, name: str) -> None:
    toggle = project(page, name).locator(".jp-pfb-toggle")
    if toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")


def create_in_dialog(page: Page, name: str, title: str = "", description: str = "") -> Locator:
    toolbar_button(page, "project-filebrowser:create").click()
    dialog = page.locator(".jp-Dialog.jp-pfb-createDialog")
    expect(dialog).to_be_visible()
    dialog.locator("#jp-pfb-create-name").fill(name)
    if title:
        dialog.locator("#jp-pfb-create-title").fill(title)
    if description:
        dialog.locator("#jp-pfb-create-description").fill(description)
    return dialog


def accept(dialog: Locator) -> None:
    dialog.locator(".jp-Dialog-footer button.jp-mod-accept").click()
