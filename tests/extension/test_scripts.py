"""scripts/lab on a fresh checkout: JupyterLab's root is outside the git tree, and the
script says what it installs, where the server is, its token and how to stop it."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from support.polling import eventually
from support.ports import free_port

REPO = Path(__file__).resolve().parents[2]
JUPYTER = Path(sys.executable).with_name("jupyter")


def _checkout(tmp: Path) -> Path:
    """A copy of scripts/ in a checkout whose .venv holds this test's JupyterLab; pip (a
    tool outside the project) only records what it was asked to install."""
    checkout = tmp / "checkout"
    (checkout / "scripts").mkdir(parents=True)
    shutil.copy2(REPO / "scripts" / "lab", checkout / "scripts" / "lab")
    bin_dir = checkout / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").write_text(
        "#!/bin/sh\n"
        f'if [ "$1 $2" = "-m pip" ]; then echo "$@" >> "{tmp}/pip.log"; exit 0; fi\n'
        f'exec "{sys.executable}" "$@"\n'
    )
    (bin_dir / "python").chmod(0o755)
    (bin_dir / "jupyter").symlink_to(JUPYTER)
    return checkout


def _listing(request: urllib.request.Request, lab: subprocess.Popen[str]) -> set[str]:
    """The names at the server's root, once it answers (it may still be binding)."""

    def names() -> set[str]:
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                return {item["name"] for item in json.load(reply)["content"]}
        except urllib.error.URLError as exc:
            if lab.poll() is not None:
                pytest.fail("the server stopped")
            raise AssertionError(f"no answer yet: {exc}") from None

    listing: set[str] = eventually(names, 30, 0.1, what="the server to answer")
    return listing


def test_lab_roots_jupyter_outside_the_checkout_and_says_how_to_reach_and_stop_it(
    tmp_path: Path,
) -> None:
    checkout = _checkout(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    env = {
        **os.environ,
        "HOME": str(home),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "PFB_LAB_PORT": str(port),
    }
    env.pop("PFB_LAB_ROOT", None)
    env.pop("PROJECT_FILEBROWSER_DB_URL", None)
    lab = subprocess.Popen(
        [str(checkout / "scripts" / "lab")],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out: list[str] = []
    try:
        assert lab.stdout is not None
        for line in lab.stdout:  # until the server says it is up (or the script ends)
            out.append(line)
            if "is running at" in line or "Use Control-C" in line:
                break
        text = "".join(out)
        assert "== installing project-filebrowser" in text, text
        url = re.search(r"open:\s+(http://127\.0\.0\.1:(\d+)/lab\?token=(\w+))", text)
        assert url is not None, text
        assert int(url.group(2)) == port
        token = url.group(3)
        assert re.search(rf"token:\s+{token}", text), text
        assert "Ctrl-C" in text, text
        root = home / "project-filebrowser"
        assert f"root folder: {root}" in text, text

        # The server runs where the script said, with that token, rooted outside the tree.
        (root / "marker.txt").write_text("here\n")
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/contents", headers={"Authorization": f"token {token}"}
        )
        names = _listing(request, lab)
        assert "marker.txt" in names and "scripts" not in names, names
    finally:
        threading.Thread(target=lab.communicate, daemon=True).start()  # keep the pipe drained
        # SIGTERM: a test runner may run with SIGINT ignored, and Jupyter stops on either.
        lab.send_signal(signal.SIGTERM)
        lab.wait(timeout=60)
    assert not (checkout / "projects").exists()
    pip = (tmp_path / "pip.log").read_text()
    assert "install --quiet ." in pip, pip
