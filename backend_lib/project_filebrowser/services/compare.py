"""What history shows, pure: one page of a list, a version's media type, and two versions
compared (notebooks with nbdime, UTF-8 text as a unified diff, anything else by size)."""

from __future__ import annotations

import difflib
import json

from project_cloud.errors import ServiceError  # one error vocabulary for both servers

from ..schemas import DiffReply, FileVersion
from ..sync.merging import looks_binary

# Two versions larger than this are not compared (nor their bytes sniffed for a media type).
MAX_DIFF_BYTES = 64 << 20
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

NOTEBOOK_TYPE = "application/x-ipynb+json"
TEXT_TYPE = "text/plain; charset=utf-8"
BINARY_TYPE = "application/octet-stream"


def page_of(
    items: list[FileVersion], limit: int | None, page_token: str | None
) -> tuple[list[FileVersion], str | None]:
    """One page of a list: ``page_token`` is an opaque offset (what ``next_page_token``
    said), ``limit`` 1 to :data:`MAX_PAGE_SIZE`."""
    size = DEFAULT_PAGE_SIZE if limit is None else limit
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ServiceError(400, "invalid_query", f"limit must be 1 to {MAX_PAGE_SIZE}")
    start = 0
    if page_token is not None:
        if not page_token.isdigit() or len(page_token) > 18:
            raise ServiceError(400, "invalid_page_token", "page_token is not one this API gave")
        start = int(page_token)
    end = start + size
    return items[start:end], str(end) if end < len(items) else None


# How much of a revision's start is read to tell text from bytes.
SNIFF_BYTES = 1 << 16


def media_type(path: str, head: bytes | None) -> str:
    """A notebook's, UTF-8 text's or bytes' type, from the start of the content (``head``:
    its first :data:`SNIFF_BYTES`; None: not read), as the engine tells text from bytes."""
    if path.endswith(".ipynb"):
        return NOTEBOOK_TYPE
    return TEXT_TYPE if head is not None and not looks_binary(head) else BINARY_TYPE


def _text(data: bytes) -> str | None:
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def compare(path: str, old: bytes, new: bytes, old_label: str, new_label: str) -> DiffReply:
    """Two versions of ``path``: notebooks with nbdime (``base`` the old one as JSON), UTF-8
    text as a unified diff, anything else by size. A ``.ipynb`` that does not parse as a
    notebook is compared as text (or bytes)."""
    if path.endswith(".ipynb"):
        import nbdime  # lazy: only for notebook diffs
        import nbformat

        try:
            before = nbformat.reads(old.decode("utf-8"), as_version=4)
            after = nbformat.reads(new.decode("utf-8"), as_version=4)
        except Exception:  # nbformat raises many kinds for what is not a notebook
            pass
        else:
            diff = json.loads(json.dumps(nbdime.diff_notebooks(before, after)))
            return DiffReply(kind="notebook", diff=diff, base=json.loads(json.dumps(before)))
    old_text, new_text = _text(old), _text(new)
    if old_text is not None and new_text is not None:
        lines = difflib.unified_diff(
            old_text.splitlines(keepends=True),
            new_text.splitlines(keepends=True),
            fromfile=old_label,
            tofile=new_label,
        )
        text = "".join(
            line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
            for line in lines
        )
        return DiffReply(kind="text", diff=text)
    return DiffReply(kind="binary", diff={"from_size": len(old), "to_size": len(new)})


def too_large(path: str, size: int) -> None:
    if size > MAX_DIFF_BYTES:
        raise ServiceError(
            413,
            "too_large",
            f"{path}: a version of {size} bytes is over the {MAX_DIFF_BYTES >> 20} MiB compared",
        )
