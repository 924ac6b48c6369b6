"""Concurrent edits merge, in real Chromium, with two JupyterLab servers of one user on one
standalone cloud (issue 16).

``nb.ipynb`` is open in lab two's tab. With the cloud stopped, lab one saves an edit of the
first cell (through Jupyter's contents API, what its editor's save does) and the user edits
the last cell in lab two's tab and saves. When the cloud is back, both edits are in the
notebook on both labs and in the cloud, with no conflict copy; the lab that merged says
"Merged edits to nb.ipynb from another machine"; lab two's tab shows both edits and is not
marked as edited. Screenshots: ``test-artifacts/ui/merge-*.png``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest
from playwright.sync_api import Page, expect

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

PROJECT = "merging"
NB = "nb.ipynb"


def notebook(first: str, last: str) -> dict[str, Any]:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {  # no "Select Kernel" dialog on open
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_markdown_cell(first, id="first"),
        nbformat.v4.new_markdown_cell("## Method\n\nUnchanged.", id="middle"),
        nbformat.v4.new_markdown_cell(last, id="last"),
    ]
    return json.loads(nbformat.writes(nb))


def save_in(lab: Lab, content: dict[str, Any]) -> None:
    """What a save in that lab's editor does."""
    save_notebook(lab, f"projects/{PROJECT}/{NB}", content)


def sources(path: Path) -> list[str]:
    try:
        return [str(c.source) for c in nbformat.reads(path.read_text(), as_version=4).cells]
    except (FileNotFoundError, nbformat.reader.NotJSONError):
        return []  # being written


def merges(lab: Lab) -> int:
    return sum(job.get("merged", 0) for job in lab.api("GET", "jobs")["items"])


def test_edits_to_different_cells_on_two_labs_merge(
    two_labs: TwoLabs, two_pages: tuple[Page, Page]
) -> None:
    one_lab, two_lab = two_labs.one, two_labs.two
    settings = two_lab.config_dir / "lab" / "user-settings" / "@jupyterlab"
    (settings / "docmanager-extension").mkdir(parents=True, exist_ok=True)
    (settings / "docmanager-extension" / "plugin.jupyterlab-settings").write_text(
        json.dumps({"autosave": False})  # only the saves the test makes
    )
    created = one_lab.api("POST", "projects", body={"name": PROJECT})
    one = one_lab.root / "projects" / PROJECT
    two = two_lab.root / "projects" / PROJECT
    save_in(one_lab, notebook("# Results", "## Conclusion\n\nTo be written."))
    two_lab.api("POST", "projects", created["id"], "link", body={})
    eventually(lambda: len(sources(two / NB)) == 3, timeout=60, what="nb.ipynb on lab two")

    page_one, page = two_pages
    page_one.goto(f"{one_lab.base}lab?token={one_lab.token}")
    page.goto(f"{two_lab.base}lab/tree/projects/{PROJECT}/{NB}?token={two_lab.token}")
    wait_for_lab(page_one)
    wait_for_lab(page)
    cells = page.locator(".jp-NotebookPanel .jp-Cell")
    expect(cells).to_have_count(3, timeout=30_000)
    save_until_clean(page)
    eventually(  # lab two's saves (the kernel's metadata) have reached lab one
        lambda: (one / NB).read_bytes() == (two / NB).read_bytes(), timeout=30, what="in sync"
    )

    two_labs.stop_cloud()
    try:
        # lab one's editor changes the first cell of what it has (metadata kept)
        content = json.loads((one / NB).read_text())
        content["cells"][0]["source"] = "# Results, first run"
        save_in(one_lab, content)
        # the user edits the last cell in lab two and saves
        cells.nth(2).dblclick()  # a rendered markdown cell: into its editor
        editor = cells.nth(2).locator(".cm-content")
        editor.click()
        page.keyboard.press("Control+End")
        page.keyboard.type(" It works.")
        page.keyboard.press("Control+s")
        eventually(lambda: not dirty(page), what="lab two's save")
        eventually(lambda: "It works." in sources(two / NB)[2], what="lab two's edit on disk")
    finally:
        two_labs.start_cloud()

    both = [
        "# Results, first run",
        "## Method\n\nUnchanged.",
        "## Conclusion\n\nTo be written. It works.",
    ]
    eventually(lambda: sources(one / NB) == both, timeout=90, what="the merge on lab one")
    eventually(lambda: sources(two / NB) == both, timeout=90, what="the merge on lab two")
    for folder in (one, two):  # no conflict copy (.ipynb_checkpoints is Jupyter's, ignored)
        assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == [NB]
    assert one_lab.api("GET", "conflicts")["items"] == []
    assert two_lab.api("GET", "conflicts")["items"] == []

    # the lab that merged says so (which one merged depends on which pushed first)
    [told] = eventually(
        lambda: [p for p, lab in zip(two_pages, (one_lab, two_lab), strict=True) if merges(lab)],
        timeout=30,
        what="a job that merged",
    )
    told.locator(".jp-Notification-Status").click()
    center = told.locator(".jp-Notification-Center")
    expect(center.get_by_text("Merged edits to nb.ipynb from another machine")).to_be_visible(
        timeout=30_000
    )
    shot(told, "merge-1-notified")

    # lab two's tab shows both edits, and no unsaved edits
    expect(cells.nth(0)).to_contain_text("first run", timeout=30_000)
    page.keyboard.press("Escape")
    expect(cells.nth(2)).to_contain_text("It works.")
    assert not dirty(page)
    shot(page, "merge-2-tab-reloaded")
