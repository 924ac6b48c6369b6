"""A file's history in a real JupyterLab, in headless Chromium (issue 17).

The steps run in order on one server and one page, as one user's session: a notebook saved
three times through Jupyter's contents API has three revisions in its History view
(opened from the sidebar's file tree); a revision shows read-only; the diff with the
previous revision shows the changed cell (nbdime's widgets); the History… item of
JupyterLab's file browser opens the same view; restoring the oldest revision (after a
confirmation) changes the open notebook and adds a revision; a checkpoint is made and
listed; a deleted file is listed and restored. Screenshots:
``test-artifacts/ui/history-*.png``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import nbformat
import pytest
from playwright.sync_api import Locator, Page, expect

from support.labs import CHROMIUM, Lab
from support.pages import (
    expand,
    file_row,
    open_lab,
    open_panel,
    project,
    save_in,
    save_until_clean,
    shot,
    wait_for_lab,
)
from support.polling import eventually

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)", allow_module_level=True)

PROJECT = "hist"
NB = "nb.ipynb"
VALUES = ("one", "two", "three")
HISTORY = f'.jp-pfb-history[data-path="{NB}"]'


def notebook(value: str) -> dict[str, Any]:
    """A notebook whose first cell sets ``value``; a markdown cell that stays the same."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_code_cell(f"value = {value!r}"),
        nbformat.v4.new_markdown_cell("## Notes\n\nThis cell does not change."),
    ]
    return json.loads(nbformat.writes(nb))


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """The module's JupyterLab, autosave off (a save the test did not ask for would add a
    revision)."""
    home = tmp_path_factory.mktemp("lab")
    server = Lab(root=home / "root", home=home)
    server.prepare()
    settings = server.config_dir / "lab" / "user-settings" / "@jupyterlab" / "docmanager-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def history(lab: Lab, project_id: str, path: str = NB) -> list[dict[str, Any]]:
    """The file's revisions, newest first ([] while the cloud has none: a 404)."""
    try:
        page = lab.api("GET", "projects", project_id, "history", quote(path))
    except httpx.HTTPStatusError as error:
        if error.response.status_code == 404:
            return []
        raise
    items: list[dict[str, Any]] = page["items"]
    return items


@pytest.fixture(scope="module")
def project_id(lab: Lab) -> str:
    """The project, with nb.ipynb saved three times, each save synced as a revision. Skipped
    when the server has no history route (Tornado's own 404, not the extension's)."""
    made = lab.api("POST", "projects", body={"name": PROJECT})
    probe = httpx.get(
        f"{lab.base}project-filebrowser/api/projects/{made['id']}/history/{NB}",
        headers={"Authorization": f"token {lab.token}"},
        timeout=10,
    )
    if probe.status_code == 404 and '"error"' not in probe.text:
        pytest.skip("the server has no history routes (GET /projects/{id}/history/{path})")
    for count, value in enumerate(VALUES, start=1):
        save_in(lab, f"projects/{PROJECT}/{NB}", notebook(value))
        eventually(
            lambda: len(history(lab, made["id"])) == count,  # noqa: B023
            timeout=60,
            what=f"revision {count} of {NB} in the history",
        )
    return str(made["id"])


def revisions(page: Page) -> Locator:
    return page.locator(f"{HISTORY} .jp-pfb-revision")


def first_cell(page: Page) -> Locator:
    return page.locator(".jp-NotebookPanel .jp-Cell").first.locator(".jp-InputArea")


def cell_on_disk(path: Path) -> str:
    try:
        return str(nbformat.reads(path.read_text(), as_version=4).cells[0].source)
    except (FileNotFoundError, nbformat.reader.NotJSONError):
        return ""


# -- the tests, in order ------------------------------------------------------------------


def test_history_lists_the_three_saves(page: Page, lab: Lab, project_id: str) -> None:
    open_lab(page, lab)
    open_panel(page)
    expand(page, PROJECT)
    row = file_row(page, PROJECT, NB)
    expect(row).to_be_visible()
    row.hover()
    row.locator(".jp-pfb-historyAction").click()
    view = page.locator(HISTORY)
    expect(view).to_be_visible()
    expect(revisions(page)).to_have_count(3)
    expect(revisions(page).first).to_contain_text("newest")
    # the newest is selected and previewed read-only
    expect(revisions(page).first).to_have_attribute("aria-selected", "true")
    preview = view.locator(".jp-pfb-nbPreview")
    expect(preview).to_contain_text("value = 'three'")
    expect(preview).to_contain_text("This cell does not change.")
    shot(page, "history-01-list-and-preview")

    revisions(page).nth(2).click()
    expect(preview).to_contain_text("value = 'one'")


