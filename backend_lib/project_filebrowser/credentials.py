"""Credentials stored by ``project-filebrowser login``: readable by the user alone."""

from __future__ import annotations

import json
import os
from pathlib import Path

from jupyter_core.paths import jupyter_data_dir
from pydantic import BaseModel

TOKEN_ENV = "PROJECT_FILEBROWSER_TOKEN"


class Credentials(BaseModel):
    url: str
    token: str
    username: str | None = None


def credentials_path() -> Path:
    return Path(jupyter_data_dir()) / "project_filebrowser" / "credentials.json"


def save(credentials: Credentials, path: Path | None = None) -> Path:
    """Write atomically with mode 0600 (never world- or group-readable, not even briefly)."""
    path = path or credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(credentials.model_dump_json(indent=2))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
    return path


def load(path: Path | None = None) -> Credentials | None:
    """The stored login; ``PROJECT_FILEBROWSER_TOKEN`` overrides its token."""
    path = path or credentials_path()
    try:
        credentials = Credentials.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise ValueError(f"{path} is not a valid credentials file: {exc}") from exc
    token = os.environ.get(TOKEN_ENV)
    return credentials.model_copy(update={"token": token}) if token else credentials
