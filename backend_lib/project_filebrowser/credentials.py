"""Credentials stored by ``project-filebrowser login``: readable by the user alone."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from jupyter_core.paths import jupyter_data_dir

TOKEN_ENV = "PROJECT_FILEBROWSER_TOKEN"


@dataclasses.dataclass(frozen=True)
class Credentials:
    """A login. (A plain dataclass, not a pydantic model: every command reads it first, and
    this keeps pydantic out of the start-up of those that need nothing else of it.)"""

    url: str
    token: str
    username: str | None = None

    @classmethod
    def from_json(cls, raw: str) -> Credentials:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        url, token, username = data.get("url"), data.get("token"), data.get("username")
        if not isinstance(url, str) or not isinstance(token, str):
            raise ValueError("url and token must be strings")
        if username is not None and not isinstance(username, str):
            raise ValueError("username must be a string")
        return cls(url=url, token=token, username=username)


def credentials_path() -> Path:
    return Path(jupyter_data_dir()) / "project_filebrowser" / "credentials.json"


def save(credentials: Credentials, path: Path | None = None) -> Path:
    """Write atomically with mode 0600 (never world- or group-readable, not even briefly)."""
    path = path or credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(dataclasses.asdict(credentials), indent=2))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
    return path


def load(path: Path | None = None) -> Credentials | None:
    """The stored login; ``PROJECT_FILEBROWSER_TOKEN`` overrides its token."""
    path = path or credentials_path()
    try:
        credentials = Credentials.from_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise ValueError(f"{path} is not a valid credentials file: {exc}") from exc
    token = os.environ.get(TOKEN_ENV)
    return dataclasses.replace(credentials, token=token) if token else credentials