def test_diff_with_the_previous_revision_shows_the_changed_cell(
    page: Page, project_id: str
) -> None:
    view = page.locator(HISTORY)
    revisions(page).first.click()
    view.locator('.jp-pfb-viewButton[data-view="previous"]').click()
    diff = view.locator(".jp-pfb-nbDiff")
    expect(diff).to_be_visible(timeout=30_000)
    expect(diff).to_contain_text("three")
    expect(diff).to_contain_text("two")
    # nbdime marks the changed source; the unchanged markdown cell is there too
    expect(
        diff.locator(".jp-Diff-twoway, .jp-Diff-unchanged, .jp-Cellrow-source").first
    ).to_be_visible()
    shot(page, "history-02-diff-previous")

    view.locator('.jp-pfb-viewButton[data-view="current"]').click()
    expect(view.locator(".jp-pfb-historyDetail")).to_have_attribute("data-view", "current")
    expect(view.locator(".jp-pfb-historyDetail")).to_contain_text("No differences.")


def test_file_browser_context_menu_opens_the_same_view(
    page: Page, lab: Lab, project_id: str
) -> None:
    project(page, PROJECT).locator(".jp-pfb-bodyActions button", has_text="Folder").click()
    item = page.locator(".jp-DirListing-item", has_text=NB)
    expect(item).to_be_visible()
    item.click(button="right")
    entry = page.locator('.lm-Menu-item[data-command="project-filebrowser:history"]')
    expect(entry).to_be_visible()
    shot(page, "history-03-file-browser-menu")
    entry.click()
    expect(page.locator(HISTORY)).to_have_count(1)  # reused, not a second one
    expect(page.locator(HISTORY)).to_be_visible()


def test_restore_the_oldest_changes_the_open_notebook(
    page: Page, lab: Lab, project_id: str
) -> None:
    path = lab.root / "projects" / PROJECT / NB
    # open the notebook first; the kernel's start edits its metadata: save until clean
    open_panel(page)
    file_row(page, PROJECT, NB).locator(".jp-pfb-fileButton").click()
    expect(first_cell(page)).to_contain_text("three", timeout=30_000)
    save_until_clean(page)
    eventually(lambda: cell_on_disk(path) == "value = 'three'", what="the saved notebook")
    page.wait_for_timeout(3000)  # the save's sync (a revision when the metadata changed)
    before = len(history(lab, project_id))

    page.locator(".lm-TabBar-tab", has_text="History: nb.ipynb").click()
    view = page.locator(HISTORY)
    view.locator(".jp-pfb-historyHeader button", has_text="Refresh").click()
    expect(revisions(page)).to_have_count(before)
    oldest = revisions(page).last
    oldest.click()
    view.locator('.jp-pfb-viewButton[data-view="preview"]').click()
    expect(view.locator(".jp-pfb-nbPreview")).to_contain_text("value = 'one'")
    view.locator(".jp-pfb-restoreButton").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("The current version stays in the history")
    expect(dialog).to_contain_text("Unsynced edits on this machine are kept first.")
    shot(page, "history-04-restore-question")
    dialog.locator(".jp-Dialog-footer button.jp-mod-accept").click()

    expect(revisions(page)).to_have_count(before + 1, timeout=30_000)
    expect(revisions(page).first).to_have_attribute("aria-selected", "true")
    expect(view.locator(".jp-pfb-nbPreview")).to_contain_text("value = 'one'")
    eventually(lambda: cell_on_disk(path) == "value = 'one'", what="the restored file on disk")
    shot(page, "history-05-restored")

    tab_label = page.locator(".lm-TabBar-tabLabel", has_text=re.compile(rf"^{re.escape(NB)}$"))
    page.locator(".lm-TabBar-tab", has=tab_label).click()
    expect(page.locator(".jp-NotebookPanel")).to_be_visible()
    expect(first_cell(page)).to_contain_text("one", timeout=30_000)
    expect(page.locator(".jp-Dialog")).to_have_count(0)
    shot(page, "history-06-editor-reloaded")


def test_checkpoints_are_made_and_listed(page: Page, lab: Lab, project_id: str) -> None:
    open_panel(page)
    project(page, PROJECT).locator(".jp-pfb-checkpointsButton").click()
    view = page.locator(f'.jp-pfb-mod-checkpoints[data-project-id="{project_id}"]')
    expect(view).to_be_visible()
    view.locator(".jp-pfb-createCheckpoint").click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator("input").fill("before cleanup")
    dialog.locator(".jp-Dialog-footer button.jp-mod-accept").click()
    expect(view.locator(".jp-pfb-checkpoint", has_text="before cleanup")).to_be_visible()
    shot(page, "history-07-checkpoints")


