"""A refused request is not a bug: no traceback, no "Uncaught exception" (issue 14, 12).

Hostile requests go to a real Jupyter server; what its loggers wrote is captured."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterator

import pytest
from tornado.httpclient import HTTPClientError, HTTPResponse

from project_filebrowser.service import ProjectFileBrowserService
from support.logs import bug_reports, captured_logs

Fetch = Callable[..., Awaitable[HTTPResponse]]


@pytest.fixture
def records() -> Iterator[list[logging.LogRecord]]:
    with captured_logs() as seen:
        yield seen


HOSTILE = [
    ("GET", "projects?scope=everything", None, 400),
    ("GET", "projects/no-such-project", None, 404),
    ("POST", "projects", "{not json", 400),
    ("POST", "projects", '{"name": ' + "[" * 3000 + "]" * 3000 + "}", 400),
    ("POST", "projects", json.dumps({"name": "x", "extra": 1}), 400),
    ("POST", "projects", json.dumps({"name": "x" * 200}), 400),
    ("POST", "projects", json.dumps({"name": "x", "title": "t" * (1 << 20)}), 413),
    ("POST", "projects/no-such-project/sync", "", 404),
    ("POST", "projects/no-such-project/link", '{"local_path": "../../etc"}', 404),
    ("DELETE", "projects/no-such-project/link", None, 404),
    ("GET", "projects/no-such-project/files", None, 404),
    ("POST", "conflicts/12345/resolve", '{"keep": "mine"}', 400),
    ("POST", "conflicts/12345/resolve", '{"keep": "local"}', 404),
    ("DELETE", "jobs/no-such-job", None, 404),
]


async def test_refusals_log_no_traceback(
    service: ProjectFileBrowserService, jp_fetch: Fetch, records: list[logging.LogRecord]
) -> None:
    for method, url, body, status in HOSTILE:
        path, _, query = url.partition("?")
        params = dict([query.split("=")]) if query else None
        with pytest.raises(HTTPClientError) as excinfo:
            await jp_fetch(
                "project-filebrowser",
                "api",
                *path.split("/"),
                method=method,
                body=body,
                params=params,
                allow_nonstandard_methods=True,
            )
        assert excinfo.value.code == status, (method, url, excinfo.value.response.body)
    assert bug_reports(records) == []
    # ... and at most one warning line per refusal (the access log's)
    warnings = [r for r in records if r.levelno == logging.WARNING]
    assert len(warnings) <= len(HOSTILE), [r.getMessage()[:200] for r in warnings]
