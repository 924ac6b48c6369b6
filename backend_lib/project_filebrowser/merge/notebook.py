"""Three-way merge of Jupyter notebooks, cell by cell.

Rules:

* Any version over ``NOTEBOOK_MAX_BYTES`` -> ``too_large``. Shortcuts on equal bytes (local ==
  remote -> that; local == base -> remote; remote == base -> local). A version that is not
  UTF-8 JSON of an nbformat 4 notebook passing ``nbformat.validate`` -> ``unparsable``.
  Reading never changes a version's cells: validation runs on a copy (nbformat's validate
  would add random ids), and nothing is upgraded. (A side's cell identical to a base cell
  is not validated twice: the schema checks cells one by one.)
* Cells are aligned by id when every cell of the three versions has an id unique in its
  version; otherwise by content (``align.py``).
* A cell in all three versions is merged field by field; deleted on one side and unchanged
  on the other (type, source, metadata, attachments: outputs do not count) -> deleted;
  deleted on one side and edited on the other -> conflict ``delete_edit``; deleted on both ->
  gone; new on one side -> inserted; the same new cell on both sides (same id; or identical,
  when aligned by content) -> merged against an empty cell.
* Order (``order.py``): ``merge3`` over the cells' keys. Where both sides inserted cells at
  the same place, both are kept, local's first; where both sides moved cells differently in
  the same place, local's order wins (not a conflict). Each cell appears once.
* Fields: ``source`` is line-merged as text files are (a conflicting region -> ``overlap``);
  ``cell_type`` changed differently on both sides -> ``overlap``; ``metadata`` and
  ``attachments`` merge key by key (``values.py``). ``outputs`` and ``execution_count`` never
  conflict: they come from the side that alone changed the source; else from the side that
  alone changed them; else from the side that wrote ``later``. The id is local's, else
  remote's, else base's.
* Notebook ``metadata`` merges key by key (a conflict -> ``overlap`` with no cells);
  ``nbformat_minor`` is the largest of the three.
* Any conflict -> no content; reason ``delete_edit`` if a cell conflicted that way, else
  ``overlap``; ``cells`` lists every conflicting cell (its index in the remote version, or in
  the local one when the remote deleted it) by index. A cell made code on one side and given
  an attachment on the other (code cells have none) is an ``overlap`` too.
* A clean result has unique cell ids (a duplicate, or a missing id when the minor version is
  5 or more, gets an id derived from a hash of the cell's key: deterministic, no randomness),
  passes ``nbformat.validate`` and is written as Jupyter server writes notebooks:
  ``nbformat.writes(nb, version=NO_CONVERT)`` plus a final newline, UTF-8.

The size limit is read from this module at call time (tests may monkeypatch it).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

import nbformat

from . import align
from .order import Key, merge_order
from .result import CellRef, MergeResult, not_clean
from .text import merge_lines
from .values import MISSING, Conflict, merge_dict, merge_value, same

NOTEBOOK_MAX_BYTES = 64 << 20
"""Notebooks are merged up to 64 MiB (outputs are not line-merged, only sources)."""

Cell = dict[str, Any]
_SEMANTIC = ("cell_type", "source", "metadata", "attachments")


@dataclass(slots=True)
class _Version:
    raw: dict[str, Any]  # the JSON as read (sources may be lists of lines), transients stripped
    cells: list[Cell]
    minor: int


def _parse(data: bytes) -> dict[str, Any] | None:
    try:
        raw = json.loads(data.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError and JSONDecodeError included
        return None
    if (
        not isinstance(raw, dict)
        or not isinstance(raw.get("cells"), list)
        or raw.get("nbformat") != 4
        or type(raw.get("nbformat_minor")) is not int
    ):
        return None
    return raw


def _valid(raw: dict[str, Any], cells: list[Any]) -> bool:
    """``nbformat.validate`` of ``raw`` with these of its cells, on a copy whose missing or
    duplicate ids are filled in (validate would fill them in place, with random ids; a
    notebook Jupyter repairs that way on reading is accepted)."""
    if raw["nbformat_minor"] >= 5:
        taken = {c["id"] for c in cells if isinstance(c, dict) and isinstance(c.get("id"), str)}
        seen: set[str] = set()
        copied: list[Any] = []
        for i, cell in enumerate(cells):
            if isinstance(cell, dict):
                cid = cell.get("id")
                if "id" not in cell or (isinstance(cid, str) and cid in seen):
                    n = i
                    while f"x{n}" in taken:
                        n += len(cells)
                    cid = f"x{n}"
                    taken.add(cid)
                    cell = {**cell, "id": cid}
                if isinstance(cid, str):
                    seen.add(cid)
            copied.append(cell)
        cells = copied
    try:
        nbformat.validate({**raw, "cells": cells})
    except Exception:  # any malformed structure, not only a schema error
        return False
    return True


def _strip_transient(raw: dict[str, Any]) -> None:
    """What nbformat strips on reading and writing (so it is not merged either)."""
    for key in ("orig_nbformat", "orig_nbformat_minor", "signature"):
        raw["metadata"].pop(key, None)
    for cell in raw["cells"]:
        cell["metadata"].pop("trusted", None)


def _read(base: bytes, local: bytes, remote: bytes) -> tuple[_Version, _Version, _Version] | None:
    """The three versions, validated; None if one is not a valid notebook. A side's cell
    identical to a base cell (same schema version) is not validated again: the schema
    checks each cell on its own."""
    raws = [_parse(data) for data in (base, local, remote)]
    b = raws[0]
    if b is None or not _valid(b, b["cells"]):
        return None
    by_id = {c["id"]: c for c in b["cells"] if isinstance(c.get("id"), str)}
    b_cells = b["cells"]
    for side in raws[1:]:
        if side is None:
            return None
        cells = side["cells"]
        if side["nbformat_minor"] == b["nbformat_minor"]:
            cells = [
                c
                for i, c in enumerate(cells)
                if not isinstance(c, dict)
                or not (
                    (isinstance(c.get("id"), str) and by_id.get(c["id"]) == c)
                    or (i < len(b_cells) and b_cells[i] == c)
                )
            ]
        if not _valid(side, cells):
            return None
    versions = []
    for raw in raws:
        assert raw is not None
        _strip_transient(raw)
        versions.append(_Version(raw, raw["cells"], raw["nbformat_minor"]))
    return versions[0], versions[1], versions[2]


def _has_unique_ids(version: _Version) -> bool:
    ids = [cell.get("id") for cell in version.cells]
    return all(isinstance(i, str) for i in ids) and len(set(ids)) == len(ids)


def _edited(base: Cell, cell: Cell) -> bool:
    return any(not same(_field(base, f), _field(cell, f)) for f in _SEMANTIC)


def _field(cell: Cell, name: str) -> Any:
    if name == "source":
        return align.source_of(cell)
    return cell.get(name, MISSING)


def _run(cell: Cell | None) -> tuple[Any, Any]:
    """A code cell's outputs and execution_count (a cell that is not there: none)."""
    if cell is None:
        return [], None
    return cell.get("outputs", []), cell.get("execution_count")


