"""The base of every REST handler: Jupyter auth, body parsing, the contract's JSON errors."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from pydantic import BaseModel, ValidationError
from tornado.web import HTTPError

from project_cloud.errors import ServiceError, generic_code

from ..service import ProjectFileBrowserService

AUTH_RESOURCE = "project_filebrowser"
MAX_JSON_BODY = 1 << 20

M = TypeVar("M", bound=BaseModel)


class BaseHandler(ExtensionHandlerMixin, APIHandler):
    auth_resource = AUTH_RESOURCE

    @property
    def service(self) -> ProjectFileBrowserService:
        service: ProjectFileBrowserService = self.settings["project_filebrowser_service"]
        return service

    def parse(self, model: type[M], *, optional: bool = False, limit: int = MAX_JSON_BODY) -> M:
        """The JSON body as ``model`` (at most ``limit`` bytes); a clear 400/413 otherwise."""
        body = self.request.body or b""
        if len(body) > limit:
            raise ServiceError(
                413, "body_too_large", f"the JSON body is larger than {limit >> 20} MiB"
            )
        if not body.strip():
            if optional:
                return model()
            raise ServiceError(400, "invalid_body", "a JSON object body is required")
        try:
            return model.model_validate_json(body)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors()
            )
            raise ServiceError(400, "invalid_body", problems) from None

    def write_json(self, payload: BaseModel | dict[str, Any] | None, status: int = 200) -> None:
        self.set_status(status)
        if payload is None:
            self.finish()
            return
        self.set_header("Content-Type", "application/json")
        if isinstance(payload, BaseModel):
            self.finish(payload.model_dump_json())
        else:
            self.finish(json.dumps(payload, default=_jsonable))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        """A refusal (:class:`ServiceError`) is no bug: the access log's line says it was
        refused, the reason goes to the debug log; tracebacks are for everything else."""
        if isinstance(value, ServiceError):
            self.log.debug("project-filebrowser: %s refused: %s", self.request.path, value)
            return
        super().log_exception(typ, value, tb)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        details: dict[str, Any] = {}
        if isinstance(exc, ServiceError):
            status_code, code, message, details = exc.status, exc.code, exc.message, exc.details
        else:
            code = generic_code(status_code)
            message = (exc.log_message if isinstance(exc, HTTPError) else None) or self._reason
            if status_code >= 500 and not isinstance(exc, HTTPError):
                message = "An unexpected error occurred on the server; see the server log."
        self.set_status(status_code)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": {**details, "code": code, "message": message}}))


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"cannot serialize {type(value).__name__}")
