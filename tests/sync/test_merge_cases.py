"""The three-way merges of ``project_filebrowser.merge``: a table of cases, each checked for
its exact result (the merged notebook's cells, or the exact bytes of a text, or the exact
reason and cells of a conflict). Every clean notebook result is also checked to be what
Jupyter itself would write (its own read + write changes nothing), valid, with unique ids,
deterministic, and idempotent: merging the result again against either side gives it back."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any, Literal

import nbformat
import pytest
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from project_filebrowser import merge
from project_filebrowser.merge import (
    NOTEBOOK_MAX_BYTES,
    TEXT_MAX_BYTES,
    CellRef,
    MergeResult,
    kind_of,
    merge_file,
    merge_notebook,
    merge_text,
)
from project_filebrowser.merge import notebook as notebook_module
from project_filebrowser.merge import text as text_module

Later = Literal["local", "remote"]

# -- building notebooks -----------------------------------------------------------------------


def code(
    cell_id: str | None,
    source: str,
    out: str | None = None,
    count: int | None = None,
    **metadata: Any,
) -> NotebookNode:
    outputs = [new_output("stream", name="stdout", text=out)] if out is not None else []
    cell = new_code_cell(source, id=cell_id or "x", outputs=outputs, execution_count=count)
    cell.metadata.update(metadata)
    if cell_id is None:
        del cell["id"]
    return cell


def md(cell_id: str | None, source: str, **metadata: Any) -> NotebookNode:
    cell = new_markdown_cell(source, id=cell_id or "x")
    cell.metadata.update(metadata)
    if cell_id is None:
        del cell["id"]
    return cell


def notebook(cells: list[NotebookNode], minor: int = 5, **metadata: Any) -> NotebookNode:
    nb = new_notebook(cells=copy.deepcopy(cells), metadata=metadata)
    nb.nbformat_minor = minor
    return nb


def jupyter_bytes(nb: NotebookNode) -> bytes:
    """What Jupyter server writes: ``nbformat.write`` = ``writes`` + a final newline."""
    text = nbformat.writes(nb, version=nbformat.NO_CONVERT)
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")


def edit(nb: NotebookNode, **changes: Any) -> NotebookNode:
    """A copy of ``nb`` with cells (by id) replaced/removed: ``c2=None``, ``c1=cell``."""
    out = copy.deepcopy(nb)
    cells = []
    for cell in out.cells:
        new = changes.get(cell.get("id"), cell)
        if new is not None:
            cells.append(copy.deepcopy(new))
    out.cells = cells
    return out


# -- what a merged notebook looks like, compactly ------------------------------------------------


@dataclass(frozen=True)
class C:
    """A merged cell: id, source, type, stream output texts, execution_count, metadata."""

    id: str | None
    source: str
    type: str = "code"
    out: tuple[str, ...] = ()
    count: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def cell_view(cell: NotebookNode) -> C:
    return C(
        cell.get("id"),
        cell.source,
        cell.cell_type,
        tuple(o.get("text", "") for o in cell.get("outputs", [])),
        cell.get("execution_count"),
        dict(cell.metadata),
    )


@dataclass(frozen=True)
class Clean:
    cells: list[C]
    metadata: dict[str, Any] | None = None  # None: not checked
    minor: int = 5


@dataclass(frozen=True)
class NotClean:
    reason: str
    cells: tuple[CellRef, ...] = ()


def check_jupyter_form(content: bytes) -> NotebookNode:
    """The merged bytes are exactly what Jupyter writes after reading them; valid; unique
    ids (when the minor version has ids)."""
    parsed = nbformat.reads(content.decode("utf-8"), as_version=nbformat.NO_CONVERT)
    assert jupyter_bytes(parsed) == content
    nbformat.validate(copy.deepcopy(parsed))
    ids = [cell.get("id") for cell in parsed.cells]
    if parsed.nbformat_minor >= 5:
        assert all(isinstance(i, str) for i in ids)
        assert len(set(ids)) == len(ids)
    else:
        assert ids == [None] * len(ids)
    return parsed


# -- the notebook table -------------------------------------------------------------------------

BASE = notebook(
    [
        code("c1", "a = 1\nb = 2\n", out="1\n", count=1),
        md("m1", "# Title\n\nSome text.\n"),
        code("c2", "line1\nline2\nline3\nline4\nline5\n", out="2\n", count=2),
        code("c3", "print(a)\n", out="a\n", count=3),
    ],
    kernelspec={"name": "python3", "display_name": "Python 3", "language": "python"},
)

FIVE = "line1\nline2\nline3\nline4\nline5\n"
T1 = "# Title\n\nSome text.\n"
BASE_VIEW = [
    C("c1", "a = 1\nb = 2\n", out=("1\n",), count=1),
    C("m1", T1, "markdown"),
    C("c2", FIVE, out=("2\n",), count=2),
    C("c3", "print(a)\n", out=("a\n",), count=3),
]


def view(**changes: C | None) -> list[C]:
    """BASE_VIEW with cells (by id) replaced or removed."""
    out = []
    for cell in BASE_VIEW:
        new = changes.get(cell.id or "", cell)
        if new is not None:
            out.append(new)
    return out


def no_ids(nb: NotebookNode) -> NotebookNode:
    out = copy.deepcopy(nb)
    for cell in out.cells:
        cell.pop("id", None)
    out.nbformat_minor = 4
    return out


OLD = no_ids(BASE)  # nbformat 4.4, no ids


def old_edit(nb: NotebookNode, cells: list[NotebookNode]) -> NotebookNode:
    out = copy.deepcopy(nb)
    out.cells = [copy.deepcopy(c) for c in cells]
    return out


def old(i: int) -> NotebookNode:
    return copy.deepcopy(OLD.cells[i])


def changed(cell: NotebookNode, **fields: Any) -> NotebookNode:
    out = copy.deepcopy(cell)
    for name, value in fields.items():
        if name == "metadata":
            out.metadata.update(value)
        else:
            out[name] = value
    return out


def moved(nb: NotebookNode, cell_id: str, to: int) -> NotebookNode:
    out = copy.deepcopy(nb)
    cell = next(c for c in out.cells if c.id == cell_id)
    out.cells.remove(cell)
    out.cells.insert(to, cell)
    return out


def inserted(nb: NotebookNode, at: int, *cells: NotebookNode) -> NotebookNode:
    out = copy.deepcopy(nb)
    out.cells[at:at] = [copy.deepcopy(c) for c in cells]
    return out


def with_meta(nb: NotebookNode, **metadata: Any) -> NotebookNode:
    out = copy.deepcopy(nb)
    for key, value in metadata.items():
        if value is None:
            out.metadata.pop(key, None)
        else:
            out.metadata[key] = value
    return out


c1, m1, c2, c3 = (copy.deepcopy(c) for c in BASE.cells)
KERNEL = dict(BASE.metadata)

NOTEBOOK_CASES = [
    pytest.param(
        BASE,
        edit(BASE, c1=changed(c1, source="a = 10\nb = 2\n")),
        edit(BASE, c3=changed(c3, source="print(a, b)\n")),
        "remote",
        Clean(
            view(
                c1=C("c1", "a = 10\nb = 2\n", out=("1\n",), count=1),
                c3=C("c3", "print(a, b)\n", out=("a\n",), count=3),
            ),
            KERNEL,
        ),
        id="different-cells-edited",
    ),
    pytest.param(
        BASE,
        edit(BASE, c2=changed(c2, source=FIVE.replace("line1", "LINE1"))),
        edit(BASE, c2=changed(c2, source=FIVE.replace("line5", "LINE5"))),
        "local",
        Clean(view(c2=C("c2", "LINE1\nline2\nline3\nline4\nLINE5\n", out=("2\n",), count=2))),
        id="same-cell-different-lines",
    ),
    pytest.param(
        BASE,
        edit(BASE, c2=changed(c2, source=FIVE.replace("line3", "local3"))),
        inserted(
            edit(BASE, c2=changed(c2, source=FIVE.replace("line3", "remote3"))),
            0,
            md("r0", "remote's new first cell"),
        ),
        "local",
        NotClean("overlap", (CellRef("c2", 3),)),
        id="same-line-differently",
    ),
    pytest.param(
        BASE,
        edit(
            BASE,
            c2=changed(c2, source=FIVE.replace("line3", "line3!")),
            c3=changed(c3, source="print(1)\n"),
        ),
        edit(
            BASE,
            c2=changed(c2, source=FIVE.replace("line3", "line3?")),
            c3=changed(c3, source="print(2)\n"),
        ),
        "local",
        NotClean("overlap", (CellRef("c2", 2), CellRef("c3", 3))),
        id="two-cells-overlap",
    ),
    pytest.param(
        BASE,
        inserted(BASE, 2, code("l1", "local new 1\n"), md("l2", "local new 2\n")),
        inserted(BASE, 2, code("r1", "remote new\n")),
        "remote",
        Clean(
            [
                BASE_VIEW[0],
                BASE_VIEW[1],
                C("l1", "local new 1\n"),
                C("l2", "local new 2\n", "markdown"),
                C("r1", "remote new\n"),
                *BASE_VIEW[2:],
            ]
        ),
        id="inserted-both-sides-same-place",
    ),
    pytest.param(
        BASE,
        inserted(BASE, 4, code("l1", "local at end\n")),
        inserted(BASE, 0, code("r1", "remote at start\n")),
        "remote",
        Clean([C("r1", "remote at start\n"), *BASE_VIEW, C("l1", "local at end\n")]),
        id="inserted-both-sides-elsewhere",
    ),
    pytest.param(
        BASE,
        inserted(BASE, 1, code("n1", "same new cell\n")),
        inserted(BASE, 1, code("n1", "same new cell\n")),
        "remote",
        Clean([BASE_VIEW[0], C("n1", "same new cell\n"), *BASE_VIEW[1:]]),
        id="same-new-cell-both-sides",
    ),
    pytest.param(
        BASE,
        inserted(BASE, 1, code("n1", "x = 1\n\n\ny = 2\n")),
        inserted(BASE, 1, code("n1", "x = 1\n\n\ny = 3\n")),
        "remote",
        NotClean("overlap", (CellRef("n1", 1),)),
        id="same-new-id-different-sources",
    ),
    pytest.param(
        BASE,
        moved(BASE, "c1", 3),
        edit(BASE, c1=changed(c1, source="a = 100\nb = 2\n")),
        "local",
        Clean([*BASE_VIEW[1:], C("c1", "a = 100\nb = 2\n", out=("1\n",), count=1)]),
        id="moved-one-side-edited-other",
    ),
    pytest.param(
        BASE,
        moved(BASE, "c3", 0),
        moved(BASE, "c3", 2),
        "local",
        Clean([BASE_VIEW[3], *BASE_VIEW[:3]]),
        id="moved-differently-local-order",
    ),
    pytest.param(
        BASE,
        edit(BASE, c2=None),
        edit(BASE, c2=changed(c2, source="edited\n")),
        "local",
        NotClean("delete_edit", (CellRef("c2", 2),)),
        id="deleted-local-edited-remote",
    ),
    pytest.param(
        BASE,
        inserted(edit(BASE, c2=changed(c2, source="edited\n")), 0, md("l0", "new")),
        edit(BASE, c2=None),
        "local",
        NotClean("delete_edit", (CellRef("c2", 3),)),
        id="edited-local-deleted-remote",
    ),
    pytest.param(
        BASE,
        edit(BASE, m1=None),
        edit(BASE, c3=changed(c3, source="print(3)\n")),
        "local",
        Clean(view(m1=None, c3=C("c3", "print(3)\n", out=("a\n",), count=3))),
        id="deleted-one-side-unchanged-other",
    ),
    pytest.param(
        BASE,
        edit(BASE, m1=None),
        edit(BASE, m1=changed(m1, metadata={"tags": ["x"]})),
        "local",
        NotClean("delete_edit", (CellRef("m1", 1),)),
        id="deleted-one-side-metadata-edited-other",
    ),
    pytest.param(
        BASE,
        edit(BASE, c1=None),
        edit(
            BASE,
            c1=changed(
                c1, outputs=[new_output("stream", name="stdout", text="9\n")], execution_count=9
            ),
        ),
        "remote",
        Clean(view(c1=None)),
        id="deleted-one-side-rerun-other",
    ),
    pytest.param(
        BASE,
        edit(BASE, m1=None, c3=None),
        edit(BASE, m1=None),
        "local",
        Clean(view(m1=None, c3=None)),
        id="deleted-both-sides",
    ),
    pytest.param(
        BASE,
        edit(
            BASE,
            c1=changed(
                c1, outputs=[new_output("stream", name="stdout", text="L\n")], execution_count=5
            ),
        ),
        edit(BASE, c3=changed(c3, source="print(b)\n")),
        "remote",
        Clean(
            view(
                c1=C("c1", "a = 1\nb = 2\n", out=("L\n",), count=5),
                c3=C("c3", "print(b)\n", out=("a\n",), count=3),
            )
        ),
        id="outputs-only-one-side",
    ),
    pytest.param(
        BASE,
        edit(
            BASE,
            c1=changed(
                c1, outputs=[new_output("stream", name="stdout", text="L\n")], execution_count=5
            ),
        ),
        edit(
            BASE,
            c1=changed(
                c1, outputs=[new_output("stream", name="stdout", text="R\n")], execution_count=6
            ),
        ),
        "remote",
        Clean(view(c1=C("c1", "a = 1\nb = 2\n", out=("R\n",), count=6))),
        id="outputs-both-sides-later-remote",
    ),
    pytest.param(
        BASE,
        edit(
            BASE,
            c1=changed(
                c1, outputs=[new_output("stream", name="stdout", text="L\n")], execution_count=5
            ),
        ),
        edit(
            BASE,
            c1=changed(
                c1, outputs=[new_output("stream", name="stdout", text="R\n")], execution_count=6
            ),
        ),
        "local",
        Clean(view(c1=C("c1", "a = 1\nb = 2\n", out=("L\n",), count=5))),
        id="outputs-both-sides-later-local",
    ),
    pytest.param(
        BASE,
        edit(
            BASE,
            c1=changed(
                c1,
                source="a = 5\nb = 2\n",
                execution_count=7,
                outputs=[new_output("stream", name="stdout", text="5\n")],
            ),
        ),
        edit(
            BASE,
            c1=changed(
                c1, execution_count=8, outputs=[new_output("stream", name="stdout", text="rerun\n")]
            ),
        ),
        "remote",
        Clean(view(c1=C("c1", "a = 5\nb = 2\n", out=("5\n",), count=7))),
        id="execution-count-follows-source-winner",
    ),
    pytest.param(
        BASE,
        edit(
            BASE,
            c2=changed(
                c2,
                source=FIVE.replace("line1", "L1"),
                execution_count=7,
                outputs=[new_output("stream", name="stdout", text="L\n")],
            ),
        ),
        edit(
            BASE,
            c2=changed(
                c2,
                source=FIVE.replace("line5", "R5"),
                execution_count=8,
                outputs=[new_output("stream", name="stdout", text="R\n")],
            ),
        ),
        "local",
        Clean(view(c2=C("c2", "L1\nline2\nline3\nline4\nR5\n", out=("L\n",), count=7))),
        id="both-sources-changed-outputs-from-later",
    ),
    pytest.param(
        BASE,
        edit(BASE, c2=changed(c2, source=FIVE.replace("line1", "L1"))),
        edit(
            BASE,
            c2=changed(
                c2,
                source=FIVE.replace("line5", "R5"),
                execution_count=8,
                outputs=[new_output("stream", name="stdout", text="R\n")],
            ),
        ),
        "local",
        Clean(view(c2=C("c2", "L1\nline2\nline3\nline4\nR5\n", out=("R\n",), count=8))),
        id="both-sources-changed-outputs-from-the-one-that-ran",
    ),
    pytest.param(
        BASE,
        with_meta(BASE, a=1, kernelspec=None),
        with_meta(BASE, b={"x": 2}),
        "local",
        Clean(BASE_VIEW, {"a": 1, "b": {"x": 2}}),
        id="notebook-metadata-by-key",
    ),
    pytest.param(
        with_meta(BASE, tool={"x": 1, "y": 1}),
        with_meta(BASE, tool={"x": 2, "y": 1}),
        with_meta(BASE, tool={"x": 1, "y": 3}),
        "local",
        Clean(BASE_VIEW, {**KERNEL, "tool": {"x": 2, "y": 3}}),
        id="notebook-metadata-nested-keys",
    ),
    pytest.param(
        BASE,
        edit(with_meta(BASE, a=1), c1=changed(c1, source="z\n")),
        with_meta(BASE, a=2),
        "local",
        NotClean("overlap"),
        id="notebook-metadata-same-key-differently",
    ),
    pytest.param(
        # a code cell has no attachments: made code on one side, given one on the other
        BASE,
        edit(BASE, m1=code("m1", T1)),
        edit(BASE, m1=changed(m1, attachments={"a.png": {"image/png": "iVBORw0KGgo="}})),
        "local",
        NotClean("overlap", (CellRef("m1", 1),)),
        id="made-code-one-side-attachment-other",
    ),
    pytest.param(
        BASE,
        edit(BASE, m1=code("m1", T1)),
        edit(BASE, m1=changed(m1, source=T1 + "More.\n")),
        "local",
        Clean(view(m1=C("m1", T1 + "More.\n"))),
        id="made-code-one-side-edited-other",
    ),
    pytest.param(
        BASE,
        edit(BASE, c3=changed(c3, metadata={"tags": ["local"]})),
        edit(BASE, c3=changed(c3, metadata={"collapsed": True})),
        "local",
        Clean(
            view(
                c3=C(
                    "c3",
                    "print(a)\n",
                    out=("a\n",),
                    count=3,
                    meta={"tags": ["local"], "collapsed": True},
                )
            )
        ),
        id="cell-metadata-by-key",
    ),
    pytest.param(
        BASE,
        edit(BASE, c3=changed(c3, metadata={"tags": ["local"]})),
        edit(BASE, c3=changed(c3, metadata={"tags": ["remote"]})),
        "local",
        NotClean("overlap", (CellRef("c3", 3),)),
        id="cell-metadata-same-key-differently",
    ),
    pytest.param(
        BASE,
        edit(BASE, m1=changed(m1, cell_type="raw")),
        edit(BASE, m1=changed(m1, source="# Title\n\nOther text.\n")),
        "local",
        Clean(view(m1=C("m1", "# Title\n\nOther text.\n", "raw"))),
        id="cell-type-one-side-source-other",
    ),
    pytest.param(
        OLD,
        old_edit(
            OLD,
            [
                changed(old(0), source="a = 10\nb = 2\n"),
                old(1),
                old(2),
                old(3),
                code(None, "local new\n"),
            ],
        ),
        old_edit(OLD, [old(0), old(1), changed(old(2), source=FIVE + "line6\n")]),
        "remote",
        Clean(
            [
                C(None, "a = 10\nb = 2\n", out=("1\n",), count=1),
                C(None, T1, "markdown"),
                C(None, FIVE + "line6\n", out=("2\n",), count=2),
                C(None, "local new\n"),
            ],
            minor=4,
        ),
        id="no-ids-4.4-by-content",
    ),
    pytest.param(
        OLD,
        old_edit(OLD, [old(1), old(2), old(3), old(0)]),
        old_edit(OLD, [changed(old(0), metadata={"tags": ["t"]}), old(1), old(2), old(3)]),
        "remote",
        Clean(
            [
                C(None, T1, "markdown"),
                C(None, FIVE, out=("2\n",), count=2),
                C(None, "print(a)\n", out=("a\n",), count=3),
                C(None, "a = 1\nb = 2\n", out=("1\n",), count=1, meta={"tags": ["t"]}),
            ],
            minor=4,
        ),
        id="no-ids-moved-one-side-edited-other",
    ),
    pytest.param(
        OLD,
        old_edit(
            OLD, [old(0), old(1), changed(old(2), source=FIVE.replace("line2", "L2")), old(3)]
        ),
        old_edit(
            OLD, [old(0), old(1), changed(old(2), source=FIVE.replace("line2", "R2")), old(3)]
        ),
        "remote",
        NotClean("overlap", (CellRef(None, 2),)),
        id="no-ids-same-line-differently",
    ),
    pytest.param(
        OLD,
        old_edit(OLD, [old(0), old(1), old(3)]),
        old_edit(OLD, [old(0), old(1), changed(old(2), source=FIVE + "line6\n"), old(3)]),
        "remote",
        NotClean("delete_edit", (CellRef(None, 2),)),
        id="no-ids-deleted-vs-edited",
    ),
    pytest.param(
        # without ids, a cell rewritten beyond 50 % similarity is a new cell, not an edit
        OLD,
        old_edit(OLD, [old(0), old(1), old(3)]),
        old_edit(OLD, [old(0), old(1), changed(old(2), source="other\n"), old(3)]),
        "remote",
        Clean(
            [C(None, c.source, c.type, c.out, c.count) for c in BASE_VIEW[:2]]
            + [
                C(None, "other\n", out=("2\n",), count=2),
                C(None, "print(a)\n", out=("a\n",), count=3),
            ],
            minor=4,
        ),
        id="no-ids-deleted-vs-rewritten",
    ),
    pytest.param(
        OLD,
        old_edit(OLD, [code(None, "same new\n"), *OLD.cells]),
        old_edit(OLD, [code(None, "same new\n"), *OLD.cells]),
        "remote",
        Clean(
            [
                C(None, "same new\n"),
                *(C(None, c.source, c.type, c.out, c.count) for c in BASE_VIEW),
            ],
            minor=4,
        ),
        id="no-ids-same-new-cell-once",
    ),
    pytest.param(
        OLD,
        # Jupyter upgraded the local copy to 4.5 (ids added); the remote is still 4.4
        edit(BASE, c1=changed(c1, source="a = 3\nb = 2\n")),
        old_edit(OLD, [*OLD.cells, md(None, "remote new\n")]),
        "remote",
        Clean(
            [
                C("c1", "a = 3\nb = 2\n", out=("1\n",), count=1),
                *BASE_VIEW[1:],
                C("524a2e56", "remote new\n", "markdown"),
            ],
            minor=5,
        ),
        id="mixed-4.4-and-4.5-ids-generated",
    ),
]


@pytest.mark.parametrize(("base", "local", "remote", "later", "expected"), NOTEBOOK_CASES)
def test_notebook_case(
    base: NotebookNode,
    local: NotebookNode,
    remote: NotebookNode,
    later: Later,
    expected: Clean | NotClean,
) -> None:
    b, lo, r = jupyter_bytes(base), jupyter_bytes(local), jupyter_bytes(remote)
    result = merge_notebook(b, lo, r, later=later)
    if isinstance(expected, NotClean):
        assert result == MergeResult(None, expected.reason, expected.cells)
        assert not result.clean
        return
    assert result.clean and result.reason is None and result.cells == ()
    assert result.content is not None
    parsed = check_jupyter_form(result.content)
    assert [cell_view(c) for c in parsed.cells] == expected.cells
    assert parsed.nbformat_minor == expected.minor
    if expected.metadata is not None:
        assert dict(parsed.metadata) == expected.metadata
    # deterministic, and idempotent against either side (a crash between the merge's write
    # and its push: the engine merges again with the merged file as one side)
    assert merge_notebook(b, lo, r, later=later) == result
    assert merge_notebook(b, result.content, r, later=later).content == result.content
    assert merge_notebook(b, lo, result.content, later=later).content == result.content
    assert merge_file("x/nb.IPYNB", b, lo, r, later=later) == result


def test_shortcuts_return_the_bytes_unchanged() -> None:
    b = jupyter_bytes(BASE)
    lo = jupyter_bytes(edit(BASE, c1=changed(c1, source="x\n")))
    oddly_formatted = json.dumps(json.loads(b)).encode()  # same notebook, other bytes
    assert merge_notebook(b, lo, b, later="remote").content == lo
    assert merge_notebook(b, b, lo, later="local").content == lo
    assert merge_notebook(b, lo, lo, later="local").content == lo
    assert merge_notebook(b, oddly_formatted, b, later="local").content == oddly_formatted


@pytest.mark.parametrize(
    "broken",
    [
        b'{"cells": [',  # not JSON
        b"\xff\xfe not utf-8",
        b"[]",  # not a dict
        b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}',  # no cells
        json.dumps({"nbformat": 3, "nbformat_minor": 0, "cells": [], "metadata": {}}).encode(),
        json.dumps(  # a cell without source: fails nbformat.validate
            {
                "nbformat": 4,
                "nbformat_minor": 5,
                "metadata": {},
                "cells": [{"cell_type": "markdown", "id": "a", "metadata": {}}],
            }
        ).encode(),
    ],
)
@pytest.mark.parametrize("side", ["base", "local", "remote"])
def test_unparsable_side(broken: bytes, side: str) -> None:
    versions = {
        "base": jupyter_bytes(BASE),
        "local": jupyter_bytes(edit(BASE, c1=changed(c1, source="x\n"))),
        "remote": jupyter_bytes(edit(BASE, c3=changed(c3, source="y\n"))),
    }
    versions[side] = broken
    result = merge_notebook(versions["base"], versions["local"], versions["remote"], later="local")
    assert result == MergeResult(None, "unparsable")


def test_a_45_notebook_without_ids_is_read_as_jupyter_reads_it() -> None:
    """Missing ids in a 4.5 file (Jupyter repairs them on reading): merged by content, and
    the result gets deterministic ids; reading did not add random ones."""
    raw = json.loads(jupyter_bytes(BASE))
    for cell in raw["cells"]:
        del cell["id"]
    b = json.dumps(raw, indent=1).encode()
    raw["cells"][0]["source"] = "a = 1\nb = 3\n"
    lo = json.dumps(raw, indent=1).encode()
    r = jupyter_bytes(edit(BASE, c3=changed(c3, source="print(3)\n")))
    first = merge_notebook(b, lo, r, later="local")
    assert first.content is not None
    assert first == merge_notebook(b, lo, r, later="local")
    parsed = check_jupyter_form(first.content)
    assert [c.source for c in parsed.cells] == ["a = 1\nb = 3\n", T1, FIVE, "print(3)\n"]
    assert [c.id for c in parsed.cells] == ["c1", "m1", "c2", "c3"]  # the remote's ids


def test_duplicate_ids_are_made_unique_deterministically() -> None:
    b = jupyter_bytes(BASE)
    raw = json.loads(jupyter_bytes(inserted(BASE, 4, code("dup", "a copy with c1's id\n"))))
    raw["cells"][4]["id"] = "c1"  # nbformat.writes would repair it (randomly)
    lo = json.dumps(raw, indent=1).encode()
    r = jupyter_bytes(edit(BASE, c3=changed(c3, source="print(3)\n")))
    result = merge_notebook(b, lo, r, later="local")
    assert result.content is not None
    parsed = check_jupyter_form(result.content)
    assert [c.source for c in parsed.cells][-2:] == ["print(3)\n", "a copy with c1's id\n"]
    assert parsed.cells[0].id == "c1" and parsed.cells[-1].id not in ("c1", "m1", "c2", "c3")
    assert merge_notebook(b, lo, r, later="local") == result


def test_a_20_mb_notebook_merges_with_its_outputs_intact() -> None:
    blob = "".join(f"{i:07d} " + "x" * 92 + "\n" for i in range(1000))  # 100 KB of output
    cells = [code(f"c{i}", f"x = {i}\n", out=f"{i}:{blob}", count=i) for i in range(200)]
    base = notebook(cells)
    local = copy.deepcopy(base)
    local.cells[10].source = "x = 'local'\n"
    local.cells.insert(50, code("new", "inserted locally\n"))
    remote = copy.deepcopy(base)
    remote.cells[150].source = "x = 'remote'\n"
    del remote.cells[199]
    b, lo, r = jupyter_bytes(base), jupyter_bytes(local), jupyter_bytes(remote)
    assert 20_000_000 < len(b) < NOTEBOOK_MAX_BYTES
    result = merge_notebook(b, lo, r, later="remote")
    assert result.content is not None
    parsed = check_jupyter_form(result.content)
    assert len(parsed.cells) == 200
    assert parsed.cells[10].source == "x = 'local'\n"
    assert parsed.cells[50].id == "new"
    assert parsed.cells[151].source == "x = 'remote'\n"
    assert [c.outputs[0].text for c in parsed.cells if c.id != "new"] == [
        f"{i}:{blob}" for i in range(199)
    ]


def test_too_large(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (TEXT_MAX_BYTES, NOTEBOOK_MAX_BYTES) == (4 << 20, 64 << 20)
    assert merge.REASONS == ("overlap", "delete_edit", "binary", "unparsable", "too_large")
    monkeypatch.setattr(text_module, "TEXT_MAX_BYTES", 10)
    monkeypatch.setattr(notebook_module, "NOTEBOOK_MAX_BYTES", 1000)
    assert merge_text(b"a\n", b"b\n", b"0123456789A") == MergeResult(None, "too_large")
    at_limit = merge_text(b"1\n2\n3\n4\n56", b"0\n2\n3\n4\n56", b"1\n2\n3\n4\n57")
    assert at_limit == MergeResult(b"0\n2\n3\n4\n57")
    small = jupyter_bytes(notebook([]))
    big = jupyter_bytes(notebook([md("a", "x" * 1000)]))
    assert merge_notebook(small, big, small, later="local") == MergeResult(None, "too_large")
    assert merge_notebook(big, small, small, later="local") == MergeResult(None, "too_large")


# -- text ---------------------------------------------------------------------------------------

TEXT_CASES = [
    pytest.param(
        b"a\nb\nc\nd\ne\n",
        b"A\nb\nc\nd\ne\n",
        b"a\nb\nc\nd\nE\n",
        b"A\nb\nc\nd\nE\n",
        id="different-lines",
    ),
    pytest.param(
        b"a\r\nb\r\nc\r\nd\r\n",
        b"A\r\nb\r\nc\r\nd\r\n",
        b"a\r\nb\r\nc\r\nD\r\n",
        b"A\r\nb\r\nc\r\nD\r\n",
        id="crlf-kept",
    ),
    pytest.param(
        b"a\nb\nc\nlast",
        b"A\nb\nc\nlast",
        b"a\nb\nc\nLAST",
        b"A\nb\nc\nLAST",
        id="no-final-newline",
    ),
    pytest.param(
        b"a\nb\nc\nlast",
        b"a\nb\nc\nlast\n",
        b"A\nb\nc\nlast",
        b"A\nb\nc\nlast\n",
        id="final-newline-added-one-side",
    ),
    pytest.param(
        b"a\r\nb\nc\r\n",
        b"a\r\nB\nc\r\n",
        b"a\r\nb\nc\r\nd",
        b"a\r\nB\nc\r\nd",
        id="mixed-line-endings",
    ),
    pytest.param(b"a\nb\nc\n", b"a\nX\nc\n", b"a\nY\nc\n", "overlap", id="same-line-overlap"),
    pytest.param(
        b"a\nb\nc\nd\n",
        b"a\nb\nC\nd\n",
        b"a\nb\nc\nD\n",
        "overlap",
        id="adjacent-lines-conflict-like-git",
    ),
    pytest.param(
        b"a\nb\n", b"a\nb\nlocal\n", b"a\nb\nremote\n", "overlap", id="both-append-differently"
    ),
    pytest.param(
        b"a\nb\n", b"a\nb\nsame\n", b"a\nb\nsame\n", b"a\nb\nsame\n", id="same-change-both"
    ),
    pytest.param(b"a\nb\nc\n", b"a\nc\n", b"a\nb\nc\nd\n", b"a\nc\nd\n", id="delete-and-append"),
    pytest.param(b"x\n", b"x\ny\n", b"x\n", b"x\ny\n", id="remote-unchanged"),
    pytest.param(b"x\n", b"x\n", b"z\n", b"z\n", id="local-unchanged"),
    pytest.param(
        "é\nü\nz\n".encode(),
        "É\nü\nz\n".encode(),
        "é\nü\nZ\n".encode(),
        "É\nü\nZ\n".encode(),
        id="utf8",
    ),
    pytest.param(
        b"\xef\xbb\xbfa\nb\nc\n",
        b"\xef\xbb\xbfa\nb\nC\n",
        b"\xef\xbb\xbfA\nb\nc\n",
        b"\xef\xbb\xbfA\nb\nC\n",
        id="bom-kept",
    ),
    pytest.param(b"a\x00\nb\n", b"a\x00\nB\n", b"A\x00\nb\n", "binary", id="nul-byte"),
    pytest.param(b"a\nb\n", b"a\n\xff\n", b"A\nb\n", "binary", id="invalid-utf8"),
    pytest.param(b"a\nb\n", b"a\nb\n\xc3", b"A\nb\n", "binary", id="truncated-utf8"),
]


@pytest.mark.parametrize(("base", "local", "remote", "expected"), TEXT_CASES)
def test_text_case(base: bytes, local: bytes, remote: bytes, expected: bytes | str) -> None:
    result = merge_text(base, local, remote)
    if isinstance(expected, str):
        assert result == MergeResult(None, expected)
        return
    assert result == MergeResult(expected)
    assert merge_text(base, result.content or b"", remote).content == expected
    assert merge_text(base, local, result.content or b"").content == expected
    assert merge_file("notes/a.txt", base, local, remote, later="local") == result


def test_a_long_text_with_repeated_lines() -> None:
    """30,000 lines of which none is unique, edited in distant places on both sides: merged
    (and quickly: the diff is not quadratic in repeated lines)."""
    base = [f"{'' if i % 3 else 'x = 1'}\n" for i in range(30_000)]
    local, remote, expected = list(base), list(base), list(base)
    for lines in (local, expected):
        lines[100] = "x = 2\n"
        lines[29_000] = "x = 3\n"
    for lines in (remote, expected):
        lines[15_000] = "x = 4\n"
        lines[20_001] = "x = 5\n"
    local.insert(0, "top\n")
    remote.append("end\n")
    expected = ["top\n", *expected, "end\n"]
    result = merge_text(*("".join(lines).encode() for lines in (base, local, remote)))
    assert result == MergeResult("".join(expected).encode())


# -- dispatch -----------------------------------------------------------------------------------


def test_kind_and_settings() -> None:
    assert kind_of("a/b.ipynb") == kind_of("B.IpYnB") == "notebook"
    assert kind_of("a.ipynb.txt") == kind_of("ipynb") == kind_of("x.py") == "text"
    b, lo, r = b"a\nb\nc\n", b"A\nb\nc\n", b"a\nb\nC\n"
    assert merge_file("x.py", b, lo, r, later="local") == MergeResult(b"A\nb\nC\n")
    assert merge_file("x.py", b, lo, r, later="local", text=False) is None
    assert merge_file("x.py", b, lo, r, later="local", notebooks=False) == MergeResult(b"A\nb\nC\n")
    nb_b = jupyter_bytes(BASE)
    nb_l = jupyter_bytes(edit(BASE, c1=changed(c1, source="x\n")))
    nb_r = jupyter_bytes(edit(BASE, c3=changed(c3, source="y\n")))
    assert merge_file("n.ipynb", nb_b, nb_l, nb_r, later="local", notebooks=False) is None
    assert merge_file("n.ipynb", nb_b, nb_l, nb_r, later="local", text=False) == merge_notebook(
        nb_b, nb_l, nb_r, later="local"
    )
    # a notebook that is not a notebook is not merged as text either
    assert merge_file("n.ipynb", b, lo, r, later="local") == MergeResult(None, "unparsable")


def test_the_patience_diff_gives_valid_matching_blocks() -> None:
    """The diff merge3 runs on: increasing, non-empty, truly matching blocks, as difflib's."""
    import random

    from project_filebrowser.merge.diff import matching_blocks

    rnd = random.Random(7)
    for _ in range(500):
        a = [rnd.choice("abcdefg") for _ in range(rnd.randint(0, 30))]
        b = list(a)
        for _ in range(rnd.randint(0, 5)):
            if b and rnd.random() < 0.5:
                del b[rnd.randrange(len(b))]
            else:
                b.insert(rnd.randint(0, len(b)), rnd.choice("abcxyz"))
        blocks = matching_blocks(a, b)
        assert blocks[-1] == (len(a), len(b), 0)
        i0 = j0 = 0
        for i, j, n in blocks[:-1]:
            assert n > 0 and i >= i0 and j >= j0
            assert a[i : i + n] == b[j : j + n]
            i0, j0 = i + n, j + n
