"""Three-way merge of JSON values (notebook and cell metadata, attachments).

Dicts merge key by key, recursively: a key changed on one side only takes that side (adding
or deleting a key is a change); changed on both sides to the same value takes it; changed to
different values is a conflict, unless both values are dicts (then they merge key by key,
a missing base counting as ``{}``). Any other value (lists included) is a whole.
"""

from __future__ import annotations

from typing import Any


class Missing:
    """An absent key or field (distinct from a JSON ``null``)."""

    _instance: Missing | None = None

    def __new__(cls) -> Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"


MISSING = Missing()


class Conflict(Exception):
    """Both sides changed the same value differently."""


def _kind(value: Any) -> type:
    if isinstance(value, dict):  # NotebookNode is a dict
        return dict
    if isinstance(value, list):
        return list
    return type(value)


def same(a: Any, b: Any) -> bool:
    """JSON equality: like ``==`` but ``True`` is not ``1`` and ``1`` is not ``1.0``."""
    if _kind(a) is not _kind(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def merge_value(base: Any, local: Any, remote: Any) -> Any:
    """The merged value (MISSING: the key is absent in the result); raises Conflict."""
    if local is remote or same(local, remote) or same(remote, base):
        return local
    if same(local, base):
        return remote
    if (
        isinstance(local, dict)
        and isinstance(remote, dict)
        and (base is MISSING or isinstance(base, dict))
    ):
        return merge_dict({} if base is MISSING else base, local, remote)
    raise Conflict


def merge_dict(
    base: dict[str, Any], local: dict[str, Any], remote: dict[str, Any]
) -> dict[str, Any]:
    """Key-by-key merge of three dicts (local's key order, then remote's, then base's)."""
    keys = list(local)
    keys += [k for k in remote if k not in local]
    keys += [k for k in base if k not in local and k not in remote]
    out: dict[str, Any] = {}
    for key in keys:
        value = merge_value(
            base.get(key, MISSING), local.get(key, MISSING), remote.get(key, MISSING)
        )
        if value is not MISSING:
            out[key] = value
    return out
