"""Merging from the command line, as a user runs it: two CLI machines on the real cloud.
`sync` merges edits made on both sides and says so; `--no-merge` keeps both versions for
one run; the `merge_text` setting in Jupyter's config files turns it off for the command line
as for the server."""

from __future__ import annotations

import json
from pathlib import Path

from support.cli import Cli, logged_in
from support.cloud import ServerThread


def _both_edited(
    cloud: ServerThread, tmp_path: Path, b_edit: str = "1\n2\n3\n4\nfive\n"
) -> tuple[Cli, Cli, Path, Path]:
    """Machines a and b hold notes.txt (five lines), synced; then each edits its own line,
    a syncs first: b's next sync finds both changed."""
    a, _token = logged_in(cloud, tmp_path)
    b = Cli(tmp_path, "b")  # same login (same data dir), its own DB and root
    assert a("create", "demo").returncode == 0
    one, two = a.root / "projects" / "demo", b.root / "projects" / "demo"
    (one / "notes.txt").write_text("1\n2\n3\n4\n5\n")
    assert a("sync", "demo").returncode == 0
    assert b("link", "demo").returncode == 0
    (one / "notes.txt").write_text("one\n2\n3\n4\n5\n")
    (two / "notes.txt").write_text(b_edit)
    run = a("sync", "demo")
    assert run.returncode == 0, run.stderr
    return a, b, one, two


def test_sync_merges_and_says_so(cloud: ServerThread, tmp_path: Path) -> None:
    a, b, one, two = _both_edited(cloud, tmp_path)
    run = b("sync", "demo")
    assert run.returncode == 0, run.stderr
    assert "demo: merged the edits to notes.txt" in run.stdout
    assert "demo: merged 1 file" in run.stdout
    assert (two / "notes.txt").read_text() == "one\n2\n3\n4\nfive\n"
    assert a("sync", "demo").returncode == 0
    assert (one / "notes.txt").read_text() == "one\n2\n3\n4\nfive\n"
    assert sorted(p.name for p in two.iterdir()) == ["notes.txt"]
    assert b("conflicts").stdout.strip() == "no conflicts"


def test_no_merge_keeps_both_versions_for_one_run(cloud: ServerThread, tmp_path: Path) -> None:
    _a, b, _one, two = _both_edited(cloud, tmp_path)
    run = b("sync", "demo", "--no-merge")
    assert run.returncode == 0, run.stderr
    assert "merged" not in run.stdout
    assert (two / "notes.txt").read_text() == "one\n2\n3\n4\n5\n"  # the cloud's, at the path
    [copy] = [p for p in two.iterdir() if p.name != "notes.txt"]
    assert copy.read_text() == "1\n2\n3\n4\nfive\n"


def test_the_merge_text_setting_of_jupyters_config_holds_for_the_cli(
    cloud: ServerThread, tmp_path: Path
) -> None:
    _a, b, _one, two = _both_edited(cloud, tmp_path)
    config = tmp_path / "jupyter-config"
    config.mkdir()
    (config / "jupyter_server_config.json").write_text(
        json.dumps({"ProjectFileBrowser": {"merge_text": False}})
    )
    b.env["JUPYTER_CONFIG_DIR"] = str(config)
    run = b("sync", "demo")
    assert run.returncode == 0, run.stderr
    assert "merged" not in run.stdout
    assert len(list(two.iterdir())) == 2  # the path and its conflict copy
    assert "; not merged" not in b("conflicts").stdout  # no merge was tried

    (config / "jupyter_server_config.json").write_text("{not json")
    (two / "notes.txt").write_text("changed again\n")
    run = b("sync", "demo")
    assert run.returncode == 1
    assert "jupyter_server_config.json" in run.stderr


def test_a_real_conflict_says_why_it_did_not_merge(cloud: ServerThread, tmp_path: Path) -> None:
    _a, b, _one, _two = _both_edited(cloud, tmp_path, b_edit="ONE?\n2\n3\n4\n5\n")
    run = b("sync", "demo")
    assert run.returncode == 0, run.stderr
    assert "merged" not in run.stdout
    listed = b("conflicts").stdout
    assert "notes.txt (the cloud's version)" in listed
    assert "not merged: the same lines were changed differently on both sides" in listed
