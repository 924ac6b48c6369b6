"""Writing files: uploads (one, or a batch of many small ones), deletes and moves.

Each call checks access, paths and sizes, takes the project's lock, hands its changes to
the one revision writer (:func:`.revisions.record`) and announces the new seq. A PUT or
DELETE with no precondition at all is last-writer-wins (the sync engine always sends one).
Preconditions are checked inside the write transaction, after the project row is locked,
and a head row is replaced by a conditional UPDATE; of two racing writers with the same
precondition exactly one commits, the other gets 412.
"""

from __future__ import annotations

from . import schemas
from .access import project_for
from .auth import Principal
from .blobs import PackEntry
from .core import Core, Outbox
from .errors import Conflict, InvalidRequest, NotFound, ServiceError, TooLarge
from .gc import BlobGone
from .models import FileHead, FileVersion, Project
from .notify import Event
from .packs import held, packed, record_packed
from .reads import Preconditions, check_path, mtime_ns, parse_etags, version_out
from .revisions import Write, Written, record

MAX_BATCH_ITEMS = 1000


class _PackGone(Exception):
    """A batch's new pack file was removed before its rows committed (see :mod:`.gc`)."""


def packs_of(entries: list[PackEntry]) -> list[str]:
    """The distinct packs these entries are in."""
    return sorted({e.pack for e in entries})


def _announce(events: Outbox, project: Project) -> None:
    events.add(Event("changed", project.id, project.head_seq))


def _one(outcome: Written | ServiceError) -> Written:
    if isinstance(outcome, ServiceError):
        raise outcome
    return outcome


def _check_size(core: Core, size: int) -> None:
    if size > core.max_file_size:
        raise TooLarge(f"the file is larger than {core.max_file_size} bytes")


def check_put(
    core: Core, principal: Principal, project_id: str, path: str, pre: Preconditions
) -> None:
    """Early checks before an upload streams in (access, path, preconditions), so a doomed
    upload is refused before its bytes are sent. :func:`put_file` checks again."""
    check_path(path)
    with core.reading() as s:
        project_for(s, principal, project_id, "write")
        pre.check(s.get(FileHead, (project_id, path)))


def put_file(
    core: Core,
    principal: Principal,
    project_id: str,
    path: str,
    sha256: str,
    size: int,
    pre: Preconditions,
    mtime_ns: int | None = None,
) -> tuple[schemas.FileVersion, bool]:
    """Record a new revision of ``path`` whose bytes are already in the blob store, with
    the file's modification time as the client sent it (None: the server's). Returns the
    version and whether the path was created (no live file before)."""
    check_path(path)
    _check_size(core, size)
    if not core.blobs.exists(sha256):
        raise BlobGone({sha256})  # stored, then collected before this write (see .gc)
    with core.writing() as (s, events):
        project = project_for(s, principal, project_id, "write", lock=True)
        [outcome] = record(
            s, project, principal, [[Write(path, sha256, size, pre, mtime_ns)]], core.blobs
        )
        written = _one(outcome)
        _announce(events, project)
    return written.version, written.created


