"""Names the cloud cannot hold, through the command line as a user meets them: the sync goes
on without them, and ``status`` lists them with the reason (it never crashes on a name)."""

from __future__ import annotations

import os
from pathlib import Path

from support.cli import Cli, logged_in
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


def test_a_file_the_cloud_refuses_fails_alone_and_status_says_why(
    cloud: ServerThread, tmp_path: Path
) -> None:
    a, token = logged_in(cloud, tmp_path)
    assert a("create", "demo").returncode == 0
    cloud.service.max_file_size = 1 << 20  # the cloud's limit on one file
    folder = a.root / "projects" / "demo"
    (folder / "big.bin").write_bytes(b"x" * (2 << 20))
    (folder / "fine.txt").write_bytes(b"synced")

    run = a("sync", "demo")
    assert run.returncode == 1  # a script sees that not everything went
    assert "demo: 1 file could not be synced; the rest is in sync. big.bin: " in run.stderr
    run = a("status")
    assert run.returncode == 0, run.stderr
    assert "demo: error, 0 pending" in run.stdout
    assert "failed        big.bin: " in run.stdout
    assert "(failed once; tried again at " in run.stdout
    assert "fine.txt" not in run.stdout  # synced: nothing to say

    b = Cli(tmp_path, "b")  # another machine of ann's gets what went
    assert b("login", cloud.url, "--token", token).returncode == 0
    assert b("link", "demo").returncode == 0, b("link", "demo").stderr
    assert (b.root / "projects" / "demo" / "fine.txt").read_bytes() == b"synced"
    assert not (b.root / "projects" / "demo" / "big.bin").exists()

    cloud.service.max_file_size = 4 << 20  # the cause goes: the next sync sends it
    run = a("sync", "demo")
    assert run.returncode == 0, run.stderr
    assert "failed" not in a("status").stdout
