"""Names the cloud cannot hold, through the command line as a user meets them: the sync goes
on without them, and ``status`` lists them with the reason (it never crashes on a name)."""

from __future__ import annotations

import os
from pathlib import Path

from support.cli import logged_in
from support.cloud import ServerThread


def test_status_lists_skipped_names_with_their_reason(cloud: ServerThread, tmp_path: Path) -> None:
    a, _token = logged_in(cloud, tmp_path)
    assert a("create", "demo").returncode == 0
    folder = os.fsencode(a.root / "projects" / "demo")
    for name in (b"caf\xe9.txt", b"two\nlines.txt"):
        with open(os.path.join(folder, name), "wb") as handle:
            handle.write(b"only here")
    with open(os.path.join(folder, b"fine.txt"), "wb") as handle:
        handle.write(b"synced")

    run = a("sync", "demo")
    assert run.returncode == 0, run.stderr
    run = a("status")
    assert run.returncode == 0, run.stderr
    assert "demo: idle, 0 pending" in run.stdout
    assert "skipped       caf\\xe9.txt: the cloud cannot hold this name: " in run.stdout
    assert "the path is not valid Unicode" in run.stdout
    assert "skipped       two\\nlines.txt: the cloud cannot hold this name: " in run.stdout
    assert "control character U+000A" in run.stdout
    assert "fine.txt" not in run.stdout  # synced: nothing to say
