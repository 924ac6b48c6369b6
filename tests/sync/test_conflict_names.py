"""A conflict copy's name says which file it is a copy of, on any machine: ``conflict_original``
undoes ``conflict_name`` and recognises nothing else."""

from __future__ import annotations

from datetime import datetime

import pytest

from project_filebrowser.sync.localfs import conflict_name, conflict_original

WHEN = datetime(2026, 1, 2, 3, 4, 5)


@pytest.mark.parametrize(
    "path", ["nb.ipynb", "a/b/c.tar.gz", ".env", "noext", "dir.x/f", "x (1).txt", "é ü.md"]
)
def test_a_copy_names_its_original(path: str) -> None:
    first = conflict_name(path, WHEN, lambda _candidate: False)
    second = conflict_name(path, WHEN, lambda candidate: candidate == first)  # numbered
    assert first != second
    assert conflict_original(first) == path
    assert conflict_original(second) == path


@pytest.mark.parametrize(
    "path",
    [
        "nb.ipynb",
        "notes (conflict).txt",
        "notes (conflict 2026-01-02).txt",
        "notes (conflict 2026-01-02 030405) more.txt",
        " (conflict 2026-01-02 030405).txt",
        "dir (conflict 2026-01-02 030405)/file.txt",
    ],
)
def test_other_names_are_no_copies(path: str) -> None:
    assert conflict_original(path) is None
