"""Pure three-way merges of concurrently edited files: notebooks by cell, text by line.

``merge_file`` dispatches on the path (``.ipynb``, any case: a notebook; anything else: text)
and returns None when merging that kind of file is switched off. No I/O here: three versions
of bytes in, a ``MergeResult`` out (merged bytes, or a reason and the conflicting cells).
See ``text.py`` and ``notebook.py`` for the rules.
"""

from __future__ import annotations

from typing import Literal

from .notebook import NOTEBOOK_MAX_BYTES, merge_notebook
from .result import REASONS, CellRef, MergeResult
from .text import TEXT_MAX_BYTES, merge_text

__all__ = [
    "NOTEBOOK_MAX_BYTES",
    "REASONS",
    "TEXT_MAX_BYTES",
    "CellRef",
    "MergeResult",
    "kind_of",
    "merge_file",
    "merge_notebook",
    "merge_text",
]


def kind_of(path: str) -> Literal["notebook", "text"]:
    """``notebook`` for a ``.ipynb`` path (any case), else ``text``."""
    return "notebook" if path.lower().endswith(".ipynb") else "text"


def merge_file(
    path: str,
    base: bytes,
    local: bytes,
    remote: bytes,
    *,
    later: Literal["local", "remote"],
    notebooks: bool = True,
    text: bool = True,
) -> MergeResult | None:
    """Merge by the kind of ``path``; None when merging that kind is switched off."""
    if kind_of(path) == "notebook":
        return merge_notebook(base, local, remote, later=later) if notebooks else None
    return merge_text(base, local, remote) if text else None
