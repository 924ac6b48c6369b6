"""The file tree, the filter, what stays open across a reload, deleting a project from the
cloud, adopting a folder and long names, in a real JupyterLab in headless Chromium.

The tests run in order on one server and one page, as one user's session."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from support.labs import CHROMIUM, Lab
from support.pages import (
    accept,
    create_in_dialog,
    expand,
    open_lab,
    open_panel,
    panel,
    project,
    shot,
    wait_for_lab,
)
from support.polling import eventually

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)", allow_module_level=True)


def rows(page: Page, name: str) -> Locator:
    return project(page, name).locator(".jp-pfb-fileTree > li")


def row_keys(page: Page, name: str) -> list[str]:
    """The tree's rows in order: 'folder/' for a folder, the path for a file."""
    keys: list[str] = rows(page, name).evaluate_all(
        "items => items.map(li => li.dataset.folderPath !== undefined"
        " ? li.dataset.folderPath + '/' : li.dataset.path)"
    )
    return keys


def folder(page: Page, name: str, path: str) -> Locator:
    return project(page, name).locator(f'.jp-pfb-folder[data-folder-path="{path}"]')


def filter_box(page: Page) -> Locator:
    return panel(page).locator(".jp-pfb-search input")


def test_files_show_as_a_tree_in_natural_order(page: Page, lab: Lab) -> None:
    made = lab.api("POST", "projects", body={"name": "tree"})
    lab.api("POST", "projects", body={"name": "other"})
    root = lab.root / "projects" / "tree"
    for rel in ("f1.txt", "f2.txt", "f10.txt", "data/run2/x.csv", "data/run10/x.csv"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(rel)
    (lab.root / "projects" / "other" / "note.md").write_text("other")

    def synced() -> bool:
        files = lab.api("GET", "projects", made["id"], "files")["items"]
        return len(files) == 5 and all(f["state"] == "synced" for f in files)

    eventually(synced, what="the five files synced")
    open_lab(page, lab)
    open_panel(page)
    expand(page, "tree")
    expect(rows(page, "tree")).to_have_count(8)
    assert row_keys(page, "tree") == [
        "data/",
        "data/run2/",
        "data/run2/x.csv",
        "data/run10/",
        "data/run10/x.csv",
        "f1.txt",
        "f2.txt",
        "f10.txt",
    ]
    expect(folder(page, "tree", "data")).to_contain_text("2")  # files at any depth
    shot(page, "tree-01-natural-order")


def test_a_folder_emptied_by_a_remote_delete_goes(page: Page, lab: Lab) -> None:
    with lab.cloud() as cloud:
        [tree] = [p for p in cloud.get("/projects").json()["items"] if p["name"] == "tree"]
        files = cloud.get(f"/projects/{tree['id']}/files").json()["items"]
        [x] = [f for f in files if f["path"] == "data/run2/x.csv"]
        cloud.delete(
            f"/projects/{tree['id']}/files/data/run2/x.csv",
            headers={"If-Match": f'"{x["revision"]}"'},
        ).raise_for_status()
    expect(folder(page, "tree", "data/run2")).to_have_count(0, timeout=20_000)
    expect(rows(page, "tree")).to_have_count(6)
    expect(project(page, "tree").locator(".jp-pfb-files .jp-pfb-count")).to_contain_text("4 files")


def test_the_filter_matches_files_and_the_count_follows(page: Page, lab: Lab) -> None:
    filter_box(page).fill("x.csv")
    expect(project(page, "other")).to_have_count(0)  # neither its name nor a file matches
    expect(project(page, "tree")).to_be_visible()  # its name does not match; a file does
    expect(rows(page, "tree")).to_have_count(3)
    assert row_keys(page, "tree") == ["data/", "data/run10/", "data/run10/x.csv"]
    expect(project(page, "tree").locator(".jp-pfb-files .jp-pfb-count")).to_have_text(
        "1 of 4 files"
    )
    expect(panel(page).locator("#jp-pfb-linked-header .jp-pfb-count")).to_have_text("1 of 2")
    shot(page, "tree-02-filter")
    filter_box(page).fill("note")  # a file of a project that was never opened
    expect(project(page, "other")).to_be_visible()
    expect(rows(page, "other")).to_have_count(1)
    expect(project(page, "tree")).to_have_count(0)
    filter_box(page).fill("")
    expect(project(page, "tree")).to_be_visible()
    expect(rows(page, "tree")).to_have_count(6)


def test_open_projects_and_closed_folders_survive_a_reload(page: Page, lab: Lab) -> None:
    toggle = project(page, "other").locator(".jp-pfb-toggle")
    if toggle.get_attribute("aria-expanded") == "true":
        toggle.click()  # the filter opened it for the moment; it was never opened by hand
    folder(page, "tree", "data").locator("button").click()
    expect(folder(page, "tree", "data")).to_have_attribute("aria-expanded", "false")
    expect(rows(page, "tree")).to_have_count(4)  # data/ and the three files

    page.reload()
    wait_for_lab(page)
    open_panel(page)
    expect(project(page, "tree").locator(".jp-pfb-toggle")).to_have_attribute(
        "aria-expanded", "true"
    )
    expect(project(page, "other").locator(".jp-pfb-toggle")).to_have_attribute(
        "aria-expanded", "false"
    )
    expect(folder(page, "tree", "data")).to_have_attribute("aria-expanded", "false")
    expect(rows(page, "tree")).to_have_count(4)
    shot(page, "tree-03-after-reload")
    folder(page, "tree", "data").locator("button").click()
    expect(rows(page, "tree")).to_have_count(6)


def test_delete_a_project_from_the_cloud_after_a_confirmation(page: Page, lab: Lab) -> None:
    expand(page, "other")
    delete = project(page, "other").locator(".jp-pfb-bodyActions .jp-pfb-deleteButton")
    delete.click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text(
        "Delete project other and its 1 file from the cloud for everyone?"
    )
    expect(dialog).to_contain_text("Your local copy in projects/other stays.")
    shot(page, "tree-04-delete-dialog")
    dialog.locator(".jp-Dialog-footer button.jp-mod-reject").click()
    expect(dialog).to_have_count(0)
    assert "other" in {p["name"] for p in lab.api("GET", "projects", scope="cloud")["items"]}

    delete.click()
    accept(page.locator(".jp-Dialog"))
    expect(project(page, "other")).to_have_count(0)
    assert "other" not in {p["name"] for p in lab.api("GET", "projects", scope="cloud")["items"]}
    assert (lab.root / "projects" / "other" / "note.md").read_text() == "other"


def test_create_asks_before_adopting_a_folder_with_files(page: Page, lab: Lab) -> None:
    folder_path = lab.root / "projects" / "adopted"
    folder_path.mkdir(parents=True)
    (folder_path / "a.txt").write_text("a")
    (folder_path / "b.txt").write_text("b")
    dialog = create_in_dialog(page, "adopted")
    accept(dialog)
    question = dialog.locator(".jp-pfb-adoptQuestion")
    expect(question).to_have_text(
        "The folder projects/adopted exists with 2 files: upload them into the new project?"
        "Upload them"
    )
    assert "adopted" not in {p["name"] for p in lab.api("GET", "projects", scope="cloud")["items"]}
    shot(page, "tree-05-adopt-question")
    question.get_by_role("button", name="Upload them").click()
    expect(dialog).to_have_count(0)
    expect(project(page, "adopted").locator(".jp-pfb-file")).to_have_count(2, timeout=20_000)
    [made] = [p for p in lab.api("GET", "projects")["items"] if p["name"] == "adopted"]

    def uploaded() -> bool:
        files = lab.api("GET", "projects", made["id"], "files")["items"]
        return {f["path"] for f in files if f["state"] == "synced"} == {"a.txt", "b.txt"}

    eventually(uploaded, what="the adopted files synced")


def test_a_long_name_is_refused_with_a_message_not_cut(page: Page, lab: Lab) -> None:
    dialog = create_in_dialog(page, "n" * 300)
    expect(dialog.locator("#jp-pfb-create-name")).to_have_value("n" * 300)
    expect(dialog.locator(".jp-pfb-formError")).to_contain_text(
        "at most 128 characters; this one has 300"
    )
    accept(dialog)
    expect(dialog).to_be_visible()
    dialog.locator(".jp-Dialog-footer button.jp-mod-reject").click()
    expect(dialog).to_have_count(0)


def test_link_into_a_folder_the_user_chooses(page: Page, lab: Lab) -> None:
    with lab.cloud() as cloud:
        cloud.post("/projects", json={"name": "chosen"}).raise_for_status()
    page.locator(
        '.jp-SidePanel-toolbar [data-command="project-filebrowser:refresh"]'
    ).click()  # a cloud-only project made elsewhere
    offer = panel(page).locator('.jp-pfb-cloudProject[data-project-name="chosen"]')
    offer.get_by_role("button", name="Link chosen").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog.locator("input")).to_have_value("projects/chosen")
    dialog.locator("input").fill("work/elsewhere")
    accept(dialog)
    expect(project(page, "chosen")).to_be_visible()
    [linked] = [p for p in lab.api("GET", "projects")["items"] if p["name"] == "chosen"]
    assert linked["local_path"] == "work/elsewhere"
    assert (lab.root / "work" / "elsewhere").is_dir()
