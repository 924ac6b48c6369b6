"""Merge: the three-way notebook merge of concurrent edits, ours vs nbdime's.

Generates notebooks (code cells with small outputs, markdown cells) of 100 cells, 2,000
cells, and 200 cells carrying ~20 MB of outputs (100 KB each: text streams and base64 PNGs).
For each: a base; a local edit (every 7th cell's source edited on one line, one cell
inserted); a remote edit (other cells edited and re-run, one cell deleted). Times
``project_filebrowser.merge.merge_notebook(base, local, remote)`` on the bytes (parsing
the three versions, validating them, merging, validating and writing the result), median of
``--runs``, and as the peer, in the same run, ``nbdime.merging.merge_notebooks`` on the
already parsed notebooks (nbdime is imported lazily and is no dependency: ``pip install
nbdime`` to see it; without it only ours is shown). In-process, no server; nothing asserts.

    python bench/merge.py [--cells 100,2000] [--output-mb 20] [--runs 5] [--quick]

Target (issue 16): under 0.5 s for 2,000 cells.
"""

from __future__ import annotations

import argparse
import base64
import copy
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import nbformat
from _harness import table
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from project_filebrowser.merge import merge_notebook

WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "data",
    "frame",
    "plot",
    "value",
    "result",
    "model",
    "train",
    "test",
    "mean",
    "sum",
]


def _line(rnd: random.Random) -> str:
    return " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(3, 9)))


def _code_source(rnd: random.Random, i: int) -> str:
    lines = [f"x{i}_{k} = {rnd.randint(0, 999)}  # {_line(rnd)}" for k in range(rnd.randint(3, 12))]
    return "\n".join(lines)


def _outputs(rnd: random.Random, i: int, big: int) -> list[NotebookNode]:
    if big:
        if i % 2:
            text = "".join(f"{i}:{k:06d} {_line(rnd)}\n" for k in range(big // 40))[:big]
            return [new_output("stream", name="stdout", text=text)]
        png = base64.b64encode(rnd.randbytes(big * 3 // 4)).decode()
        return [new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"})]
    outputs = [new_output("stream", name="stdout", text=f"{_line(rnd)}\n{_line(rnd)}\n")]
    if i % 3 == 0:
        outputs.append(
            new_output(
                "execute_result",
                data={"text/plain": f"{rnd.random()}", "text/html": f"<b>{_line(rnd)}</b>"},
                execution_count=i + 1,
            )
        )
    return outputs


def generate(cells: int, output_bytes: int = 0, seed: int = 1) -> NotebookNode:
    """A notebook of ``cells`` cells (70 % code); ``output_bytes`` per code cell if given."""
    rnd = random.Random(seed)
    out = []
    for i in range(cells):
        if output_bytes or rnd.random() < 0.7:
            cell = new_code_cell(
                _code_source(rnd, i),
                id=f"cell-{i}",
                execution_count=i + 1,
                outputs=_outputs(rnd, i, output_bytes),
            )
        else:
            text = "\n".join(_line(rnd) for _ in range(rnd.randint(2, 6)))
            cell = new_markdown_cell(f"## {i}\n{text}", id=f"cell-{i}")
        out.append(cell)
    return new_notebook(
        cells=out,
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )


def _edit_line(cell: NotebookNode, tag: str) -> None:
    lines = cell.source.split("\n")
    lines[len(lines) // 2] += f"  # edited {tag}"
    cell.source = "\n".join(lines)


def edits(base: NotebookNode) -> tuple[NotebookNode, NotebookNode]:
    """A local and a remote edit of ``base`` that merge without conflict."""
    local, remote = copy.deepcopy(base), copy.deepcopy(base)
    n = len(base.cells)
    for i in range(0, n, 7):
        _edit_line(local.cells[i], "locally")
    for i in range(3, n, 7):
        _edit_line(remote.cells[i], "remotely")
        if remote.cells[i].cell_type == "code":
            remote.cells[i].execution_count = 10_000 + i
            remote.cells[i].outputs = [new_output("stream", name="stdout", text=f"rerun {i}\n")]
    local.cells.insert(n // 2, new_code_cell("print('inserted locally')", id="inserted"))
    gone = next(i for i in range(n - 2, 0, -1) if i % 7 not in (0, 3))
    del remote.cells[gone]  # a cell neither side edited
    return local, remote


def jupyter_bytes(nb: NotebookNode) -> bytes:
    return (nbformat.writes(nb, version=nbformat.NO_CONVERT) + "\n").encode()


def median_time(fn: Callable[[], Any], runs: int) -> tuple[float, float, Any]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), result


def run(args: argparse.Namespace) -> None:
    try:
        from nbdime.merging import merge_notebooks  # type: ignore[import-not-found]
    except ImportError:
        merge_notebooks = None
        print("nbdime is not installed (pip install nbdime): showing ours only\n")
    cases = [(f"{n:,} cells", generate(n)) for n in args.cells]
    if args.output_mb:
        per_cell = int(args.output_mb * 1_000_000 / 200)
        cases.append((f"200 cells, {args.output_mb:g} MB outputs", generate(200, per_cell)))
    rows = []
    print(f"{len(cases)} notebooks generated", flush=True)
    for name, base in cases:
        local, remote = edits(base)
        b, lo, r = jupyter_bytes(base), jupyter_bytes(local), jupyter_bytes(remote)
        ours, ours_best, result = median_time(
            lambda b=b, lo=lo, r=r: merge_notebook(b, lo, r, later="remote"), args.runs
        )
        merged_cells = (
            len(nbformat.reads(result.content.decode(), as_version=4).cells)
            if result.clean
            else "-"
        )
        row = [
            name,
            f"{len(b) / 1e6:.1f}",
            f"{ours:.3f}",
            f"{ours_best:.3f}",
            "clean" if result.clean else f"{result.reason} ({len(result.cells)} cells)",
            str(merged_cells),
        ]
        if merge_notebooks is not None:
            parsed = [nbformat.reads(x.decode(), as_version=4) for x in (b, lo, r)]
            peer, _, (peer_nb, decisions) = median_time(
                lambda p=parsed: merge_notebooks(*p), args.peer_runs or args.runs
            )
            conflicts = sum(1 for d in decisions if d.conflict)
            row += [f"{peer:.3f}", f"{peer / ours:.1f}x", str(conflicts), str(len(peer_nb.cells))]
        rows.append(row)
        print(f"  {name}: done", flush=True)
    headers = ["notebook", "MB", "ours s (median)", "best", "ours result", "cells"]
    if merge_notebooks is not None:
        headers += ["nbdime s (median)", "nbdime/ours", "nbdime conflicts", "cells"]
    print(table(headers, rows))
    print(
        f"\nmedian of {args.runs} runs; ours from bytes to bytes (parse, validate, merge, "
        "write); nbdime on the parsed notebooks (its merge only; it does not modify its inputs)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--cells",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[100, 2000],
        help="comma-separated cell counts (default 100,2000)",
    )
    parser.add_argument("--output-mb", type=float, default=20.0, help="0: no big-output case")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--peer-runs", type=int, default=0, help="nbdime's runs (default --runs)")
    parser.add_argument("--quick", action="store_true", help="100,500 cells, 2 MB, 3 runs")
    args = parser.parse_args()
    if args.quick:
        args.cells, args.output_mb, args.runs = [100, 500], min(args.output_mb, 2.0), 3
    run(args)


if __name__ == "__main__":
    main()
