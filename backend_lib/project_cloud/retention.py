"""Which revisions a project keeps: the retention policy, a pure function (no I/O).

For each path, with ``age = now - modified_at``:

* ``age < keep_days``: every revision is kept;
* ``keep_days <= age < keep_days + 90 days``: the newest revision of each UTC day;
* older: the newest revision of each ISO week (UTC).

Whatever its age, a revision is always kept when it is

* the path's head (its current revision, live or tombstone): the listing, preconditions
  and every replica's cursor rest on it;
* held by a checkpoint: for a checkpoint at seq ``c``, each path's newest revision with
  ``seq <= c`` (a tombstone included: it is what says the path was absent then), so a
  restore brings back exactly the state it named;
* the newest live revision of a deleted path (whose head is a tombstone), so "restore a
  deleted file" keeps working however long ago it was deleted;
* one row of a move, when the other row of the move is kept: a move is one change of two
  rows (the tombstone at the old path and the file at the new one) and the change feed
  shows it through the new path's row only, so they are kept or dropped together.

``keep_days <= 0`` keeps everything forever (retention off).

Why the change feed stays consistent: every dropped revision has a newer kept revision at
the same path (the head is always kept and is the path's newest), and the feed is paged by
seq (``seq > since``), which tolerates gaps. So for any cursor, the changes after it still
end with each path's latest change: a replica catching up from an old cursor misses only
intermediate states older than ``keep_days``, never the final one.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

DEFAULT_KEEP_DAYS = 30
DAILY_DAYS = 90  # after keep_days, one revision a day for this many days; then one a week


@dataclass(frozen=True, slots=True)
class Rev:
    """What the policy needs of one revision row (``id``: the ``file_versions`` row)."""

    id: int
    path: str
    seq: int
    at: dt.datetime  # modified_at (UTC)
    deleted: bool


def _bucket(at: dt.datetime, age: dt.timedelta, keep: dt.timedelta) -> tuple[object, ...] | None:
    """The bucket a revision competes in (the newest of a bucket is kept); None: kept."""
    if age < keep:
        return None
    day = at.astimezone(dt.timezone.utc).date()
    if age < keep + dt.timedelta(days=DAILY_DAYS):
        return ("day", day)
    year, week, _weekday = day.isocalendar()
    return ("week", year, week)


def revisions_to_keep(
    revs: Iterable[Rev],
    heads: Mapping[str, int],
    checkpoints: Iterable[int],
    now: dt.datetime,
    keep_days: int = DEFAULT_KEEP_DAYS,
) -> set[int]:
    """The ids of the revisions one project keeps (see the module's docstring).

    ``revs``: all of the project's revision rows; ``heads``: each path's head row id;
    ``checkpoints``: the seqs of the project's checkpoints."""
    revs = list(revs)
    if keep_days <= 0:
        return {r.id for r in revs}
    keep_for = dt.timedelta(days=keep_days)
    by_path: dict[str, list[Rev]] = defaultdict(list)
    for r in revs:
        by_path[r.path].append(r)
    seqs_cp = sorted(set(checkpoints))
    kept: set[int] = set()
    for path, rows in by_path.items():
        rows.sort(key=lambda r: (r.seq, r.id))
        newest: dict[tuple[object, ...], Rev] = {}
        for r in rows:  # oldest first: a later row of a bucket replaces an earlier one
            bucket = _bucket(r.at, now - r.at, keep_for)
            if bucket is None:
                kept.add(r.id)
            else:
                newest[bucket] = r
        kept.update(r.id for r in newest.values())
        head = heads.get(path)
        if head is not None:
            kept.add(head)
            if any(r.id == head and r.deleted for r in rows):
                live = [r for r in rows if not r.deleted]
                if live:
                    kept.add(live[-1].id)
        path_seqs = [r.seq for r in rows]
        for c in seqs_cp:
            at = bisect.bisect_right(path_seqs, c)
            if at:
                kept.add(rows[at - 1].id)
    by_seq: dict[int, list[int]] = defaultdict(list)
    for r in revs:
        by_seq[r.seq].append(r.id)
    for ids in by_seq.values():
        if len(ids) > 1 and any(i in kept for i in ids):
            kept.update(ids)
    return kept
