"""The error vocabulary of the Projects service, written once.

Every refusal the service makes is a :class:`ServiceError`: an HTTP status, the contract's
snake_case ``code`` and a human sentence (``message``), plus optional ``details`` - more
fields of the JSON error object. On the wire it is always::

    {"error": {**details, "code": "<snake_case>", "message": "<sentence>"}}

(see :func:`error_body`). The base takes all four explicitly, ``ServiceError(status, code,
message, details=None)``; the subclasses below fix the status and a default code, so the
service writes ``NotFound("no such project")`` or ``Conflict("...", "name_taken")``.

:data:`GENERIC_CODES` is the one table of the code used for a status when nothing more
specific is known (a Tornado ``HTTPError``, an unexpected exception, a malformed request
Tornado refuses itself). It is the cloud's table, as the cloud emits it and as
``CONTRACT.md`` and the tests rely on: 400 is ``invalid_request`` and 413 is
``body_too_large``. The JupyterLab extension (``project_filebrowser.handlers.base``)
raises these errors too (the base class) and takes its generic codes from here
(:func:`generic_code`), so both servers speak one vocabulary; a new generic code is added
here, for both.

This module imports nothing from the rest of the package, so anything may import it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = [
    "GENERIC_CODES",
    "Conflict",
    "Forbidden",
    "InvalidPathError",
    "InvalidRequest",
    "MethodNotAllowed",
    "NotFound",
    "PreconditionFailed",
    "ServiceError",
    "ShuttingDown",
    "TooLarge",
    "Unauthorized",
    "error_body",
    "generic_code",
]

GENERIC_CODES: Mapping[int, str] = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    411: "length_required",
    412: "precondition_failed",
    413: "body_too_large",
    500: "internal_error",
    503: "unavailable",
}
"""The cloud's code for each HTTP status when no more specific code is known."""


def generic_code(status: int) -> str:
    """The generic code of ``status`` (``"error"`` for a status the table lacks)."""
    return GENERIC_CODES.get(status, "error")


class ServiceError(Exception):
    """A request the service refuses: HTTP status, snake_case code, a human sentence."""

    status: int = 400
    code: str = "invalid_request"

    def __init__(
        self, status: int, code: str, message: str, details: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def body(self) -> bytes:
        """The contract's JSON error body of this error."""
        return error_body(self.code, self.message, self.details)


class _Refusal(ServiceError):
    """A :class:`ServiceError` whose class fixes the status and the default code."""

    def __init__(
        self, message: str, code: str | None = None, details: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(type(self).status, code or type(self).code, message, details)


class InvalidRequest(_Refusal):
    status, code = 400, "invalid_request"


class InvalidPathError(_Refusal):
    status, code = 400, "invalid_path"


class Unauthorized(_Refusal):
    status, code = 401, "unauthorized"


class Forbidden(_Refusal):
    status, code = 403, "forbidden"


class NotFound(_Refusal):
    status, code = 404, "not_found"


class MethodNotAllowed(_Refusal):
    status, code = 405, "method_not_allowed"


class Conflict(_Refusal):
    status, code = 409, "already_exists"


class PreconditionFailed(_Refusal):
    status, code = 412, "precondition_failed"


class TooLarge(_Refusal):
    status, code = 413, "file_too_large"


class ShuttingDown(_Refusal):
    status, code = 503, "shutting_down"

    def __init__(
        self, message: str = "the service is shutting down; try again in a moment"
    ) -> None:
        super().__init__(message)


def error_body(code: str, message: str, details: Mapping[str, Any] | None = None) -> bytes:
    """``{"error": {**details, "code": code, "message": message}}`` as UTF-8 JSON."""
    return json.dumps({"error": {**(details or {}), "code": code, "message": message}}).encode(
        "utf-8"
    )
