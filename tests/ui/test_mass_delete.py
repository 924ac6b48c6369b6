"""The mass-delete guard in the panel, with two JupyterLab servers of one user on one cloud:
files deleted on lab one show as deleted there, the review lists them (from a dry run) and
offers to restore them from the cloud or to delete them in the cloud; once confirmed on lab
one, lab two applies the deletes without asking again and says who deleted how many."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from support.labs import Lab, TwoLabs
from support.pages import expand, file_row, open_lab, open_panel, project, shot
from support.polling import eventually

NAMES = [f"f{i:02}.txt" for i in range(19)]
GONE = NAMES[:16]


def _project(lab: Lab, name: str) -> dict[str, Any]:
    return next(p for p in lab.api("GET", "projects")["items"] if p["name"] == name)


def _open_review(page: Page) -> Any:
    item = project(page, "massdel")
    expect(item.locator(".jp-pfb-projectError.jp-pfb-mod-paused")).to_be_visible(timeout=30_000)
    item.get_by_role("button", name="Review the deletions…").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_be_visible()
    return dialog


def test_review_restore_then_delete_and_the_other_lab_follows(
    two_labs: TwoLabs, two_pages: tuple[Page, Page]
) -> None:
    one, two = two_labs.one, two_labs.two
    created = one.api("POST", "projects", body={"name": "massdel"})
    folder_one = one.root / "projects" / "massdel"
    for i, name in enumerate(NAMES):
        (folder_one / name).write_text("x" * (i + 1))
    with two_labs.cloud_client() as cloud:
        eventually(
            lambda: len(cloud.get(f"/projects/{created['id']}/files").json()["items"]) == 19,
            what="19 files in the cloud",
        )
    two.api("POST", "projects", created["id"], "link", body={})
    folder_two = two.root / "projects" / "massdel"
    eventually(lambda: len(list(folder_two.iterdir())) == 19, what="19 files on lab two")

    page_one, page_two = two_pages
    open_lab(page_one, one)
    open_panel(page_one)
    expand(page_one, "massdel")
    open_lab(page_two, two)
    open_panel(page_two)
    expect(file_row(page_one, "massdel", "f00.txt")).to_have_attribute(
        "data-state", "synced", timeout=20_000
    )

    # delete 16 of 19 on lab one: paused, and shown as deleted here (not "Synced")
    for name in GONE:
        (folder_one / name).unlink()
    for name in GONE:
        expect(file_row(page_one, "massdel", name)).to_have_attribute(
            "data-state", "deleted_locally", timeout=30_000
        )
    expect(file_row(page_one, "massdel", "f18.txt")).to_have_attribute("data-state", "synced")
    dialog = _open_review(page_one)
    listed = dialog.locator(".jp-pfb-deleteItem").all_inner_texts()
    assert listed == GONE
    expect(dialog).to_contain_text("16 files")
    expect(dialog.get_by_role("button", name="Restore them from the cloud")).to_be_visible()
    expect(dialog.get_by_role("button", name="Delete in the cloud")).to_be_visible()
    shot(page_one, "mass-delete-review")

    # restore: the files come back from the cloud, nothing is deleted anywhere
    dialog.get_by_role("button", name="Restore them from the cloud").click()
    eventually(lambda: len(list(folder_one.iterdir())) == 19, what="the files restored")
    assert (folder_one / "f05.txt").read_text() == "x" * 6
    expect(file_row(page_one, "massdel", "f00.txt")).to_have_attribute(
        "data-state", "synced", timeout=30_000
    )
    eventually(lambda: _project(one, "massdel")["status"] == "idle", what="lab one idle")
    assert len(list(folder_two.iterdir())) == 19

    # delete them again, and this time delete them in the cloud
    for name in GONE:
        (folder_one / name).unlink()
    dialog = _open_review(page_one)
    assert dialog.locator(".jp-pfb-deleteItem").all_inner_texts() == GONE
    dialog.get_by_role("button", name="Delete in the cloud").click()
    with two_labs.cloud_client() as cloud:
        eventually(
            lambda: len(cloud.get(f"/projects/{created['id']}/files").json()["items"]) == 3,
            timeout=30,
            what="3 files left in the cloud",
        )

    # lab two applies the confirmed deletes without pausing, and says so
    eventually(lambda: len(list(folder_two.iterdir())) == 3, timeout=30, what="lab two deletes")
    # one notice per sync that applied some (a busy lab two may apply them in two rounds)
    toasts = page_two.locator(".Toastify__toast", has_text="of massdel")

    def told() -> int:
        texts = toasts.all_inner_texts()
        return sum(int(n) for t in texts for n in re.findall(r"deleted (\d+) files? of", t))

    eventually(lambda: told() == 16, timeout=30, what="lab two says 16 files were deleted")
    expect(toasts.first).to_contain_text(two_labs.username)
    expect(toasts.first).to_contain_text("history")
    assert _project(two, "massdel")["status"] != "paused"
    expect(project(page_two, "massdel").locator(".jp-pfb-projectError")).to_have_count(0)
    shot(page_two, "mass-delete-applied-elsewhere")


def test_a_missing_folder_is_paused_with_nothing_to_review(
    two_labs: TwoLabs, two_pages: tuple[Page, Page]
) -> None:
    one = two_labs.one
    one.api("POST", "projects", body={"name": "unmounted"})
    folder = one.root / "projects" / "unmounted"
    (folder / "data.csv").write_text("a,b\n1,2\n")
    eventually(
        lambda: (
            _project(one, "unmounted")["status"] == "idle"
            and _project(one, "unmounted")["last_synced_at"] is not None
        ),
        what="the project synced",
    )
    away = folder.with_name("unmounted-away")
    folder.rename(away)  # an unmounted disk
    try:
        page = two_pages[0]
        open_lab(page, one)
        open_panel(page)
        item = project(page, "unmounted")
        error = item.locator(".jp-pfb-projectError.jp-pfb-mod-paused")
        expect(error).to_be_visible(timeout=30_000)
        expect(error).to_contain_text("folder is missing — restore it, or unlink the project")
        # nothing to confirm: the folder must come back (or the project be unlinked)
        expect(item.get_by_role("button", name="Review the deletions…")).to_have_count(0)
        shot(page, "missing-folder-paused")
        assert _project(one, "unmounted")["folder_missing"] is True
    finally:
        away.rename(folder)
    one.api("POST", "projects", _project(one, "unmounted")["id"], "sync")
    expect(project(two_pages[0], "unmounted").locator(".jp-pfb-projectError")).to_have_count(
        0, timeout=30_000
    )
