"""Open documents follow the cloud, in real Chromium, with two JupyterLab servers of one user
on one standalone cloud (issue 13, item 2).

``nb.ipynb`` is open in lab two's browser tab; lab one saves new versions of it through
Jupyter's contents API (what its editor's save does). The steps run in order on one page:
a clean tab reloads by itself (kernel and scroll position kept) and says by whom; a tab with
unsaved edits asks at once, and "Reload" and "Keep mine" each leave both versions visible
(at the path and as a conflict copy, synced, with a Conflict entry); so does JupyterLab's own
"File Changed" → Overwrite; no "File Changed" dialog follows. Screenshots:
``test-artifacts/ui/documents-*.png``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import nbformat
import pytest
from playwright.sync_api import Locator, Page, expect

from support.labs import CHROMIUM, Lab, TwoLabs
from support.pages import dirty, save_until_clean, shot, wait_for_lab
from support.pages import save_in as save_notebook
from support.polling import eventually

if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)"
        " to run the browser tests",
        allow_module_level=True,
    )

PROJECT = "docs"
NB = "nb.ipynb"
CELLS = 40  # enough to scroll
DIALOG = ".jp-Dialog.jp-pfb-documentChanged"
RELOAD = "Reload (your edits are kept as a conflict copy)"
KEEP_MINE = "Keep mine (the cloud version is kept as a conflict copy)"
COPY = re.compile(r"^nb \(conflict [0-9-]+ [0-9]+( [0-9]+)?\)\.ipynb$")


def notebook(marker: str) -> dict[str, Any]:
    """A notebook whose first cell says ``marker``, long enough to scroll."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(f"marker = {marker!r}")] + [
        nbformat.v4.new_markdown_cell(f"## Section {i}\n\nSome text of section {i}.")
        for i in range(CELLS)
    ]
    return json.loads(nbformat.writes(nb))


def save_in(lab: Lab, content: dict[str, Any]) -> None:
    """What a save in that lab's editor does."""
    save_notebook(lab, f"projects/{PROJECT}/{NB}", content)


def first_cell(path: Path) -> str:
    """The source of the notebook's first cell ("" while it is being written: Jupyter's
    save truncates the file, then writes it)."""
    try:
        return str(nbformat.reads(path.read_text(), as_version=4).cells[0].source)
    except (FileNotFoundError, nbformat.reader.NotJSONError):
        return ""


def copies(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if COPY.match(p.name))


def project_id(lab: Lab) -> str:
    return next(p["id"] for p in lab.api("GET", "projects")["items"] if p["name"] == PROJECT)


def cloud_text(two_labs: TwoLabs, path: str) -> str | None:
    """The file's text in the cloud (None: not there, or no answer yet on a busy machine)."""
    try:
        with two_labs.cloud_client() as cloud:
            response = cloud.get(f"/projects/{project_id(two_labs.one)}/files/{path}")
    except httpx.TimeoutException:
        return None
    return response.text if response.status_code == 200 else None


def listed_as_conflict(lab: Lab, copy: str) -> bool:
    try:
        conflicts = lab.api("GET", "conflicts")["items"]
    except httpx.TimeoutException:
        return False
    return any(c["conflict_path"] == copy and c["path"] == NB for c in conflicts)


def kernel_id(lab: Lab) -> str | None:
    response = httpx.get(
        f"{lab.base}api/sessions", headers={"Authorization": f"token {lab.token}"}, timeout=10
    )
    response.raise_for_status()
    for session in response.json():
        if session["path"].endswith(f"{PROJECT}/{NB}") and session.get("kernel"):
            return str(session["kernel"]["id"])
    return None


@pytest.fixture(scope="module")
def folders(two_labs: TwoLabs) -> tuple[Path, Path]:
    """The project on both labs, ``nb.ipynb`` synced to both. Autosave off in lab two (a
    save the test did not ask for would make the steps depend on timing)."""
    settings = two_labs.two.config_dir / "lab" / "user-settings" / "@jupyterlab"
    (settings / "docmanager-extension").mkdir(parents=True, exist_ok=True)
    (settings / "docmanager-extension" / "plugin.jupyterlab-settings").write_text(
        json.dumps({"autosave": False})
    )
    created = two_labs.one.api("POST", "projects", body={"name": PROJECT})
    one = two_labs.one.root / "projects" / PROJECT
    two = two_labs.two.root / "projects" / PROJECT
    save_in(two_labs.one, notebook("v1"))
    eventually(lambda: cloud_text(two_labs, NB), timeout=90, what="nb.ipynb in the cloud")
    two_labs.two.api("POST", "projects", created["id"], "link", body={})
    eventually(lambda: (two / NB).exists(), timeout=30, what="nb.ipynb on lab two")
    return one, two


