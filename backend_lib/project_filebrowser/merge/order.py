"""The order of a merged notebook's cells: a three-way merge of the sequences of cell keys.

``merge3`` over the keys; regions changed on one side (or the same way on both) are taken.
In a conflicting region where each side is the base's region, minus deleted cells, plus new
cells, both sides' new cells are kept: before each base cell (and at the end) local's new
cells, then remote's. Any other conflicting region (both sides moved cells differently) takes
local's order, then remote's cells not in it. Each kept key appears once, at its first place;
a kept key no region placed (none should be) goes at the end.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from .text import merge_sequences

Key = Hashable


def _interleave(
    zone: list[Key], local: list[Key], remote: list[Key], old: set[Key]
) -> list[Key] | None:
    """A conflict region where each side is the base's region, minus deleted cells, plus new
    cells: before each base cell (and at the end) local's new cells, then remote's. None when
    a side reordered or brought in base cells."""
    in_zone = set(zone)
    groups: list[tuple[dict[Key, list[Key]], list[Key]]] = []
    for side in (local, remote):
        before: dict[Key, list[Key]] = {}
        pending: list[Key] = []
        kept: list[Key] = []
        for key in side:
            if key not in old:
                pending.append(key)
            elif key in in_zone:
                kept.append(key)
                before[key], pending = pending, []
            else:
                return None
        kept_set = set(kept)
        if kept != [key for key in zone if key in kept_set]:
            return None
        groups.append((before, pending))
    out: list[Key] = []
    for key in zone:
        for before, _ in groups:
            out.extend(before.get(key, ()))
        out.append(key)
    for _, tail in groups:
        out.extend(tail)
    return out


def merge_order(
    base: list[Key], local: list[Key], remote: list[Key], kept: dict[Key, Any]
) -> list[Key]:
    """The merged order of the kept keys (see the module docstring)."""
    old = set(base)

    def conflict(zone: list[Key], mine: list[Key], theirs: list[Key]) -> list[Key]:
        merged = _interleave(zone, mine, theirs, old)
        return mine + theirs if merged is None else merged  # local's order; duplicates below

    out = merge_sequences(base, local, remote, conflict)
    assert out is not None  # ``conflict`` never gives up
    seen: set[Key] = set()
    order: list[Key] = []
    for key in [*out, *local, *remote]:  # the tail only catches what the regions left out
        if key in kept and key not in seen:
            seen.add(key)
            order.append(key)
    return order
