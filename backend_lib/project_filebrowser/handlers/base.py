"""The base of every REST handler: Jupyter auth, the contract's JSON error body."""

from __future__ import annotations

import json
from typing import Any

from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from pydantic import BaseModel
from tornado.web import HTTPError

from ..service import ProjectFileBrowserService, ServiceUnavailable

AUTH_RESOURCE = "project_filebrowser"


class ApiError(HTTPError):
    """An HTTP error with the contract's snake_case code and a human sentence."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(status_code, message)
        self.code = code
        self.message = message


_DEFAULT_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    503: "service_unavailable",
}


class BaseHandler(ExtensionHandlerMixin, APIHandler):
    auth_resource = AUTH_RESOURCE

    @property
    def service(self) -> ProjectFileBrowserService:
        service: ProjectFileBrowserService = self.settings["project_filebrowser_service"]
        return service

    def write_json(self, payload: BaseModel | dict[str, Any], status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        if isinstance(payload, BaseModel):
            self.finish(payload.model_dump_json())
        else:
            self.finish(json.dumps(payload))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, ServiceUnavailable):
            status_code, code, message = 503, exc.code, exc.message
        elif isinstance(exc, ApiError):
            code, message = exc.code, exc.message
        else:
            code = _DEFAULT_CODES.get(
                status_code, "server_error" if status_code >= 500 else "error"
            )
            message = (exc.log_message if isinstance(exc, HTTPError) else None) or self._reason
            if status_code >= 500 and not isinstance(exc, HTTPError):
                message = "An unexpected error occurred on the server; see the server log."
        self.set_status(status_code)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": {"code": code, "message": message}}))