@pytest.fixture(scope="module")
def tab(two_labs: TwoLabs, folders: tuple[Path, Path], two_pages: Any) -> Iterator[Page]:
    """Lab two's browser page with nb.ipynb open and its kernel started."""
    page: Page = two_pages[1]
    lab = two_labs.two
    page.goto(f"{lab.base}lab/tree/projects/{PROJECT}/{NB}?token={lab.token}")
    wait_for_lab(page)
    expect(cell_text(page, 0)).to_contain_text("v1", timeout=30_000)
    eventually(lambda: kernel_id(lab), timeout=60, what="the notebook's kernel")
    save_until_clean(page)
    assert not dirty(page)
    no_dialog_follows(page)
    yield page


def cell_text(page: Page, index: int) -> Locator:
    return page.locator(".jp-NotebookPanel .jp-Cell").nth(index).locator(".jp-InputArea")


def scroller(page: Page) -> Locator:
    return page.locator(".jp-NotebookPanel .jp-WindowedPanel-outer")


def edit_first_cell(page: Page, text: str) -> None:
    """Type at the end of the first cell: the tab has unsaved edits."""
    scroller(page).evaluate("node => { node.scrollTop = 0; }")
    editor = page.locator(".jp-NotebookPanel .jp-Cell").first.locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text)
    eventually(lambda: dirty(page), what="the tab marked as edited")


def edited_while_saved_elsewhere(page: Page, two_labs: TwoLabs, edit: str, version: str) -> Locator:
    """Edit the tab, let lab one save ``version``: the tab asks (the dialog, visible)."""
    edit_first_cell(page, edit)
    save_in(two_labs.one, notebook(version))
    dialog = page.locator(DIALOG)
    expect(dialog).to_be_visible(timeout=30_000)
    return dialog


def no_dialog_follows(page: Page) -> None:
    """No dialog comes up (neither ours again nor JupyterLab's "File Changed")."""
    page.wait_for_timeout(4000)  # a sync round trip; time is not asserted on
    if page.locator(".jp-Dialog").count():
        shot(page, "documents-unexpected-dialog")
    expect(page.locator(".jp-Dialog")).to_have_count(0)


def assert_both_kept(
    two_labs: TwoLabs, folders: tuple[Path, Path], before: list[Path], at_path: str, copy: str
) -> None:
    """``at_path`` is at nb.ipynb and ``copy`` in one new conflict copy, on both labs and in
    the cloud, and lab two lists the copy as a conflict."""
    one, two = folders
    [new] = eventually(
        lambda: [p for p in copies(two) if p not in before] or None, what="a new conflict copy"
    )
    eventually(lambda: first_cell(new) == copy, what="the copy's content")
    eventually(lambda: first_cell(two / NB) == at_path, what=f"{at_path} at the path on two")
    eventually(lambda: first_cell(one / NB) == at_path, timeout=30, what="the path on one")
    eventually(lambda: (one / new.name).exists(), timeout=30, what="the copy on lab one")
    eventually(lambda: first_cell(one / new.name) == copy, what="the copy's content on one")
    text = eventually(lambda: cloud_text(two_labs, new.name), timeout=30, what="copy in cloud")
    assert nbformat.reads(text, as_version=4).cells[0].source == copy
    eventually(lambda: listed_as_conflict(two_labs.two, new.name), what="the Conflict entry")


def test_a_clean_tab_reloads_the_other_labs_save(
    two_labs: TwoLabs, folders: tuple[Path, Path], tab: Page
) -> None:
    page = tab
    kernel = kernel_id(two_labs.two)
    scroller(page).evaluate("node => { node.scrollTop = 600; }")
    top = scroller(page).evaluate("node => node.scrollTop")
    assert top > 0
    save_in(two_labs.one, notebook("v2 from one"))
    eventually(
        lambda: "v2 from one" in first_cell(folders[1] / NB), timeout=60, what="v2 on lab two"
    )
    # the quiet notification, in JupyterLab's notification list (its toast closes by itself)
    page.locator(".jp-Notification-Status").click()
    center = page.locator(".jp-Notification-Center")
    expect(center.get_by_text(f"updated from the cloud by {two_labs.username}")).to_be_visible(
        timeout=30_000
    )
    shot(page, "documents-1-reloaded")
    page.locator(".jp-Notification-Status").click()
    expect(center).to_have_count(0)
    expect(page.locator(DIALOG)).to_have_count(0)
    assert kernel_id(two_labs.two) == kernel  # the same kernel: not restarted
    assert abs(scroller(page).evaluate("node => node.scrollTop") - top) < 50
    scroller(page).evaluate("node => { node.scrollTop = 0; }")
    expect(cell_text(page, 0)).to_contain_text("v2 from one")
    # saving now is no conflict: no "File Changed" dialog
    page.locator(".jp-NotebookPanel .jp-Cell").first.click()
    page.keyboard.press("Control+s")
    no_dialog_follows(page)