def _output_donor(base: Cell | None, local: Cell, remote: Cell, later: str) -> Cell | None:
    """The side whose outputs and execution_count the merged code cell gets."""
    sides = [c for c in (local, remote) if c.get("cell_type") == "code"]
    if len(sides) < 2:
        return sides[0] if sides else None
    b_source = align.source_of(base) if base is not None else ""
    local_src = align.source_of(local) != b_source
    remote_src = align.source_of(remote) != b_source
    if local_src != remote_src:
        return local if local_src else remote
    b_run = _run(base)
    local_run = _run(local) != b_run
    remote_run = _run(remote) != b_run
    if local_run != remote_run:
        return local if local_run else remote
    return local if later == "local" else remote


def _merge_cell(base: Cell | None, local: Cell, remote: Cell, later: str) -> Cell:
    """The merged cell (its id is set by the caller); raises Conflict."""
    if local == remote or (base is not None and remote == base):
        return dict(local)
    if base is not None and local == base:
        return dict(remote)
    b: Cell = base if base is not None else {}
    cell_type = merge_value(b.get("cell_type", MISSING), local["cell_type"], remote["cell_type"])
    source = merge_lines(align.source_of(b), align.source_of(local), align.source_of(remote))
    if source is None:
        raise Conflict
    metadata = merge_dict(b.get("metadata", {}), local["metadata"], remote["metadata"])
    attachments = merge_value(
        b.get("attachments", MISSING),
        local.get("attachments", MISSING),
        remote.get("attachments", MISSING),
    )
    cell: Cell = {"cell_type": cell_type, "metadata": metadata, "source": source}
    if cell_type == "code":
        if attachments is not MISSING and attachments:
            raise Conflict  # a code cell has no attachments: one side made it code
        cell["outputs"], cell["execution_count"] = _run(_output_donor(base, local, remote, later))
    elif attachments is not MISSING:
        cell["attachments"] = attachments
    return cell


def _fresh_id(key: Key, taken: set[str]) -> str:
    n = 0
    while True:
        digest = hashlib.sha256(f"{key!r}:{n}".encode()).hexdigest()[:8]
        if digest not in taken:
            return digest
        n += 1