def test_a_deleted_file_is_listed_and_restored(page: Page, lab: Lab, project_id: str) -> None:
    folder = lab.root / "projects" / PROJECT
    (folder / "old notes #1.txt").write_text("to be deleted\n")
    eventually(
        lambda: len(history(lab, project_id, "old notes #1.txt")) == 1,
        timeout=60,
        what="the text file synced",
    )
    (folder / "old notes #1.txt").unlink()
    eventually(
        lambda: any(
            item["path"] == "old notes #1.txt"
            for item in lab.api("GET", "projects", project_id, "deleted")["items"]
        ),
        timeout=60,
        what="the deletion synced",
    )
    open_panel(page)
    project(page, PROJECT).locator(".jp-pfb-deletedFilesButton").click()
    view = page.locator(f'.jp-pfb-mod-deletedFiles[data-project-id="{project_id}"]')
    row = view.locator('.jp-pfb-deletedFile[data-path="old notes #1.txt"]')
    expect(row).to_be_visible()
    shot(page, "history-08-deleted-files")
    row.locator(".jp-pfb-restoreButton").click()
    expect(row).to_contain_text("restored", timeout=30_000)
    eventually(lambda: (folder / "old notes #1.txt").exists(), timeout=30, what="the file back")
    assert (folder / "old notes #1.txt").read_text() == "to be deleted\n"

    # its history: written, deleted (marked), restored; a text preview
    row.locator("button", has_text="History…").click()
    view = page.locator('.jp-pfb-history[data-path="old notes #1.txt"]')
    expect(view).to_be_visible()
    expect(view.locator(".jp-pfb-revision")).to_have_count(3, timeout=30_000)
    expect(view.locator(".jp-pfb-revision.jp-pfb-mod-deleted")).to_have_count(1)
    expect(view.locator(".jp-pfb-textPreview")).to_contain_text("to be deleted")
    view.locator(".jp-pfb-revision").nth(1).click()
    expect(view.locator(".jp-pfb-historyDetail")).to_contain_text("deleted in this revision")
    shot(page, "history-09-text-file-with-deletion")

    # a new version shows up by itself; the unified diff with the one before shows the
    # added line
    (folder / "old notes #1.txt").write_text("to be deleted\nand a new line\n")
    expect(view.locator(".jp-pfb-revision")).to_have_count(4, timeout=60_000)
    view.locator(".jp-pfb-revision").first.click()
    view.locator('.jp-pfb-viewButton[data-view="previous"]').click()
    added = view.locator(".jp-pfb-diffLine.jp-pfb-mod-add", has_text="and a new line")
    expect(added).to_be_visible()
    expect(view.locator(".jp-pfb-unifiedDiff")).to_contain_text("1 line added")
    shot(page, "history-10-text-diff")


def test_restoring_a_checkpoint_can_be_undone(page: Page, lab: Lab, project_id: str) -> None:
    page.locator(".lm-TabBar-tab", has_text="Checkpoints: hist").click()
    view = page.locator(f'.jp-pfb-mod-checkpoints[data-project-id="{project_id}"]')
    checkpoint = view.locator(".jp-pfb-checkpoint", has_text="before cleanup")
    checkpoint.locator(".jp-pfb-restoreButton").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("An automatic checkpoint is made first")
    shot(page, "history-11-checkpoint-question")
    dialog.locator(".jp-Dialog-footer button.jp-mod-accept").click()
    expect(view.locator(".jp-pfb-checkpoint", has_text="before restore of")).to_be_visible(
        timeout=60_000
    )
    expect(page.locator(".Toastify__toast", has_text="To undo, restore")).to_be_visible()
    shot(page, "history-12-checkpoint-restored")


def test_history_in_the_dark_theme(page: Page, lab: Lab, project_id: str) -> None:
    httpx.put(
        f"{lab.base}lab/api/settings/@jupyterlab/apputils-extension:themes",
        json={"raw": '{"theme": "JupyterLab Dark"}'},
        headers={"Authorization": f"token {lab.token}"},
        timeout=10,
    ).raise_for_status()
    page.reload()
    wait_for_lab(page)
    page.wait_for_selector("body[data-jp-theme-name='JupyterLab Dark']", state="attached")
    open_panel(page)
    expand(page, PROJECT)
    row = file_row(page, PROJECT, NB)
    row.hover()
    row.locator(".jp-pfb-historyAction").click()
    view = page.locator(HISTORY)
    revisions(page).nth(2).click()  # the save of 'three' (before it: 'two')
    view.locator('.jp-pfb-viewButton[data-view="previous"]').click()
    expect(view.locator(".jp-pfb-nbDiff")).to_contain_text("three", timeout=30_000)
    shot(page, "history-14-diff-dark")
