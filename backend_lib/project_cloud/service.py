"""The Projects service: all business rules, no HTTP.

:class:`CloudService` is a thin front: each public method is a function of the module of
its domain, called with the service's :class:`~.core.Core` (the same parameters, so a
method's signature and documentation are its function's), where the rules are written down:

* :mod:`.auth` - users, passwords, tokens; :mod:`.access` - roles, the access check,
  collaborators; :mod:`.projects` - projects;
* :mod:`.reads` - listings, downloads, history, the change feed, preconditions;
* :mod:`.writes` - uploads, batches, deletes, moves, all through the one revision writer
  :mod:`.revisions`; :mod:`.checkpoints` - checkpoints and restores;
* :mod:`.packs` - where blobs are; :mod:`.core` - the state they share and the outbox
  that announces a write's events; :mod:`.errors` - the errors.

Methods are synchronous (SQLAlchemy sessions); the Tornado handlers run them in a thread
pool. Each method is one database transaction. Errors are :class:`ServiceError`
subclasses carrying the HTTP status and the contract's snake_case code. This module
re-exports the names older imports take from it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, Generic, ParamSpec, TypeVar, overload

from sqlalchemy import Engine

from . import access, auth, checkpoints, packs, projects, reads, writes
from .auth import TOKEN_PREFIX, Principal, hash_password, verify_password, write_token_file
from .blobs import BlobStore
from .core import DEFAULT_MAX_FILE_SIZE, Core
from .errors import (
    Conflict,
    Forbidden,
    InvalidPathError,
    InvalidRequest,
    NotFound,
    PreconditionFailed,
    ServiceError,
    TooLarge,
    Unauthorized,
)
from .notify import InProcessNotifier, Notifier
from .reads import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Preconditions, StoredFile, parse_etags
from .writes import MAX_BATCH_ITEMS

P = ParamSpec("P")
R = TypeVar("R")

__all__ = [
    "DEFAULT_MAX_FILE_SIZE",
    "DEFAULT_PAGE_SIZE",
    "MAX_BATCH_ITEMS",
    "MAX_PAGE_SIZE",
    "TOKEN_PREFIX",
    "CloudService",
    "Conflict",
    "Forbidden",
    "InvalidPathError",
    "InvalidRequest",
    "NotFound",
    "PreconditionFailed",
    "Preconditions",
    "Principal",
    "ServiceError",
    "StoredFile",
    "TooLarge",
    "Unauthorized",
    "hash_password",
    "parse_etags",
    "verify_password",
    "write_token_file",
]


class _OnCore(Generic[P, R]):
    """A method of the front: the domain function ``fn(core, ...)``, called with the
    service's :class:`~.core.Core` first (same parameters, defaults and reply as ``fn``)."""

    def __init__(self, fn: Callable[Concatenate[Core, P], R]) -> None:
        self.fn = fn
        self.__doc__ = fn.__doc__

    @overload
    def __get__(self, obj: None, owner: type[CloudService]) -> _OnCore[P, R]: ...

    @overload
    def __get__(self, obj: CloudService, owner: type[CloudService]) -> Callable[P, R]: ...

    def __get__(
        self, obj: CloudService | None, owner: type[CloudService]
    ) -> _OnCore[P, R] | Callable[P, R]:
        if obj is None:
            return self
        return functools.partial(self.fn, obj.core)


class CloudService:
    """The Projects service on a metadata DB (``engine``) and a blob store."""

    def __init__(
        self,
        engine: Engine,
        blobs: BlobStore | None,
        notifier: Notifier | None = None,
        max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    ) -> None:
        self.core = Core(
            engine, blobs, notifier if notifier is not None else InProcessNotifier(), max_file_size
        )

    @property
    def engine(self) -> Engine:
        return self.core.engine

    @property
    def notifier(self) -> Notifier:
        return self.core.notifier

    @property
    def blobs(self) -> BlobStore:
        return self.core.blobs

    @property
    def max_file_size(self) -> int:
        return self.core.max_file_size

    @max_file_size.setter
    def max_file_size(self, value: int) -> None:
        self.core.max_file_size = value

    # users and tokens
    create_user = _OnCore(auth.create_user)
    issue_token = _OnCore(auth.issue_token)
    login = _OnCore(auth.login)
    authenticate = _OnCore(auth.authenticate)
    revoke_token = _OnCore(auth.revoke_token)
    ensure_user = _OnCore(auth.ensure_user)
    # projects
    list_projects = _OnCore(projects.list_projects)
    create_project = _OnCore(projects.create_project)
    get_project = _OnCore(projects.get_project)
    update_project = _OnCore(projects.update_project)
    delete_project = _OnCore(projects.delete_project)
    # collaborators, visibility
    list_collaborators = _OnCore(access.list_collaborators)
    set_collaborator = _OnCore(access.set_collaborator)
    remove_collaborator = _OnCore(access.remove_collaborator)
    visible_project_ids = _OnCore(access.visible_project_ids)
    # files: reading
    list_files = _OnCore(reads.list_files)
    get_file = _OnCore(reads.get_file)
    revisions = _OnCore(reads.revisions)
    lists_revisions = _OnCore(reads.lists_revisions)
    changes = _OnCore(reads.changes)
    # files: writing
    check_put = _OnCore(writes.check_put)
    put_file = _OnCore(writes.put_file)
    put_batch = _OnCore(writes.put_batch)
    delete_file = _OnCore(writes.delete_file)
    move_file = _OnCore(writes.move_file)
    # checkpoints
    create_checkpoint = _OnCore(checkpoints.create_checkpoint)
    list_checkpoints = _OnCore(checkpoints.list_checkpoints)
    get_checkpoint = _OnCore(checkpoints.get_checkpoint)
    delete_checkpoint = _OnCore(checkpoints.delete_checkpoint)
    restore_checkpoint = _OnCore(checkpoints.restore_checkpoint)
    # maintenance
    referenced_blobs = _OnCore(packs.referenced_blobs)
