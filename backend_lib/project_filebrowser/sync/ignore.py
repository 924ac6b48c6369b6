"""Ignore rules: the project's ``.projectignore`` (gitignore syntax) plus defaults."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pathspec

IGNORE_FILE = ".projectignore"
# Temp files of the engine's atomic downloads: ``.<16 hex>.pfb.tmp`` in the target folder
# (``.<name>.<8 hex>.pfb.tmp`` before: the suffix recognises both).
TEMP_SUFFIX = ".pfb.tmp"
# The defaults, as name tests: a path is ignored when a folder on it is one of IGNORED_DIRS,
# or when its name or a folder's name matches a name rule. Tested by name, without a regex
# per path; DEFAULT_RULES says the same in gitignore syntax (tests/sync/test_scanner.py
# checks that the two agree).
IGNORED_DIRS = (".ipynb_checkpoints", "__pycache__", ".git")
IGNORED_SUFFIXES = (".pyc", TEMP_SUFFIX)
IGNORED_NAMES = (".DS_Store",)
IGNORED_PREFIXES = ("~$",)
DEFAULT_RULES = (
    *(f"{name}/" for name in IGNORED_DIRS),
    *(f"*{suffix}" for suffix in IGNORED_SUFFIXES),
    *IGNORED_NAMES,
    *(f"{prefix}*" for prefix in IGNORED_PREFIXES),
)


def _name_ignored(name: str) -> bool:
    return (
        name in IGNORED_NAMES
        or name.endswith(IGNORED_SUFFIXES)
        or name.startswith(IGNORED_PREFIXES)
    )


def default_ignored(path: str, *, is_dir: bool = False) -> bool:
    """Whether DEFAULT_RULES alone ignore ``path`` (a folder if ``is_dir``)."""
    parts = path.split("/")
    folders = parts if is_dir else parts[:-1]
    if any(part in IGNORED_DIRS or _name_ignored(part) for part in folders):
        return True
    return not is_dir and _name_ignored(parts[-1])


class IgnoreRules:
    """Decides whether a project-relative POSIX path is ignored."""

    def __init__(self, extra_lines: list[str] | None = None) -> None:
        extra = [line for line in (extra_lines or []) if line.strip()]
        self.lines = [*DEFAULT_RULES, *extra]
        # Without a .projectignore the defaults are tested by name (tens of thousands of
        # paths per plan); with one, pathspec decides (its rules may override the defaults).
        self._spec: pathspec.GitIgnoreSpec | None = None
        self._folders: dict[str, bool] = {}
        if extra:
            import pathspec  # loaded only for a project that has a .projectignore

            self._spec = pathspec.GitIgnoreSpec.from_lines(self.lines)

    @classmethod
    def for_project(cls, root: Path) -> IgnoreRules:
        try:
            text = (root / IGNORE_FILE).read_text(encoding="utf-8", errors="replace")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return cls()
        return cls(text.splitlines())

    def __call__(self, path: str) -> bool:
        if self._spec is None:
            folder, _, name = path.rpartition("/")
            return _name_ignored(name) or (bool(folder) and self._folder_ignored(folder))
        return self._spec.match_file(path)

    def _folder_ignored(self, folder: str) -> bool:
        """default_ignored(folder, is_dir=True), once per folder: a plan asks for every
        path of three trees, and most share their folders."""
        known = self._folders.get(folder)
        if known is None:
            known = self._folders[folder] = default_ignored(folder, is_dir=True)
        return known

    def ignores_file(self, path: str, name: str) -> bool:
        """Whether the file ``path`` (last part ``name``) is ignored, where no folder on its
        path is: the scanner's test, which never descends into an ignored folder."""
        if self._spec is None:
            return _name_ignored(name)
        return self._spec.match_file(path)

    def ignores_dir(self, path: str) -> bool:
        if self._spec is None:
            return default_ignored(path, is_dir=True)
        return self._spec.match_file(path + "/")