def put_batch(
    core: Core,
    principal: Principal,
    project_id: str,
    items: list[schemas.BatchItem],
    payload: memoryview,
) -> schemas.BatchReply:
    """Many uploads in one call: ``payload`` holds the items' bytes one after another. Each
    file is checked and recorded exactly as :func:`put_file` would (its own revision and
    seq; a file that fails - stale precondition, bad path, bytes that do not match its
    SHA-256 - fails alone and changes nothing), but the blobs are flushed once and the
    revisions committed in one transaction. A ``stored`` item brings no bytes: it reuses
    content this project already holds (:func:`.packs.held`)."""
    if len(items) > MAX_BATCH_ITEMS:
        raise InvalidRequest(f"a batch holds at most {MAX_BATCH_ITEMS} files", "invalid_batch")
    if sum(item.size for item in items if not item.stored) != len(payload):
        raise InvalidRequest(
            "the body's length does not match the sizes in the manifest", "invalid_batch"
        )
    if len({item.path for item in items}) != len(items):
        raise InvalidRequest("a path appears twice in the batch", "invalid_batch")
    with core.reading() as s:
        project_for(s, principal, project_id, "write")  # refuse before storing bytes
    failed: dict[int, ServiceError] = {}
    puts: list[tuple[int, Write]] = []
    reused: list[tuple[int, Write]] = []
    contents: list[tuple[str, memoryview]] = []
    offset = 0
    for index, item in enumerate(items):
        sent = 0 if item.stored else item.size  # a stored item has no part of the body
        data, offset = payload[offset : offset + sent], offset + sent
        try:
            check_path(item.path)
            _check_size(core, item.size)
            pre = Preconditions.from_headers(item.if_match, item.if_none_match)
        except ServiceError as exc:
            failed[index] = exc
            continue
        put = Write(item.path, item.sha256.lower(), item.size, pre, item.mtime_ns)
        if item.stored:
            reused.append((index, put))
        else:
            puts.append((index, put))
            contents.append((item.sha256.lower(), data))
    with core.reading() as s:
        known = packed(s, {sha256 for sha256, _data in contents})
        holds = held(s, core.blobs, project_id, {put.sha256 or "" for _i, put in reused})
    matched, new_packs = core.blobs.write_pack(contents, set(known))
    for (index, _put), good in zip(puts, matched, strict=True):
        if not good:
            failed[index] = InvalidRequest(
                "the bytes' SHA-256 is not the one announced", "checksum_mismatch"
            )
    for index, put in reused:
        if holds.get(put.sha256 or "") != put.size:
            failed[index] = Conflict(
                "this project holds no content with that SHA-256 and size; send the bytes",
                "unknown_content",
            )
    todo = sorted((p for p in [*puts, *reused] if p[0] not in failed), key=lambda p: p[0])
    outcomes: dict[int, Written | ServiceError] = dict(failed)
    while todo:
        try:
            with core.writing() as (s, events):
                project = project_for(s, principal, project_id, "write", lock=True)
                before = project.head_seq
                record_packed(s, new_packs)
                recorded = record(s, project, principal, [[put] for _i, put in todo], core.blobs)
                if not all(
                    core.blobs.fs.exists(core.blobs.pack_key(p)) for p in packs_of(new_packs)
                ):
                    raise _PackGone  # a garbage collection took it as an orphan: write it again
                outcomes.update(zip((index for index, _put in todo), recorded, strict=True))
                if project.head_seq != before:
                    _announce(events, project)
            break
        except _PackGone:
            _matched, new_packs = core.blobs.write_pack(contents, set(known))
        except BlobGone as gone:
            # Collected meanwhile (all rolled back): content this batch brought is packed
            # again; an item by reference fails alone (send the bytes).
            resend = [(sha256, data) for sha256, data in contents if sha256 in gone.shas]
            _matched, more = core.blobs.write_pack(resend, set())
            new_packs = [*new_packs, *more]
            known = {k: v for k, v in known.items() if k not in gone.shas}
            sent = {sha256 for sha256, _data in resend}
            lost = gone.shas - sent
            for index, put in todo:
                if put.sha256 in lost:
                    outcomes[index] = gone
            todo = [(index, put) for index, put in todo if put.sha256 not in lost]
    results = []
    for index, item in enumerate(items):
        outcome = outcomes[index]
        if isinstance(outcome, ServiceError):
            error = schemas.ErrorDetail(code=outcome.code, message=outcome.message)
            results.append(
                schemas.BatchItemResult(path=item.path, status=outcome.status, error=error)
            )
        else:
            results.append(
                schemas.BatchItemResult(
                    path=item.path, status=201 if outcome.created else 200, version=outcome.version
                )
            )
    return schemas.BatchReply(items=results)


def delete_file(
    core: Core,
    principal: Principal,
    project_id: str,
    path: str,
    pre: Preconditions,
    *,
    confirmed: bool = False,
) -> schemas.FileVersion:
    """Write a tombstone at ``path``; returns it. ``confirmed``: a person confirmed this
    delete past a replica's delete guard (the change says so, so that other replicas apply
    it without asking again)."""
    check_path(path)
    with core.writing() as (s, events):
        project = project_for(s, principal, project_id, "write", lock=True)
        [outcome] = record(
            s, project, principal, [[Write(path, pre=pre, confirmed=confirmed)]], core.blobs
        )
        tomb = _one(outcome).version
        _announce(events, project)
    return tomb


def move_file(
    core: Core,
    principal: Principal,
    project_id: str,
    from_path: str,
    to_path: str,
    if_match: str | None = None,
) -> schemas.FileVersion:
    """Move a file: one change (op ``move``); a tombstone (op ``moved``) stays at the old
    path and the new path's history continues the old one."""
    check_path(from_path)
    check_path(to_path)
    pre = Preconditions(if_match=parse_etags(if_match) if if_match is not None else None)
    with core.writing() as (s, events):
        project = project_for(s, principal, project_id, "write", lock=True)
        src = s.get(FileHead, (project_id, from_path))
        if src is None or src.deleted:
            raise NotFound(f"no file {from_path!r}")
        pre.check(src)
        old = s.get(FileVersion, src.version_id)
        assert old is not None
        if from_path == to_path:  # as rename(2) does: nothing moves, nothing changes
            return version_out(old)
        tomb = Write(from_path, pre=pre, op="moved", to_path=to_path)
        moved = Write(
            to_path,
            old.sha256,
            old.size,
            op="move",
            from_path=from_path,
            mtime_ns=mtime_ns(old),  # a move keeps the file's mtime
            replace=False,
        )
        [outcome] = record(s, project, principal, [[tomb, moved]], core.blobs)
        out = _one(outcome).version
        _announce(events, project)
    return out
