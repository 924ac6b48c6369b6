"""Thin Tornado handlers: parse, authorize, call the service layer, shape the reply."""

from __future__ import annotations

from typing import Any

from .status import StatusHandler

API_PREFIX = "/project-filebrowser/api"


def routes() -> list[tuple[str, type[Any]]]:
    """URL patterns (the ExtensionApp prefixes them with the server's base_url)."""
    return [
        (rf"{API_PREFIX}/status/?", StatusHandler),
    ]
