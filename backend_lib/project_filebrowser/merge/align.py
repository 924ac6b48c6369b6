"""Which cells of a side continue which cells of the base, when cells cannot be told by id.

Used when not every cell of the three versions has an id unique in its version (nbformat
4.4, or a side without ids). Each side is aligned to the base by content:

* ``difflib.SequenceMatcher`` over the cells' ``(cell_type, source)``: cells in equal blocks
  pair up;
* in a "replace" block, base cells pair greedily, in order, with the first side cell (at most
  ``WINDOW`` cells ahead) whose source is at least 50 % similar (``SequenceMatcher.ratio``);
* then a base cell still unpaired pairs with an unpaired side cell of identical type and
  source anywhere (a moved cell);
* every other side cell is new, every other base cell deleted on that side.

New cells of the two sides are then paired with each other when identical (equal blocks of
a ``SequenceMatcher`` over them): the same cell added on both sides is one cell.

Keys: base cell ``i`` has key ``i``; a new cell a fresh integer.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

WINDOW = 64
"""How far ahead a base cell of a "replace" block looks for a similar side cell."""
SIMILAR = 0.5
LARGE = 10_000
"""More cells than this (both sequences): SequenceMatcher's junk heuristic is left on."""

Signature = tuple[str, str]


def signature(cell: Mapping[str, Any]) -> Signature:
    return (str(cell.get("cell_type", "")), source_of(cell))


def source_of(cell: Mapping[str, Any]) -> str:
    """A cell's source as one string (JSON allows a list of lines)."""
    source = cell.get("source", "")
    if isinstance(source, list):
        return "".join(source)
    return source if isinstance(source, str) else ""


def similar(a: str, b: str) -> bool:
    """Source similarity ratio >= 0.5 (by character; by line for long sources)."""
    if a == b:
        return True
    x: Sequence[str] = a
    y: Sequence[str] = b
    if len(a) + len(b) > 20_000:
        x, y = a.splitlines(keepends=True), b.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, x, y)
    return (
        matcher.real_quick_ratio() >= SIMILAR
        and matcher.quick_ratio() >= SIMILAR
        and matcher.ratio() >= SIMILAR
    )


def align_to_base(base: list[Signature], side: list[Signature]) -> list[int | None]:
    """For each side cell, the index of the base cell it continues, or None (a new cell)."""
    match: list[int | None] = [None] * len(side)
    used = [False] * len(base)
    # exhaustive, unless so many cells that repeated ones (empty cells) could make it quadratic
    matcher = difflib.SequenceMatcher(None, base, side, autojunk=len(base) + len(side) > LARGE)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for offset in range(i2 - i1):
                match[j1 + offset] = i1 + offset
                used[i1 + offset] = True
        elif tag == "replace":
            j = j1
            for i in range(i1, i2):
                for candidate in range(j, min(j2, j + WINDOW)):
                    if similar(base[i][1], side[candidate][1]):
                        match[candidate] = i
                        used[i] = True
                        j = candidate + 1
                        break
    free: dict[Signature, list[int]] = {}
    for i in range(len(base) - 1, -1, -1):  # reversed, so that pop() gives the first
        if not used[i]:
            free.setdefault(base[i], []).append(i)
    if free:
        for j, sig in enumerate(side):
            if match[j] is None and free.get(sig):
                match[j] = free[sig].pop()
    return match


def content_keys(
    base: list[Signature], local: list[Signature], remote: list[Signature]
) -> tuple[list[int], list[int], list[int]]:
    """Keys of the cells of the three versions aligned by content (see the module docstring)."""
    n = len(base)
    local_match = align_to_base(base, local)
    remote_match = align_to_base(base, remote)
    local_keys = [n + j if m is None else m for j, m in enumerate(local_match)]
    remote_keys = [n + len(local) + k if m is None else m for k, m in enumerate(remote_match)]
    local_new = [j for j, m in enumerate(local_match) if m is None]
    remote_new = [k for k, m in enumerate(remote_match) if m is None]
    if local_new and remote_new:
        matcher = difflib.SequenceMatcher(
            None,
            [local[j] for j in local_new],
            [remote[k] for k in remote_new],
            autojunk=len(local_new) + len(remote_new) > LARGE,
        )
        for a, b, size in matcher.get_matching_blocks():
            for offset in range(size):
                remote_keys[remote_new[b + offset]] = local_keys[local_new[a + offset]]
    return list(range(n)), local_keys, remote_keys
