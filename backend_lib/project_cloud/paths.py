"""Validation of file paths inside a project.

A project path is a relative POSIX path such as ``notebooks/analysis.ipynb``:

* segments are separated by ``/``; no segment is empty (so no leading, trailing or doubled
  ``/``), and no segment is ``.`` or ``..``;
* no NUL, no other control character (U+0000-U+001F, U+007F) and no backslash;
* at most :data:`MAX_SEGMENT_BYTES` bytes of UTF-8 per segment and :data:`MAX_PATH_BYTES`
  in all.

Anything else is refused with 400 ``invalid_path``.

Names are compared exactly, code point by code point: the service does no case folding and
no Unicode normalization. ``Report.txt`` and ``report.txt`` are two different files, and so
are the NFC and NFD spellings of ``café.txt``. A client on a case-insensitive or normalizing
file system (macOS, Windows) can receive two cloud paths that map to one local file; it must
detect that with :func:`collision_key` (equal keys = same local file) and keep the second one
under another name (a conflict copy) instead of overwriting the first. The service itself
never merges two such paths.

A path cannot be both a file and a folder: writing ``a/b`` while ``a`` is a file, or ``a``
while ``a/...`` holds files, is refused with 409 ``path_conflict``.
"""

from __future__ import annotations

import unicodedata

MAX_SEGMENT_BYTES = 255
MAX_PATH_BYTES = 4096

_FORBIDDEN_CHARS = frozenset(chr(c) for c in range(0x20)) | {"\x7f", "\\"}


class InvalidPath(ValueError):
    """The string is not an acceptable project path; the message says why."""


def validate_path(path: str) -> str:
    """Return ``path`` unchanged if it is an acceptable project path, else raise."""
    if not isinstance(path, str) or path == "":
        raise InvalidPath("the path is empty")
    if "\x00" in path:
        raise InvalidPath("the path contains a NUL character")
    if "\\" in path:
        raise InvalidPath("the path contains a backslash; use '/' to separate folders")
    bad = next((ch for ch in path if ch in _FORBIDDEN_CHARS), None)
    if bad is not None:
        raise InvalidPath(f"the path contains the control character U+{ord(bad):04X}")
    if path.startswith("/"):
        raise InvalidPath("the path is absolute; paths are relative to the project")
    try:
        encoded = path.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidPath("the path is not valid Unicode") from exc
    if len(encoded) > MAX_PATH_BYTES:
        raise InvalidPath(f"the path is longer than {MAX_PATH_BYTES} bytes")
    for segment in path.split("/"):
        if segment == "":
            raise InvalidPath("the path has an empty segment ('//' or a trailing '/')")
        if segment in (".", ".."):
            raise InvalidPath(f"the path has a '{segment}' segment")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise InvalidPath(f"a path segment is longer than {MAX_SEGMENT_BYTES} bytes")
    return path


def is_valid_path(path: str) -> bool:
    """True if :func:`validate_path` accepts ``path``."""
    try:
        validate_path(path)
    except InvalidPath:
        return False
    return True


def parent_paths(path: str) -> list[str]:
    """The folders that contain ``path``: ``a/b/c`` -> ``["a", "a/b"]``."""
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def collision_key(path: str) -> str:
    """A key equal for two paths that one case-insensitive, normalizing file system would
    store as the same file (NFC + case folding per segment). For clients; the service
    compares paths exactly."""
    return unicodedata.normalize("NFC", path).casefold()
