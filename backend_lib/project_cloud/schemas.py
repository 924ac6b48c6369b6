"""The JSON shapes of the Projects API (CONTRACT.md, "Cloud Projects service").

Replies are built from these models and the OpenAPI document is generated from them, so
the two cannot drift apart. Request models refuse unknown fields.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

PROJECT_NAME_PATTERN = r"^[A-Za-z0-9_](?:[A-Za-z0-9._ -]{0,126}[A-Za-z0-9_-])?$"
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$"
# A project path (paths.validate_path) as a pattern: segments of anything but '/', control
# characters and '\\', none empty, '.' or '..'. (The byte limits - 255 a segment, 4096 in
# all - are told in words.)
_SEGMENT = r"(?!\.\.?(?:/|$))[^/\x00-\x1f\x7f\\]+"
PATH_PATTERN = rf"^{_SEGMENT}(?:/{_SEGMENT})*$"
PATH_RULES = (
    "A relative POSIX path: segments of at most 255 bytes of UTF-8 (4096 in all), none "
    "empty, '.' or '..', no control characters, no backslash (400 invalid_path)."
)
NO_NUL_PATTERN = r"^[^\x00]*$"
# If-Match / If-None-Match: a list of entity tags, at least one (or *)
ETAGS_PATTERN = r"^[\s,]*[^\s,]"
PROJECT_NAME_MAX = 128
_NAME_CHARS = re.compile(r"[A-Za-z0-9._ -]*")


def project_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a project name, in words (None when it can): the rule of
    PROJECT_NAME_PATTERN, told part by part, as the API, the CLI and the UI say it."""
    if not name:
        return "a project name is required"
    if len(name) > PROJECT_NAME_MAX:
        return f"a project name has at most {PROJECT_NAME_MAX} characters; this one has {len(name)}"
    if "/" in name or "\\" in name:
        return "a project name cannot contain '/' or '\\': it becomes a folder name"
    if not _NAME_CHARS.fullmatch(name):
        bad = sorted({c for c in name if not _NAME_CHARS.fullmatch(c)})
        shown = ", ".join(repr(c) for c in bad[:5])
        return f"a project name uses letters, digits, '_', '-', '.' and spaces only, not {shown}"
    if name[0] in ".- ":
        return "a project name cannot start with '.', '-' or a space"
    if name[-1] in ". ":
        return "a project name cannot end with '.' or a space"
    return None


Role = Literal["read", "write"]
# mtimes: what a signed 64-bit column holds, as a pattern can say it (years 1685 to 2255)
MAX_MTIME_NS = 9 * 10**18 - 1
MIN_MTIME_NS = -MAX_MTIME_NS
MTIME_PATTERN = r"^-?(?:[0-9]{1,18}|[1-8][0-9]{18})$"


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Patterns in the document only: the service checks these rules itself and says which
# one a value breaks, in words (paths.validate_path, _no_nul).
_NO_NUL: dict[str, Any] = {"json_schema_extra": {"pattern": NO_NUL_PATTERN}}
_PATH: dict[str, Any] = {"json_schema_extra": {"pattern": PATH_PATTERN}}