def _settle_ids(cells: list[Cell], keys: list[Key], minor: int) -> None:
    """Unique ids; every cell one from minor 5 on; none before (4.4 has no ids)."""
    if minor < 5:
        for cell in cells:
            cell.pop("id", None)
        return
    taken: set[str] = set()
    redo: list[int] = []
    for i, cell in enumerate(cells):
        cid = cell.get("id")
        if isinstance(cid, str) and cid not in taken:
            taken.add(cid)
        else:
            redo.append(i)
    for i in redo:
        cells[i]["id"] = _fresh_id(keys[i], taken)
        taken.add(cells[i]["id"])


def _first_id(*cells: Cell | None) -> str | None:
    for cell in cells:
        if cell is not None and isinstance(cell.get("id"), str):
            return str(cell["id"])
    return None


def _merge(base: _Version, local: _Version, remote: _Version, later: str) -> MergeResult:
    versions = (base, local, remote)
    keys: tuple[list[Key], list[Key], list[Key]]
    if all(_has_unique_ids(v) for v in versions):
        keys = (
            [c["id"] for c in base.cells],
            [c["id"] for c in local.cells],
            [c["id"] for c in remote.cells],
        )
    else:
        sigs = [[align.signature(c) for c in v.cells] for v in versions]
        keys = align.content_keys(*sigs)
    b_map, l_map, r_map = (
        dict(zip(k, v.cells, strict=True)) for k, v in zip(keys, versions, strict=True)
    )
    l_pos = {key: i for i, key in enumerate(keys[1])}
    r_pos = {key: i for i, key in enumerate(keys[2])}

    def ref(key: Key) -> CellRef:
        if key in r_pos:
            return CellRef(_first_id(r_map[key]), r_pos[key])
        return CellRef(_first_id(l_map[key]), l_pos[key])

    kept: dict[Key, Cell] = {}
    conflicts: list[tuple[CellRef, str]] = []
    seen: set[Key] = set()
    for key in [*keys[0], *keys[1], *keys[2]]:
        if key in seen:
            continue
        seen.add(key)
        b, lc, rc = b_map.get(key), l_map.get(key), r_map.get(key)
        if lc is not None and rc is not None:
            try:
                cell = _merge_cell(b, lc, rc, later)
            except Conflict:
                conflicts.append((ref(key), "overlap"))
                continue
            cell_id = _first_id(lc, rc, b)
            cell.pop("id", None)
            if cell_id is not None:
                cell["id"] = cell_id
            kept[key] = cell
        elif lc is not None or rc is not None:
            other = lc if lc is not None else rc
            assert other is not None
            if b is None:
                kept[key] = dict(other)  # new on one side
            elif _edited(b, other):
                conflicts.append((ref(key), "delete_edit"))
    metadata: dict[str, Any] | None
    try:
        metadata = merge_dict(base.raw["metadata"], local.raw["metadata"], remote.raw["metadata"])
    except Conflict:
        metadata = None
    if conflicts or metadata is None:
        reason = "delete_edit" if any(r == "delete_edit" for _, r in conflicts) else "overlap"
        cells = sorted((c for c, _ in conflicts), key=lambda c: c.index)
        return not_clean(reason, tuple(cells))

    order = merge_order(*keys, kept)
    minor = max(v.minor for v in versions)
    cells = [kept[key] for key in order]
    _settle_ids(cells, order, minor)
    # to_notebook: as nbformat.reads makes it (multi-line strings joined, transients dropped)
    nb = nbformat.v4.to_notebook(
        {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": minor}
    )
    invalid: dict[str, Any] = {}
    text = nbformat.writes(nb, version=nbformat.NO_CONVERT, capture_validation_error=invalid)
    if invalid:  # defensive: valid sides merged field by field should stay valid
        return not_clean("overlap")
    if not text.endswith("\n"):
        text += "\n"  # nbformat.write (what Jupyter server calls) adds it
    return MergeResult(text.encode("utf-8"))


def merge_notebook(
    base: bytes, local: bytes, remote: bytes, *, later: Literal["local", "remote"]
) -> MergeResult:
    """Merge three versions of a notebook (see the module docstring for the rules)."""
    if later not in ("local", "remote"):
        raise ValueError(f"later must be 'local' or 'remote', not {later!r}")
    if max(len(base), len(local), len(remote)) > NOTEBOOK_MAX_BYTES:
        return not_clean("too_large")
    if local == remote or remote == base:
        return MergeResult(local)
    if local == base:
        return MergeResult(remote)
    versions = _read(base, local, remote)
    if versions is None:
        return not_clean("unparsable")
    return _merge(*versions, later)
