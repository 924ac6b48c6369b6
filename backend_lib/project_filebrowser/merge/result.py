"""The result of a three-way merge: merged bytes, or why there are none."""

from __future__ import annotations

from dataclasses import dataclass

REASONS = ("overlap", "delete_edit", "binary", "unparsable", "too_large")
"""Why a merge is not clean: ``overlap`` (both sides changed the same lines, cell field or
metadata key differently), ``delete_edit`` (a notebook cell deleted on one side and edited on
the other), ``binary`` (a text merge of bytes that are not UTF-8 text), ``unparsable`` (a
notebook side that is not a valid nbformat 4 notebook), ``too_large`` (over the size limit)."""


@dataclass(frozen=True, slots=True)
class CellRef:
    """A conflicting notebook cell."""

    id: str | None
    """The cell's nbformat id in the version ``index`` refers to (None without ids)."""
    index: int
    """Its position in the REMOTE version (0-based), or in the LOCAL version when the remote
    deleted it."""


@dataclass(frozen=True, slots=True)
class MergeResult:
    content: bytes | None
    """The merged bytes; None when the merge is not clean."""
    reason: str | None = None
    """One of REASONS when not clean, else None."""
    cells: tuple[CellRef, ...] = ()
    """Notebooks: the conflicting cells, ordered by index (empty otherwise)."""

    @property
    def clean(self) -> bool:
        return self.content is not None


def not_clean(reason: str, cells: tuple[CellRef, ...] = ()) -> MergeResult:
    assert reason in REASONS, reason
    return MergeResult(None, reason, cells)
