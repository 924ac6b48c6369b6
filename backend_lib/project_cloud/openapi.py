"""The OpenAPI 3.1 document of the Projects API, served at ``/api/v1/openapi.json``.

Schemas come from the pydantic models in :mod:`project_cloud.schemas` (the same models the
handlers reply with); the paths are written out below, one entry per handler method.
``tests/cloud/test_cloud_schemathesis.py`` checks the live server against this document.

Over 400 lines on purpose: it is one document, written out operation by operation in URL
order so that it reads like the API; most of it is data, not logic.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from . import __version__, schemas
from .web import DRAIN_LIMIT, MAX_BATCH_BODY, MAX_JSON_BODY, MAX_SINCE
from .writes import MAX_BATCH_ITEMS

REF = "#/components/schemas/{model}"

_REQUEST_MODELS: list[type[BaseModel]] = [
    schemas.TokenRequest,
    schemas.ProjectCreate,
    schemas.ProjectUpdate,
    schemas.CollaboratorSet,
    schemas.MoveRequest,
    schemas.CheckpointCreate,
    schemas.BatchManifest,
]
_RESPONSE_MODELS: list[type[BaseModel]] = [
    schemas.ErrorBody,
    schemas.TokenReply,
    schemas.UserInfo,
    schemas.CloudProject,
    schemas.ProjectList,
    schemas.Collaborator,
    schemas.CollaboratorList,
    schemas.FileVersion,
    schemas.FileList,
    schemas.RevisionList,
    schemas.ChangeList,
    schemas.Checkpoint,
    schemas.CheckpointList,
    schemas.BatchReply,
]

_ERROR_TEXT = {
    400: "Invalid request (codes: invalid_request, invalid_json, invalid_path, "
    "invalid_page_token, checksum_mismatch, invalid_username, invalid_batch).",
    401: "Missing or invalid bearer token (unauthorized), or wrong password (invalid_credentials).",
    403: "The user's role does not allow this (forbidden).",
    404: "No such project, file, revision, checkpoint or user - or one the user may not see "
    "(not_found, user_not_found).",
    405: "Method not allowed here (method_not_allowed).",
    409: "Name taken (already_exists), a path that would be both file and folder "
    "(path_conflict), content the project does not hold (unknown_content), a checkpoint seq "
    "after the head (seq_after_head), the owner as a collaborator (owner_is_collaborator).",
    412: "Stale precondition (precondition_failed, target_exists).",
    413: "Body too large (file_too_large, body_too_large).",
}


@functools.lru_cache(maxsize=1)
def _schema_refs() -> tuple[dict[Any, Any], dict[str, Any]]:
    keyed = [(m, "validation") for m in _REQUEST_MODELS] + [
        (m, "serialization") for m in _RESPONSE_MODELS
    ]
    mapping, top = models_json_schema(keyed, ref_template=REF)  # type: ignore[arg-type]
    return dict(mapping), top.get("$defs", {})


def _ref(model: type[BaseModel], mode: str = "serialization") -> dict[str, Any]:
    return dict(_schema_refs()[0][(model, mode)])


def _json(model: type[BaseModel], mode: str = "serialization") -> dict[str, Any]:
    return {"application/json": {"schema": _ref(model, mode)}}


def _ok(model: type[BaseModel], description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": _json(model), **extra}


def _errors(*codes: int) -> dict[str, Any]:
    return {
        str(code): {"description": _ERROR_TEXT[code], "content": _json(schemas.ErrorBody)}
        for code in codes
    }


def _body(model: type[BaseModel]) -> dict[str, Any]:
    return {"required": True, "content": _json(model, "validation")}


def _param(
    name: str,
    where: str,
    schema: dict[str, Any],
    description: str = "",
    required: bool | None = None,
) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": where == "path" if required is None else required,
        "schema": schema,
        **({"description": description} if description else {}),
    }


PROJECT_ID = _param("project_id", "path", {"type": "string", "minLength": 1})
FILE_PATH = _param(
    "path",
    "path",
    {"type": "string", "minLength": 1, "maxLength": 4096, "pattern": schemas.PATH_PATTERN},
    "Relative POSIX path of the file, percent-encoded; '/' may be sent as is or as %2F. "
    "Absolute paths, '.', '..', empty segments, NUL, control characters and backslashes "
    "are refused (400 invalid_path). Names are compared exactly (no case folding, no "
    "Unicode normalization).",
)
LIMIT = _param(
    "limit", "query", {"type": "integer", "minimum": 1, "maximum": 1000}, "Page size (default 100)."
)
PAGE_TOKEN = _param(
    "page_token",
    "query",
    {"type": "string", "minLength": 1},
    "The next_page_token of the previous page.",
)
IF_MATCH = _param(
    "If-Match",
    "header",
    {"type": "string", "pattern": schemas.ETAGS_PATTERN},
    'Current revision required, quoted ("r") or bare, or * (any existing file).',
)
IF_NONE_MATCH = _param(
    "If-None-Match",
    "header",
    {"type": "string", "pattern": schemas.ETAGS_PATTERN},
    "* = only if no file exists at the path (create).",
)
ETAG_HEADER = {
    "ETag": {"description": 'The revision, quoted: "<revision>".', "schema": {"type": "string"}}
}
SHA_HEADER = {
    "X-Content-SHA256": {
        "description": "SHA-256 of the content (hex).",
        "schema": {"type": "string"},
    },
    "X-Mtime-Ns": {
        "description": "The file's modification time (FileVersion.mtime_ns).",
        "schema": {"type": "string", "pattern": schemas.MTIME_PATTERN},
    },
}
MODIFIED_BY_HEADER = {
    "X-Modified-By": {
        "description": "The user who made this revision.",
        "schema": {"type": "string"},
    }
}


def _op(
    summary: str,
    responses: dict[str, Any],
    *,
    params: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    public: bool = False,
    tag: str = "",
) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if tag:
        op["tags"] = [tag]
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = body
    if public:
        op["security"] = []
    return op


def build_openapi(max_file_size: int) -> dict[str, Any]:
    """The document, for a server with the given maximum file size."""
    components = json.loads(json.dumps(_schema_refs()[1]))

    no_content = {"description": "Done."}
    files = {
        "get": _op(
            "List current files (not deleted, unless include_deleted).",
            {
                "200": _ok(schemas.FileList, "A page of files in path order."),
                **_errors(400, 401, 404),
            },
            params=[
                PROJECT_ID,
                _param(
                    "prefix",
                    "query",
                    {"type": "string", "maxLength": 4096, "pattern": schemas.NO_NUL_PATTERN},
                    "Only paths starting with this string.",
                ),
                LIMIT,
                PAGE_TOKEN,
                _param("include_deleted", "query", {"type": "boolean"}, "Also list tombstones."),
            ],
            tag="files",
        )
    }
    download_200 = {
        "description": "The bytes.",
        "headers": {**ETAG_HEADER, **SHA_HEADER, **MODIFIED_BY_HEADER},
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
    file_item = {
        "parameters": [PROJECT_ID, FILE_PATH],
        "get": _op(
            "Download a file (the current revision, or ?revision= from its history). No "
            "route lies below files/ but the old clients' .../revisions (see there): a file "
            "of any name is reached here.",
            {
                "200": download_200,
                "304": {"description": "Not modified (If-None-Match matched)."},
                **_errors(400, 401, 404),
            },
            params=[
                _param("revision", "query", {"type": "string", "minLength": 1}),
                IF_NONE_MATCH,
            ],
            tag="files",
        ),
        "head": _op(
            "Headers of a download.",
            {
                "200": {
                    "description": "Headers only.",
                    "headers": {**ETAG_HEADER, **SHA_HEADER, **MODIFIED_BY_HEADER},
                },
                "304": {"description": "Not modified."},
                "400": {"description": _ERROR_TEXT[400]},
                "401": {"description": _ERROR_TEXT[401]},
                "404": {"description": _ERROR_TEXT[404]},
            },
            params=[_param("revision", "query", {"type": "string", "minLength": 1}), IF_NONE_MATCH],
            tag="files",
        ),
        "put": _op(
            "Upload a file: the raw bytes, streamed. Always creates a new revision. Without "
            "If-Match / If-None-Match the write is unconditional (last writer wins).",
            {
                "200": _ok(
                    schemas.FileVersion, "A new revision of an existing file.", headers=ETAG_HEADER
                ),
                "201": _ok(schemas.FileVersion, "The file was created.", headers=ETAG_HEADER),
                **_errors(400, 401, 403, 404, 409, 412, 413),
            },
            params=[
                IF_MATCH,
                IF_NONE_MATCH,
                _param(
                    "X-Content-SHA256",
                    "header",
                    {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
                    "If given, the upload is refused (400 checksum_mismatch) unless the "
                    "received bytes have this SHA-256.",
                ),
                _param(
                    "X-Mtime-Ns",
                    "header",
                    {"type": "string", "pattern": schemas.MTIME_PATTERN},
                    "The file's modification time, integer nanoseconds since the epoch "
                    f"({schemas.MIN_MTIME_NS} to {schemas.MAX_MTIME_NS}); stored with the "
                    "revision as mtime_ns (default: the service's time).",
                ),
            ],
            body={
                "required": True,
                "description": f"At most {max_file_size} bytes.",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            },
            tag="files",
        ),
        "delete": _op(
            "Delete a file (a tombstone revision; history stays).",
            {
                "204": {"description": "Deleted.", "headers": ETAG_HEADER},
                **_errors(400, 401, 403, 404, 412, 413),
            },
            params=[
                IF_MATCH,
                _param(
                    "confirmed",
                    "query",
                    {"type": "boolean", "default": False},
                    "A person confirmed this delete past a replica's delete guard (a mass "
                    "delete): its change carries confirmed=true, so that other replicas "
                    "apply it without asking again.",
                ),
            ],
            tag="files",
        ),
    }
    revisions_item = {
        "parameters": [PROJECT_ID, FILE_PATH],
        "get": _op(
            "Revisions of a path, newest first, deletions included; a moved file's earlier "
            "history follows. Outside files/, so no file name can collide with it.",
            {"200": _ok(schemas.RevisionList, "The revisions."), **_errors(400, 401, 404)},
            tag="files",
        ),
    }
    legacy_revisions_item = {
        "parameters": [PROJECT_ID, FILE_PATH],
        "get": _op(
            "Deprecated: the revision listing as old clients ask for it; use "
            "/projects/{project_id}/revisions/{path}. "
            "This URL is the file '{path}/revisions' (GET, HEAD, PUT, DELETE as any file) "
            "whenever that file is live or ?revision= is given; it lists the revisions of "
            "'{path}' only when '{path}' is a live file, or when '{path}' has a history and "
            "'{path}/revisions' has none.",
            {
                "200": {
                    "description": "The file's bytes, or the revisions of {path}.",
                    "headers": {**ETAG_HEADER, **SHA_HEADER},
                    "content": {**download_200["content"], **_json(schemas.RevisionList)},
                },
                "304": {"description": "Not modified (If-None-Match matched)."},
                **_errors(400, 401, 404),
            },
            params=[
                _param("revision", "query", {"type": "string", "minLength": 1}),
                IF_NONE_MATCH,
            ],
            tag="files",
        )
        | {"deprecated": True},
    }
    paths: dict[str, Any] = {
        "/auth/token": {
            "post": _op(
                "Exchange a username and password for a bearer token.",
                {"200": _ok(schemas.TokenReply, "A new token."), **_errors(400, 401, 413)},
                body=_body(schemas.TokenRequest),
                public=True,
                tag="auth",
            ),
            "delete": _op(
                "Revoke the token this request carries.",
                {"204": no_content, **_errors(401, 413)},
                tag="auth",
            ),
        },
        "/user": {
            "get": _op(
                "The authenticated user.",
                {"200": _ok(schemas.UserInfo, "The user."), **_errors(401)},
                tag="auth",
            ),
        },
        "/projects": {
            "get": _op(
                "Projects the user owns or collaborates on, by name.",
                {"200": _ok(schemas.ProjectList, "A page of projects."), **_errors(400, 401)},
                params=[LIMIT, PAGE_TOKEN],
                tag="projects",
            ),
            "post": _op(
                "Create a project owned by the user.",
                {"201": _ok(schemas.CloudProject, "Created."), **_errors(400, 401, 409, 413)},
                body=_body(schemas.ProjectCreate),
                tag="projects",
            ),
        },
        "/projects/{project_id}": {
            "parameters": [PROJECT_ID],
            "get": _op(
                "A project.",
                {"200": _ok(schemas.CloudProject, "The project."), **_errors(401, 404)},
                tag="projects",
            ),
            "patch": _op(
                "Change title, description or metadata (owner or write collaborator).",
                {
                    "200": _ok(schemas.CloudProject, "The project."),
                    **_errors(400, 401, 403, 404, 413),
                },
                body=_body(schemas.ProjectUpdate),
                tag="projects",
            ),
            "delete": _op(
                "Delete a project and its history (owner only).",
                {"204": no_content, **_errors(401, 403, 404, 413)},
                tag="projects",
            ),
        },
        "/projects/{project_id}/collaborators": {
            "parameters": [PROJECT_ID],
            "get": _op(
                "Collaborators of a project.",
                {"200": _ok(schemas.CollaboratorList, "The collaborators."), **_errors(401, 404)},
                tag="projects",
            ),
        },
        "/projects/{project_id}/collaborators/{username}": {
            "parameters": [
                PROJECT_ID,
                _param("username", "path", {"type": "string", "pattern": schemas.USERNAME_PATTERN}),
            ],
            "put": _op(
                "Add a collaborator or change their role (owner only).",
                {
                    "200": _ok(schemas.Collaborator, "The collaborator."),
                    **_errors(400, 401, 403, 404, 409, 413),
                },
                body=_body(schemas.CollaboratorSet),
                tag="projects",
            ),
            "delete": _op(
                "Remove a collaborator (owner only).",
                {"204": no_content, **_errors(401, 403, 404, 413)},
                tag="projects",
            ),
        },
        "/projects/{project_id}/files": {"parameters": [PROJECT_ID], **files},
        "/projects/{project_id}/files/{path}": file_item,
        "/projects/{project_id}/files/{path}/revisions": legacy_revisions_item,
        "/projects/{project_id}/revisions/{path}": revisions_item,
        "/projects/{project_id}/moves": {
            "parameters": [PROJECT_ID],
            "post": _op(
                "Move a file. One change (op 'move'); a tombstone stays at the old path and "
                "the history follows the file.",
                {
                    "200": _ok(
                        schemas.FileVersion, "The file at its new path.", headers=ETAG_HEADER
                    ),
                    **_errors(400, 401, 403, 404, 409, 412, 413),
                },
                body=_body(schemas.MoveRequest),
                tag="files",
            ),
        },
        "/projects/{project_id}/batch": {
            "parameters": [PROJECT_ID],
            "post": _op(
                "Upload many small files in one request: each is checked and recorded as its "
                "own upload would be (own revision and seq; a stale or bad file fails alone), "
                "in one transaction.",
                {
                    "200": _ok(schemas.BatchReply, "One result per manifest item, in order."),
                    **_errors(400, 401, 403, 404, 413),
                },
                body={
                    "required": True,
                    "description": (
                        "The manifest as one line of JSON (schema BatchManifest, at most "
                        f"{MAX_BATCH_ITEMS} items), a newline, then each item's bytes in "
                        "manifest order (none for a stored item: it reuses content the "
                        f"project holds). At most {MAX_BATCH_BODY} bytes in all."
                    ),
                    "content": {
                        "application/vnd.project-cloud.batch": {
                            "schema": {"type": "string", "format": "binary"}
                        }
                    },
                },
                tag="files",
            ),
        },
        "/projects/{project_id}/changes": {
            "parameters": [PROJECT_ID],
            "get": _op(
                "Changes with seq > since, oldest first.",
                {"200": _ok(schemas.ChangeList, "A page of changes."), **_errors(400, 401, 404)},
                params=[
                    _param(
                        "since",
                        "query",
                        {"type": "integer", "minimum": 0, "maximum": MAX_SINCE},
                        "Default 0. Above head_seq: an empty page (see head_seq).",
                    ),
                    LIMIT,
                ],
                tag="changes",
            ),
        },
        "/projects/{project_id}/checkpoints": {
            "parameters": [PROJECT_ID],
            "get": _op(
                "Checkpoints, newest first.",
                {"200": _ok(schemas.CheckpointList, "The checkpoints."), **_errors(401, 404)},
                tag="checkpoints",
            ),
            "post": _op(
                "Name the project's state at a seq (default: now).",
                {
                    "201": _ok(schemas.Checkpoint, "Created."),
                    **_errors(400, 401, 403, 404, 409, 413),
                },
                body=_body(schemas.CheckpointCreate),
                tag="checkpoints",
            ),
        },
        "/projects/{project_id}/checkpoints/{checkpoint_id}": {
            "parameters": [
                PROJECT_ID,
                _param("checkpoint_id", "path", {"type": "string", "minLength": 1}),
            ],
            "get": _op(
                "A checkpoint.",
                {"200": _ok(schemas.Checkpoint, "The checkpoint."), **_errors(401, 404)},
                tag="checkpoints",
            ),
            "delete": _op(
                "Forget a checkpoint (the history stays).",
                {"204": no_content, **_errors(401, 403, 404, 413)},
                tag="checkpoints",
            ),
        },
        "/projects/{project_id}/checkpoints/{checkpoint_id}/restore": {
            "parameters": [
                PROJECT_ID,
                _param("checkpoint_id", "path", {"type": "string", "minLength": 1}),
            ],
            "post": _op(
                "Restore the files to the checkpoint by writing new revisions.",
                {
                    "200": _ok(schemas.CloudProject, "The project after the restore."),
                    **_errors(401, 403, 404, 409, 413),
                },
                tag="checkpoints",
            ),
        },
        "/openapi.json": {
            "get": _op(
                "This document.",
                {
                    "200": {
                        "description": "OpenAPI 3.1.",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
                public=True,
                tag="meta",
            ),
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Projects service (project_cloud)",
            "version": __version__,
            "description": (
                "The cloud Projects service of project-filebrowser. Bearer token auth on "
                "everything but POST /auth/token and this document. Errors are "
                '{"error": {"code", "message"}}. JSON request bodies are limited to '
                f"{MAX_JSON_BODY} bytes, files to {max_file_size} bytes; a refused request "
                f"with a body over {DRAIN_LIMIT} bytes is answered and the connection closed. "
                "Unknown, empty or repeated query parameters are refused (400). While the "
                "service shuts down, any request may get 503 shutting_down (Retry-After)."
                "\n\nThe change stream is a websocket at /api/v1/stream (not describable "
                "here): authenticate with the Authorization header or ?token=, send "
                '{"type":"subscribe","projects":[ids]}, receive '
                '{"type":"changed","project_id","seq"} after each commit.'
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "x-websockets": {
            "/stream": {
                "client": ["subscribe {projects: [id]}", "ping"],
                "server": [
                    "subscribed {projects: [{id, head_seq}], missing}",
                    "changed {project_id, seq}",
                    "deleted {project_id}",
                    "revoked {project_id}",
                    "projects_changed {project_id} (to every stream of a user whose project"
                    " list changed: created, shared, unshared, renamed, deleted; whatever"
                    " the subscription)",
                    "pong",
                    "error {code, message}",
                ],
            }
        },
    }


@functools.lru_cache(maxsize=8)
def openapi_json(max_file_size: int) -> bytes:
    return json.dumps(build_openapi(max_file_size), indent=1).encode("utf-8")
