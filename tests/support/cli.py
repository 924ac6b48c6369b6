"""Running the project-filebrowser command as a user would, in its own process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from support.cloud import ServerThread


class Cli:
    def __init__(self, home: Path, name: str) -> None:
        self.env = {**os.environ, "JUPYTER_DATA_DIR": str(home / "data")}
        self.env.pop("PROJECT_FILEBROWSER_TOKEN", None)
        self.db = f"sqlite:///{home / name / 'state.db'}"
        self.root = home / name / "work"
        self.root.mkdir(parents=True)

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "project_filebrowser.cli", *args, *self._where(args)],
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def _where(self, args: tuple[str, ...]) -> list[str]:
        if args and args[0] in ("login", "db", "cloud", "--help"):
            return []
        return ["--db", self.db, "--root", str(self.root)]

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        process = self.popen(*args)
        out, err = process.communicate(timeout=120)
        return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def logged_in(cloud: ServerThread, home: Path, name: str = "a") -> tuple[Cli, str]:
    """A CLI "machine" logged in to ``cloud`` as ann (created here), and ann's token."""
    token = cloud.new_user(name="ann", password="pw-ann-123").token
    cli = Cli(home, name)
    run = cli("login", cloud.url, "--token", token)
    assert run.returncode == 0, run.stderr
    return cli, token
