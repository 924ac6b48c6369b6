"""Ignore rules: the project's ``.projectignore`` (gitignore syntax) plus defaults."""

from __future__ import annotations

from pathlib import Path

import pathspec

IGNORE_FILE = ".projectignore"
# Temp files of the engine's atomic downloads: ``.<name>.pfb-<random>.tmp`` in the target folder.
TEMP_SUFFIX = ".pfb.tmp"
DEFAULT_RULES = (
    ".ipynb_checkpoints/",
    "__pycache__/",
    ".git/",
    "*.pyc",
    f"*{TEMP_SUFFIX}",
    ".DS_Store",
    "~$*",
)


class IgnoreRules:
    """Decides whether a project-relative POSIX path is ignored."""

    def __init__(self, extra_lines: list[str] | None = None) -> None:
        self.lines = [*DEFAULT_RULES, *(extra_lines or [])]
        self._spec = pathspec.GitIgnoreSpec.from_lines(self.lines)

    @classmethod
    def for_project(cls, root: Path) -> IgnoreRules:
        try:
            text = (root / IGNORE_FILE).read_text(encoding="utf-8", errors="replace")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return cls()
        return cls(text.splitlines())

    def __call__(self, path: str) -> bool:
        return self._spec.match_file(path)

    def ignores_dir(self, path: str) -> bool:
        return self._spec.match_file(path + "/")
