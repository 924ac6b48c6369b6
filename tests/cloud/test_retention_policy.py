"""The retention policy as a table (pure: :func:`project_cloud.retention.revisions_to_keep`).
The end-to-end tests of retention and the garbage collector are in ``test_retention.py``."""

from __future__ import annotations

import datetime as dt

import pytest

from project_cloud.retention import Rev, revisions_to_keep

UTC = dt.timezone.utc

# --- the policy, as a table -----------------------------------------------------------------

NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def at(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso).replace(tzinfo=UTC)


# (id, path, seq, time, deleted, kept?, why)
POLICY_TABLE: list[tuple[int, str, int, str, bool, bool, str]] = [
    # path a: the three bands
    (1, "a", 1, "2026-01-05T09:00", False, False, "week 2: not its newest"),
    (2, "a", 2, "2026-01-09T09:00", False, True, "week 2: its newest"),
    (3, "a", 3, "2026-01-12T09:00", False, True, "week 3: alone"),
    (4, "a", 4, "2026-05-14T10:00", False, True, "daily band: alone that day"),
    (5, "a", 5, "2026-05-15T08:00", False, False, "daily band: not the day's newest"),
    (6, "a", 6, "2026-05-15T12:00", False, True, "daily band: the day's newest"),
    (7, "a", 7, "2026-05-17T09:00", False, True, "29 days old: everything kept"),
    (8, "a", 8, "2026-05-17T10:00", False, True, "29 days old: everything kept"),
    (9, "a", 9, "2026-06-15T00:00", False, True, "the head"),
    # path b: deleted long ago; the head (tombstone) and its last live version stay
    (10, "b", 10, "2025-12-01T09:00", False, False, "week 49: older than the newest live"),
    (11, "b", 11, "2025-12-02T09:00", False, True, "the newest live of a deleted path"),
    (12, "b", 12, "2025-12-03T09:00", True, True, "the head (a tombstone)"),
    # path c: a checkpoint holds an old revision
    (13, "c", 13, "2025-11-03T09:00", False, True, "held by the checkpoint at seq 13"),
    (14, "c", 14, "2025-11-04T09:00", False, False, "week 45: not its newest"),
    (15, "c", 15, "2025-11-05T09:00", True, False, "week 45: not its newest"),
    (16, "c", 16, "2025-11-06T09:00", False, False, "held by no one (the week's newest is 17)"),
    (17, "c", 17, "2025-11-07T09:00", True, True, "week 45's newest; and the cp at 18 holds it"),
    (18, "c", 20, "2026-06-14T09:00", False, True, "the head"),
    # a move: "moved" at old (head) and "move" at new share seq 21; both stay
    (19, "old", 19, "2025-10-06T09:00", False, True, "the newest live of a deleted path"),
    (20, "old", 21, "2025-10-07T09:00", True, True, "the head (the move's tombstone)"),
    (21, "new", 21, "2025-10-07T09:00", False, True, "its move partner is kept"),
    (22, "new", 22, "2025-10-08T09:00", False, True, "week 41's newest"),
    (23, "new", 23, "2026-06-15T11:00", False, True, "the head"),
    # a move dropped with its partner: neither row is needed
    (24, "x", 24, "2025-09-01T09:00", False, False, "week 36: not its newest (28 is)"),
    (25, "x", 25, "2025-09-02T09:00", True, False, "the move's tombstone: superseded at x"),
    (26, "y", 25, "2025-09-02T09:00", False, False, "the move's file: superseded at y"),
    (27, "y", 26, "2025-09-03T09:00", False, True, "week 36's newest at y"),
    (28, "x", 27, "2025-09-04T09:00", False, True, "week 36's newest at x"),
    (29, "y", 28, "2026-06-15T11:00", False, True, "the head"),
    (30, "x", 29, "2026-06-15T11:00", True, True, "the head"),
]
POLICY_HEADS = {"a": 9, "b": 12, "c": 18, "old": 20, "new": 23, "x": 30, "y": 29}
POLICY_CHECKPOINTS = [13, 18]


def _policy_revs() -> list[Rev]:
    return [Rev(i, p, q, at(t), d) for i, p, q, t, d, _k, _w in POLICY_TABLE]


def test_policy_table() -> None:
    kept = revisions_to_keep(_policy_revs(), POLICY_HEADS, POLICY_CHECKPOINTS, NOW, 30)
    wrong = [(i, p, t, why) for i, p, _q, t, _d, keep, why in POLICY_TABLE if (i in kept) != keep]
    assert wrong == []


def test_policy_keep_days_zero_keeps_everything() -> None:
    revs = _policy_revs()
    assert revisions_to_keep(revs, POLICY_HEADS, [], NOW, 0) == {r.id for r in revs}


@pytest.mark.parametrize(
    ("age_days", "keep_days", "kept"),
    [
        (0, 30, True),
        (29.9, 30, True),
        (30.1, 30, False),  # daily band, an older one of its day
        (60, 30, False),
        (125, 30, False),  # weekly band
        (5, 7, True),
        (7.5, 7, False),
        (1000, 1, False),
    ],
)
def test_policy_by_age(age_days: float, keep_days: int, kept: bool) -> None:
    """A revision with a newer one a minute later (same day, same week) and a head."""
    when = NOW - dt.timedelta(days=age_days)
    revs = [
        Rev(1, "p", 1, when, False),
        Rev(2, "p", 2, when + dt.timedelta(minutes=1), False),
        Rev(3, "p", 3, NOW, False),
    ]
    keep = revisions_to_keep(revs, {"p": 3}, [], NOW, keep_days)
    assert (1 in keep) is kept
    assert {2, 3} <= keep  # the newest of its bucket, the head