def test_an_edited_tab_asks_and_reload_keeps_the_edits_as_a_copy(
    two_labs: TwoLabs, folders: tuple[Path, Path], tab: Page
) -> None:
    page = tab
    before = copies(folders[1])
    dialog = edited_while_saved_elsewhere(page, two_labs, " # edit in two A", "v3 from one")
    expect(dialog.get_by_role("button", name=RELOAD)).to_be_visible()
    expect(dialog.get_by_role("button", name=KEEP_MINE)).to_be_visible()
    expect(dialog).to_contain_text(two_labs.username)
    shot(page, "documents-2-asked")
    dialog.get_by_role("button", name=RELOAD).click()
    expect(cell_text(page, 0)).to_contain_text("v3 from one", timeout=20_000)
    expect(cell_text(page, 0)).not_to_contain_text("edit in two A")
    assert_both_kept(
        two_labs,
        folders,
        before,
        "marker = 'v3 from one'",
        "marker = 'v2 from one' # edit in two A",
    )
    page.keyboard.press("Control+s")
    no_dialog_follows(page)
    shot(page, "documents-3-reloaded-copy-kept")


def test_keep_mine_keeps_the_cloud_version_as_a_copy(
    two_labs: TwoLabs, folders: tuple[Path, Path], tab: Page
) -> None:
    page = tab
    before = copies(folders[1])
    dialog = edited_while_saved_elsewhere(page, two_labs, " # edit in two B", "v4 from one")
    dialog.get_by_role("button", name=KEEP_MINE).click()
    expect(dialog).to_have_count(0)
    assert_both_kept(
        two_labs,
        folders,
        before,
        "marker = 'v3 from one' # edit in two B",
        "marker = 'v4 from one'",
    )
    expect(cell_text(page, 0)).to_contain_text("edit in two B")
    page.keyboard.press("Control+s")
    no_dialog_follows(page)


def test_jupyterlabs_overwrite_keeps_the_cloud_version_as_a_copy(
    two_labs: TwoLabs, folders: tuple[Path, Path], tab: Page
) -> None:
    page = tab
    before = copies(folders[1])
    dialog = edited_while_saved_elsewhere(page, two_labs, " # edit in two C", "v5 from one")
    page.keyboard.press("Escape")  # no choice made here ...
    expect(dialog).to_have_count(0)
    page.locator(".jp-NotebookPanel .jp-Cell").first.click()
    page.keyboard.press("Control+s")  # ... JupyterLab's own "File Changed" dialog then
    changed = page.locator(".jp-Dialog").filter(has_text="File Changed")
    expect(changed).to_be_visible()
    shot(page, "documents-4-jupyterlab-file-changed")
    changed.get_by_role("button", name="Overwrite").click()
    assert_both_kept(
        two_labs,
        folders,
        before,
        "marker = 'v3 from one' # edit in two B # edit in two C",
        "marker = 'v5 from one'",
    )
    # this save's own notice (the previous test's "Kept your version…" may still show)
    expect(page.get_by_text("Saved your version of nb.ipynb")).to_be_visible()
    page.keyboard.press("Control+s")
    no_dialog_follows(page)
    shot(page, "documents-5-overwrite-copy-kept")


def test_jupyterlabs_revert_keeps_the_edits_as_a_copy(
    two_labs: TwoLabs, folders: tuple[Path, Path], tab: Page
) -> None:
    page = tab
    before = copies(folders[1])
    mine = "marker = 'v3 from one' # edit in two B # edit in two C # edit in two D"
    dialog = edited_while_saved_elsewhere(page, two_labs, " # edit in two D", "v6 from one")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    page.locator(".jp-NotebookPanel .jp-Cell").first.click()
    page.keyboard.press("Control+s")
    changed = page.locator(".jp-Dialog").filter(has_text="File Changed")
    expect(changed).to_be_visible()
    changed.get_by_role("button", name="Revert").click()
    expect(cell_text(page, 0)).to_contain_text("v6 from one", timeout=20_000)
    assert_both_kept(two_labs, folders, before, "marker = 'v6 from one'", mine)
    page.keyboard.press("Control+s")
    no_dialog_follows(page)
