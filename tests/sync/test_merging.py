"""Concurrent edits merge in the sync path: two replicas, the real cloud on loopback and the
in-memory remote. A clean merge is at the path on both replicas with no conflict copy, and
the cloud's history holds both parents; what does not merge keeps both versions as before,
and the conflict says why (and which cells)."""

from __future__ import annotations

import asyncio
import hashlib

import nbformat
import pytest

from project_filebrowser.remotes import open_remote
from support.replicas import Replica


def notebook(*sources: str) -> bytes:
    """A notebook as Jupyter writes it: one code cell per source, ids c0, c1, ..."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src, id=f"c{i}") for i, src in enumerate(sources)]
    return nbformat.writes(nb).encode()


def sources(data: bytes) -> list[str]:
    return [cell.source for cell in nbformat.reads(data.decode(), as_version=4).cells]


def history(replica: Replica, path: str) -> list[str]:
    """The sha256 of each revision of ``path`` in the cloud, oldest first."""

    async def read() -> list[str]:
        async with open_remote(replica.cloud_url, replica.token) as remote:
            return [v.sha256 for v in reversed(await remote.revisions(replica.project_id, path))]

    return asyncio.run(read())


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def edit_on_both(
    pair: tuple[Replica, Replica], path: str, base: bytes, mine_a: bytes, mine_b: bytes, **kw: bool
) -> None:
    """Both replicas agree on ``base``; each then writes its own version; a pushes first,
    b finds both changed (and merges, or keeps both), a pulls what b made of it."""
    a, b = pair
    a.write(path, base)
    a.sync()
    b.sync()
    a.write(path, mine_a)
    b.write(path, mine_b)
    a.sync(**kw)
    b.sync(**kw)
    a.sync(**kw)


def test_a_notebook_edited_in_different_cells_merges(pair: tuple[Replica, Replica]) -> None:
    a, b = pair
    base = notebook("import pandas as pd\n", "df = load()\n", "df.plot()\n")
    mine_a = notebook("import pandas as pd\nimport numpy as np\n", "df = load()\n", "df.plot()\n")
    mine_b = notebook("import pandas as pd\n", "df = load()\n", "df.plot(kind='bar')\n")
    a.write("analysis.ipynb", base)
    a.sync()
    b.sync()
    a.write("analysis.ipynb", mine_a)
    b.write("analysis.ipynb", mine_b)
    a.sync()
    result = b.sync()
    assert result.merged == ["analysis.ipynb"] and result.conflicts == []
    a.sync()

    merged = b.read("analysis.ipynb")
    assert sources(merged) == [
        "import pandas as pd\nimport numpy as np\n",
        "df = load()\n",
        "df.plot(kind='bar')\n",
    ]
    assert a.files() == b.files() == {"analysis.ipynb": merged}  # no conflict copy
    assert a.conflicts() == b.conflicts() == []
    nbformat.validate(nbformat.reads(merged.decode(), as_version=4))
    # both parents stay in the cloud's history, then the merge: it can be undone
    assert history(a, "analysis.ipynb") == [sha(base), sha(mine_a), sha(merged)]


def test_a_text_file_edited_in_different_lines_merges(pair: tuple[Replica, Replica]) -> None:
    a, b = pair
    base = b"one\r\ntwo\r\nthree\r\nfour\r\nfive"
    edit_on_both(
        pair,
        "notes/todo.txt",
        base,
        b"ONE\r\ntwo\r\nthree\r\nfour\r\nfive",
        b"one\r\ntwo\r\nthree\r\nfour\r\nFIVE",
    )
    expected = b"ONE\r\ntwo\r\nthree\r\nfour\r\nFIVE"
    assert a.files() == b.files() == {"notes/todo.txt": expected}
    assert history(a, "notes/todo.txt")[-1] == sha(expected)


def test_the_same_cell_changed_differently_keeps_both_and_names_the_cell(
    pair: tuple[Replica, Replica],
) -> None:
    a, b = pair
    base = notebook("x = 1\n", "y = 2\n")
    edit_on_both(
        pair, "nb.ipynb", base, notebook("x = 1\n", "y = 3\n"), notebook("x = 1\n", "y = 4\n")
    )
    files = b.files()
    assert a.files() == files
    [copy] = [p for p in files if p.startswith("nb (conflict ")]
    assert sources(files["nb.ipynb"]) == ["x = 1\n", "y = 3\n"]  # the cloud's (a pushed first)
    assert sources(files[copy]) == ["x = 1\n", "y = 4\n"]  # b's, beside it
    [conflict] = b.conflicts()
    assert (conflict.path, conflict.conflict_path) == ("nb.ipynb", copy)
    assert conflict.reason == "overlap"
    assert conflict.cells == [{"id": "c1", "index": 1}]


@pytest.mark.parametrize(
    ("path", "base", "mine_a", "mine_b", "reason"),
    [
        ("same.txt", b"a\nb\nc\n", b"a\nB1\nc\n", b"a\nB2\nc\n", "overlap"),
        ("blob.bin", b"\0\1\2", b"\0\1\3", b"\0\1\4", "binary"),
        ("broken.ipynb", notebook("x\n"), b"{not json", notebook("y\n"), "unparsable"),
    ],
)
def test_what_cannot_merge_gets_a_conflict_copy_with_the_reason(
    pair: tuple[Replica, Replica], path: str, base: bytes, mine_a: bytes, mine_b: bytes, reason: str
) -> None:
    a, b = pair
    edit_on_both(pair, path, base, mine_a, mine_b)
    files = b.files()
    assert a.files() == files
    assert files[path] == mine_a
    [copy] = [p for p in files if p != path]
    assert files[copy] == mine_b
    [conflict] = b.conflicts()
    assert (conflict.reason, conflict.cells) == (reason, [])


def test_with_merging_off_both_versions_are_kept(pair: tuple[Replica, Replica]) -> None:
    _a, b = pair
    base = b"one\ntwo\nthree\n"
    edit_on_both(pair, "doc.txt", base, b"ONE\ntwo\nthree\n", b"one\ntwo\nTHREE\n", merge=False)
    files = b.files()
    assert files["doc.txt"] == b"ONE\ntwo\nthree\n"
    [copy] = [p for p in files if p != "doc.txt"]
    assert files[copy] == b"one\ntwo\nTHREE\n"
    [conflict] = b.conflicts()
    assert conflict.reason is None  # no merge was tried


def test_a_merge_that_equals_one_side_pushes_nothing_new(pair: tuple[Replica, Replica]) -> None:
    """b's edit already holds a's (b made the same change, and one more): the merge is b's
    file, pushed over a's revision; a pulls it."""
    a, b = pair
    base = b"1\n2\n3\n"
    edit_on_both(pair, "t.txt", base, b"1\n2\n3\nfrom a\n", b"0\n1\n2\n3\nfrom a\n")
    assert a.files() == b.files() == {"t.txt": b"0\n1\n2\n3\nfrom a\n"}
    assert b.conflicts() == []
