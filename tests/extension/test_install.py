"""The installed package enables itself: server extension and JupyterLab extension."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from project_filebrowser import __version__

JUPYTER = str(Path(sys.executable).with_name("jupyter"))


def _run(*args: str) -> str:
    run = subprocess.run([JUPYTER, *args], capture_output=True, text=True, check=True)
    return re.sub(r"\x1b\[[0-9;]*m", "", run.stdout + run.stderr)  # drop colours


def test_server_extension_is_enabled_and_ok() -> None:
    out = _run("server", "extension", "list")
    assert re.search(r"project_filebrowser enabled", out), out
    assert re.search(r"project_filebrowser\s+\S*\s*OK", out), out


def test_labextension_is_installed_enabled_and_ok() -> None:
    out = _run("labextension", "list")
    assert re.search(rf"project-filebrowser v{re.escape(__version__)} enabled\s+OK", out), out
