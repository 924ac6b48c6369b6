"""Users, passwords and API tokens.

Passwords are stored as scrypt hashes; tokens (``pfc_...``) are shown once and stored as
their SHA-256 only. A login of an unknown user hashes a dummy password all the same, so
that timing does not reveal which names exist.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from . import schemas
from .core import Core
from .errors import Conflict, InvalidRequest, NotFound, Unauthorized
from .models import Token, User, utcnow

TOKEN_PREFIX = "pfc_"
_USERNAME_RE = re.compile(schemas.USERNAME_PATTERN)
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


@dataclass(frozen=True)
class Principal:
    """An authenticated user."""

    user_id: int
    username: str


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    )
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
        digest = hashlib.scrypt(
            password.encode("utf-8"),
            salt=salt,
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(digest, expected)


_DUMMY_HASH = hash_password(secrets.token_hex(8))


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def write_token_file(path: Path, token: str) -> None:
    """Write ``token`` to ``path`` readable by the owner only (atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, (token + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def create_user(core: Core, username: str, password: str | None = None) -> Principal:
    """Create a user (a random, unknown password if none is given)."""
    if not _USERNAME_RE.match(username):
        raise InvalidRequest(
            "a username is 1-64 letters, digits, '.', '_', '@', '-', starting with a "
            "letter or digit",
            "invalid_username",
        )
    pw_hash = hash_password(password if password is not None else secrets.token_urlsafe(24))
    try:
        with core.writing() as (s, _events):
            if s.scalar(select(User.id).where(User.username == username)) is not None:
                raise Conflict(f"user {username!r} already exists")
            user = User(username=username, password_hash=pw_hash, created_at=utcnow())
            s.add(user)
            s.flush()
            return Principal(user.id, user.username)
    except IntegrityError:
        raise Conflict(f"user {username!r} already exists") from None


def issue_token(core: Core, username: str, label: str = "api") -> str:
    """A new API token for ``username`` (shown once; only its hash is stored)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with core.writing() as (s, _events):
        user_id = s.scalar(select(User.id).where(User.username == username))
        if user_id is None:
            raise NotFound(f"no user {username!r}", "user_not_found")
        s.add(
            Token(
                user_id=user_id,
                token_hash=_hash_token(token),
                label=label[:64],
                created_at=utcnow(),
            )
        )
    return token


def login(core: Core, username: str, password: str) -> str:
    """Check a password and issue a token; 401 ``invalid_credentials`` otherwise."""
    with core.reading() as s:
        stored = s.scalar(select(User.password_hash).where(User.username == username))
    # Hash even for unknown users so that timing does not reveal which names exist.
    ok = verify_password(password, stored if stored is not None else _DUMMY_HASH)
    if stored is None or not ok:
        raise Unauthorized("wrong username or password", "invalid_credentials")
    return issue_token(core, username, label="login")


def authenticate(core: Core, token: str) -> Principal | None:
    """The user a token belongs to, or None."""
    if not token:
        return None
    with core.reading() as s:
        row = s.execute(
            select(User.id, User.username)
            .join(Token, Token.user_id == User.id)
            .where(Token.token_hash == _hash_token(token))
        ).first()
    return Principal(row[0], row[1]) if row is not None else None


def revoke_token(core: Core, token: str) -> bool:
    with core.writing() as (s, _events):
        result = s.execute(delete(Token).where(Token.token_hash == _hash_token(token)))
        return bool(result.rowcount)  # type: ignore[attr-defined]


def ensure_user(core: Core, username: str, token_file: Path | None = None) -> str:
    """Make sure ``username`` exists and return a token for it (embedded mode).

    With ``token_file``, the token is kept there (mode 0600) and reused while it is
    valid, so it is stable across restarts; without, every call issues a new token.
    """
    with contextlib.suppress(Conflict):
        create_user(core, username)
    if token_file is not None and token_file.exists():
        token = token_file.read_text(encoding="utf-8").strip()
        principal = authenticate(core, token)
        if principal is not None and principal.username == username:
            return token
    token = issue_token(core, username, label="embedded")
    if token_file is not None:
        write_token_file(token_file, token)
    return token