def _no_nul(value: str | None) -> str | None:
    if value is not None and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _finite(value: Any) -> Any:
    """Refuse NaN and infinities anywhere in a JSON value (they are not JSON)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError("NaN and Infinity are not allowed")
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return value


# --- errors -------------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    code: str = Field(description="A stable snake_case error code.")
    message: str = Field(description="A human sentence.")


class ErrorBody(BaseModel):
    error: ErrorDetail


# --- auth -------------------------------------------------------------------------------


class TokenRequest(_Request):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class TokenReply(BaseModel):
    token: str


class UserInfo(BaseModel):
    username: str


# --- projects -----------------------------------------------------------------------------


class CloudProject(BaseModel):
    id: str
    name: str
    title: str
    description: str
    owner: str = Field(description="Username of the owner.")
    created_at: dt.datetime
    updated_at: dt.datetime
    metadata: dict[str, Any]
    head_seq: int = Field(ge=0, description="Sequence number of the project's last change.")
    file_count: int = Field(ge=0, description="Number of files (not deleted) now.")
    size_bytes: int = Field(ge=0, description="Total size of those files.")


class ProjectList(BaseModel):
    items: list[CloudProject]
    next_page_token: str | None = Field(description="Pass as page_token; null when done.")


class ProjectCreate(_Request):
    name: str = Field(
        pattern=PROJECT_NAME_PATTERN,
        description="1-128 letters, digits, '_', '-', '.', ' '; no leading '.', '-' or "
        "space and no trailing '.' or space (it becomes a folder name). Unique per owner.",
    )
    title: str | None = Field(
        default=None, max_length=256, description="Defaults to name.", **_NO_NUL
    )
    description: str | None = Field(default=None, max_length=100_000, **_NO_NUL)
    metadata: dict[str, Any] | None = None

    _check_text = field_validator("title", "description")(_no_nul)
    _check_metadata = field_validator("metadata")(_finite)


class ProjectUpdate(_Request):
    """Only the fields given change; null means "leave as is"."""

    title: str | None = Field(default=None, max_length=256, **_NO_NUL)
    description: str | None = Field(default=None, max_length=100_000, **_NO_NUL)
    metadata: dict[str, Any] | None = Field(default=None, description="Replaces the whole map.")

    _check_text = field_validator("title", "description")(_no_nul)
    _check_metadata = field_validator("metadata")(_finite)


class Collaborator(BaseModel):
    username: str
    role: Role


class CollaboratorList(BaseModel):
    items: list[Collaborator]


class CollaboratorSet(_Request):
    role: Role


# --- files --------------------------------------------------------------------------------


class FileVersion(BaseModel):
    path: str
    revision: str = Field(description="Opaque revision id; compare for equality only.")
    sha256: str | None = Field(description="SHA-256 of the content (hex); null if deleted.")
    size: int = Field(ge=0, description="Content size in bytes; 0 if deleted.")
    modified_at: dt.datetime = Field(description="When the service recorded the revision.")
    modified_by: str
    deleted: bool
    mtime_ns: int = Field(
        description="The file's modification time, ns since the epoch: as the uploading "
        "client sent it (X-Mtime-Ns, or a batch item's mtime_ns), else the service's time; a "
        "move keeps it. Clients set it on the files they download."
    )


class FileList(BaseModel):
    items: list[FileVersion]
    next_page_token: str | None = Field(description="Pass as page_token; null when done.")


class RevisionList(BaseModel):
    items: list[FileVersion] = Field(
        description="Newest first, deletions included; a moved file's history before the "
        "move follows (those items carry their old path)."
    )


class MoveRequest(_Request):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str = Field(
        alias="from",
        min_length=1,
        max_length=4096,
        description="The existing path. " + PATH_RULES,
        **_PATH,
    )
    to: str = Field(
        min_length=1,
        max_length=4096,
        description="The new path; must not hold a file. Equal to from: nothing moves, "
        "the reply is the file as it is.",
        **_PATH,
    )
    if_match: str | None = Field(
        default=None, description="Revision the source must have (quoted or bare)."
    )


class BatchItem(_Request):
    """One file of a batch upload; its bytes follow the manifest in the body, in order
    (none for an item sent by reference: ``stored``)."""

    path: str = Field(min_length=1, max_length=4096, description=PATH_RULES, **_PATH)
    size: int = Field(
        ge=0,
        description="Byte count of the file (and of its part of the body, unless stored).",
    )
    sha256: str = Field(
        pattern=r"^[0-9a-fA-F]{64}$",
        description="SHA-256 of the bytes; a file whose bytes differ is refused "
        "(its item fails with checksum_mismatch).",
    )
    if_match: str | None = Field(
        default=None, description="As the If-Match header of a single upload."
    )
    if_none_match: str | None = Field(
        default=None, description="As the If-None-Match header (* = create only)."
    )
    mtime_ns: int | None = Field(
        default=None,
        ge=MIN_MTIME_NS,
        le=MAX_MTIME_NS,
        description="The file's modification time, ns since the epoch (default: now).",
    )
    stored: StrictBool = Field(
        default=False,
        description="No bytes follow for this item: the project already holds content with "
        "this SHA-256 and size (any file, any revision), which the new revision reuses. If "
        "it holds none, the item fails with 409 unknown_content and the bytes must be sent.",
    )


class BatchManifest(_Request):
    items: list[BatchItem] = Field(min_length=1)


class BatchItemResult(BaseModel):
    path: str
    status: int = Field(
        description="What a single upload of this file would have answered: 200 or 201 "
        "with version, else the error's status with error."
    )
    version: FileVersion | None = None
    error: ErrorDetail | None = None


class BatchReply(BaseModel):
    items: list[BatchItemResult] = Field(description="One per manifest item, in its order.")


# --- changes ------------------------------------------------------------------------------


class Change(BaseModel):
    seq: int = Field(ge=1)
    path: str
    op: Literal["put", "delete", "move"]
    revision: str
    sha256: str | None
    size: int = Field(ge=0)
    from_path: str | None = Field(default=None, description="For op 'move': the old path.")
    modified_by: str = Field(default="", description="Who made the change.")
    confirmed: bool = Field(
        default=False,
        description="For op 'delete': a person confirmed it past a replica's delete guard "
        "(DELETE ...?confirmed=true); other replicas apply it without asking again.",
    )
    mtime_ns: int | None = Field(
        default=None, description="As FileVersion.mtime_ns; null for a deletion."
    )


class ChangeList(BaseModel):
    items: list[Change]
    next_since: int = Field(ge=0, description="Pass as since to continue.")
    has_more: bool
    head_seq: int = Field(
        ge=0,
        description="The project's current head_seq. A client whose cursor is above it "
        "talks to a service that lost or replaced the project: it must resync fully.",
    )


# --- checkpoints --------------------------------------------------------------------------


class CheckpointCreate(_Request):
    name: str = Field(min_length=1, max_length=256, **_NO_NUL)
    seq: int | None = Field(
        default=None, ge=0, description="The state to name; defaults to the head_seq."
    )

    _check_name = field_validator("name")(_no_nul)


class Checkpoint(BaseModel):
    id: str
    name: str
    seq: int = Field(ge=0)
    created_at: dt.datetime


class CheckpointList(BaseModel):
    items: list[Checkpoint] = Field(description="Newest first.")
