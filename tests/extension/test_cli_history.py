"""History from the command line, as a user runs it, on the real cloud: `history PATH`,
`restore PATH [--revision R]`, `checkpoint create|list|restore`; exit 0 on success, 1 on a
failure explained in one line, 2 on bad usage."""

from __future__ import annotations

from pathlib import Path

from support.cli import Cli, logged_in
from support.cloud import ServerThread


def _demo(cloud: ServerThread, tmp_path: Path) -> tuple[Cli, Path]:
    cli, _token = logged_in(cloud, tmp_path)
    run = cli("create", "demo")
    assert run.returncode == 0, run.stderr
    return cli, cli.root / "projects" / "demo"


def _synced(cli: Cli) -> None:
    run = cli("sync", "demo")
    assert run.returncode == 0, run.stderr


def _revisions(cli: Cli, file: Path) -> list[list[str]]:
    run = cli("history", str(file))
    assert run.returncode == 0, run.stderr
    header, *rows = run.stdout.splitlines()
    assert header.split() == ["REVISION", "WHEN", "WHO", "SIZE", "DELETED"]
    return [row.split() for row in rows]


def test_history_and_restore(cloud: ServerThread, tmp_path: Path) -> None:
    cli, folder = _demo(cloud, tmp_path)
    notes = folder / "notes.txt"
    (folder / "keep.txt").write_text("stays")  # a project emptied at once pauses its sync
    for text in ("first\n", "second!\n"):
        notes.write_text(text)
        _synced(cli)
    rows = _revisions(cli, notes)
    assert len(rows) == 2
    (newest, _day, _time, who, size), oldest = rows[0], rows[1][0]
    assert (who, size) == ("ann", "8")

    run = cli("restore", str(notes), "--revision", oldest)
    assert run.returncode == 0, run.stderr
    assert "restored notes.txt: revision" in run.stdout
    assert notes.read_text() == "first\n"
    after = _revisions(cli, notes)
    assert [r[0] for r in after[1:]] == [newest, oldest] and after[0][0] not in (newest, oldest)

    # a deleted file comes back with its newest live revision
    notes.unlink()
    _synced(cli)
    assert _revisions(cli, notes)[0][-1] == "deleted"
    run = cli("restore", str(notes))
    assert run.returncode == 0, run.stderr
    assert notes.read_text() == "first\n"

    refused = cli("restore", str(notes), "--revision", "no-such-revision")
    assert refused.returncode == 1
    assert "no revision 'no-such-revision' of notes.txt" in refused.stderr
    assert notes.read_text() == "first\n"
    outside = cli("history", str(tmp_path / "elsewhere.txt"))
    assert outside.returncode == 1 and "is not inside a linked project" in outside.stderr
    assert cli("history").returncode == 2
    assert cli("restore", str(notes), "--revision").returncode == 2


def test_checkpoints_are_created_listed_restored_and_undone(
    cloud: ServerThread, tmp_path: Path
) -> None:
    cli, folder = _demo(cloud, tmp_path)
    assert cli("checkpoint", "list", "demo").stdout.strip() == "no checkpoints"
    (folder / "a.txt").write_text("a1")
    made = cli("checkpoint", "create", "v1", "demo")  # syncs first: a.txt is in it
    assert made.returncode == 0, made.stderr
    checkpoint_id = made.stdout.strip().splitlines()[-1].split(": ")[-1]

    (folder / "a.txt").write_text("a2")
    (folder / "b.txt").write_text("b")
    _synced(cli)
    listed = cli("checkpoint", "list", "demo")
    assert listed.returncode == 0, listed.stderr
    [line] = listed.stdout.splitlines()
    assert line.startswith(checkpoint_id) and line.endswith("  v1")

    run = cli("checkpoint", "restore", checkpoint_id, "demo")
    assert run.returncode == 0, run.stderr
    assert "restored checkpoint v1" in run.stdout
    assert (folder / "a.txt").read_text() == "a1" and not (folder / "b.txt").exists()
    undo = run.stdout.split("checkpoint restore ")[-1].split()[0]
    # the only linked project is the default
    back = cli("checkpoint", "restore", undo)
    assert back.returncode == 0, back.stderr
    assert (folder / "a.txt").read_text() == "a2" and (folder / "b.txt").read_text() == "b"

    unknown = cli("checkpoint", "restore", "nope", "demo")
    assert unknown.returncode == 1 and "checkpoint 'nope'" in unknown.stderr
    taken = cli("checkpoint", "create", "v1", "demo")
    assert taken.returncode == 1 and "named 'v1'" in taken.stderr
    assert cli("checkpoint", "create").returncode == 2
    assert cli("checkpoint", "list", "no-such-project").returncode == 1
