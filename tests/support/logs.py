"""What loggers write while a test runs (Jupyter's and tornado's do not all propagate)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

LOGGERS = ("", "tornado.application", "tornado.general", "tornado.access", "ServerApp")


@contextlib.contextmanager
def captured_logs() -> Iterator[list[logging.LogRecord]]:
    seen: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    handler = Collect(logging.DEBUG)
    loggers = [logging.getLogger(name) for name in LOGGERS]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield seen
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def bug_reports(records: list[logging.LogRecord]) -> list[str]:
    """The records that report a bug: errors, tracebacks, "Uncaught exception"."""
    return [
        f"{r.name} {r.levelname} {r.getMessage()[:200]}"
        for r in records
        if r.exc_info or "Uncaught exception" in r.getMessage() or r.levelno >= logging.ERROR
    ]
