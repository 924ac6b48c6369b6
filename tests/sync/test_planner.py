"""The planner's table, row by row, plus moves, ignores and the delete guard."""

from __future__ import annotations

import pytest

from project_filebrowser.sync.planner import (
    GUARD_ALL_VANISHED,
    GUARD_ROOT_MISSING,
    GUARD_SHARE,
    MIN_GUARDED_DELETES,
    DeleteLocal,
    DeleteRemote,
    Download,
    ForgetBase,
    MoveRemote,
    RecordBase,
    ResolveConflict,
    Upload,
    plan,
)
from project_filebrowser.sync.steps import pending_states
from project_filebrowser.sync.trees import BaseEntry, LocalFile, RemoteFile, folder_marker

P = "notebooks/a.ipynb"


def local(content: str, path: str = P) -> LocalFile:
    return LocalFile(path, sha256=f"sha-{content}", size=len(content), mtime_ns=1, inode=1)


def remote(content: str, revision: str, path: str = P) -> RemoteFile:
    return RemoteFile(path, revision=revision, sha256=f"sha-{content}", size=len(content))


def base(content: str, revision: str, path: str = P) -> BaseEntry:
    return BaseEntry(path, sha256=f"sha-{content}", revision=revision, size=len(content))


OTHER = "other.txt"  # an unchanged file beside P: a row's delete never empties the project


def one(loc: LocalFile | None, rem: RemoteFile | None, bas: BaseEntry | None) -> object:
    result = plan(
        {OTHER: local("o", OTHER), **({P: loc} if loc else {})},
        {OTHER: remote("o", "r0", OTHER), **({P: rem} if rem else {})},
        {OTHER: base("o", "r0", OTHER), **({P: bas} if bas else {})},
    )
    assert result.guard is None
    assert len(result.operations) <= 1
    return result.operations[0] if result.operations else None


def test_same_same_nothing() -> None:
    assert one(local("v1"), remote("v1", "r1"), base("v1", "r1")) is None


def test_changed_same_push_with_if_match() -> None:
    assert one(local("v2"), remote("v1", "r1"), base("v1", "r1")) == Upload(
        P, local("v2"), if_match="r1"
    )


def test_deleted_same_delete_remote_with_if_match() -> None:
    assert one(None, remote("v1", "r1"), base("v1", "r1")) == DeleteRemote(P, if_match="r1")


def test_same_changed_pull_guarded_by_base() -> None:
    assert one(local("v1"), remote("v2", "r2"), base("v1", "r1")) == Download(
        P, remote("v2", "r2"), expect_sha256="sha-v1"
    )


def test_same_deleted_delete_local_guarded_by_base() -> None:
    assert one(local("v1"), None, base("v1", "r1")) == DeleteLocal(P, expect_sha256="sha-v1")


def test_changed_changed_equal_content_records_base() -> None:
    assert one(local("v2"), remote("v2", "r2"), base("v1", "r1")) == RecordBase(
        P, local("v2"), remote("v2", "r2")
    )


def test_changed_changed_different_is_a_conflict_that_knows_its_base() -> None:
    """The base revision travels with the conflict: what a three-way merge starts from."""
    assert one(local("mine"), remote("theirs", "r2"), base("v1", "r1")) == ResolveConflict(
        P, local("mine"), remote("theirs", "r2"), base_revision="r1"
    )


def test_deleted_changed_the_edit_wins_restore_locally() -> None:
    assert one(None, remote("v2", "r2"), base("v1", "r1")) == Download(
        P, remote("v2", "r2"), expect_sha256=None
    )


def test_changed_deleted_the_edit_wins_push_back() -> None:
    assert one(local("v2"), None, base("v1", "r1")) == Upload(P, local("v2"), if_match=None)


def test_deleted_deleted_forgets_base() -> None:
    assert one(None, None, base("v1", "r1")) == ForgetBase(P)


def test_new_revision_with_same_bytes_only_records() -> None:
    assert one(local("v1"), remote("v1", "r2"), base("v1", "r1")) == RecordBase(
        P, local("v1"), remote("v1", "r2")
    )


@pytest.mark.parametrize(
    ("loc", "rem", "expected"),
    [
        (local("new"), None, Upload(P, local("new"), if_match=None)),
        (None, remote("new", "r1"), Download(P, remote("new", "r1"), expect_sha256=None)),
        (local("same"), remote("same", "r1"), RecordBase(P, local("same"), remote("same", "r1"))),
        (local("a"), remote("b", "r1"), ResolveConflict(P, local("a"), remote("b", "r1"))),
    ],
)
def test_paths_without_base(
    loc: LocalFile | None, rem: RemoteFile | None, expected: object
) -> None:
    assert one(loc, rem, None) == expected


def test_local_move_becomes_a_cloud_move() -> None:
    old, new = "old/name.txt", "new/name.txt"
    result = plan(
        {new: local("x", new)}, {old: remote("x", "r1", old)}, {old: base("x", "r1", old)}
    )
    assert result.operations == [MoveRemote(old, new, local("x", new), if_match="r1")]


def test_two_moves_of_equal_content_pair_one_to_one() -> None:
    olds, news = ["a1", "a2"], ["b1", "b2"]
    result = plan(
        {n: local("x", n) for n in news},
        {o: remote("x", f"r-{o}", o) for o in olds},
        {o: base("x", f"r-{o}", o) for o in olds},
    )
    moves = [op for op in result.operations if isinstance(op, MoveRemote)]
    assert len(moves) == 2 == len(result.operations)
    assert {m.from_path for m in moves} == set(olds) and {m.path for m in moves} == set(news)


def test_delete_and_unrelated_create_stay_separate() -> None:
    result = plan(
        {"b": local("y", "b")}, {"a": remote("x", "r1", "a")}, {"a": base("x", "r1", "a")}
    )
    assert result.operations == [DeleteRemote("a", "r1"), Upload("b", local("y", "b"), None)]


def test_ignored_paths_get_no_operation() -> None:
    result = plan(
        {"keep.py": local("k", "keep.py"), "__pycache__/x.pyc": local("c", "__pycache__/x.pyc")},
        {"cache/remote.tmp": remote("t", "r1", "cache/remote.tmp")},
        {},
        is_ignored=lambda p: p.startswith(("__pycache__/", "cache/")),
    )
    assert result.operations == [Upload("keep.py", local("k", "keep.py"), None)]
    assert result.ignored == ["__pycache__/x.pyc", "cache/remote.tmp"]


def _many(n: int) -> tuple[dict[str, LocalFile], dict[str, RemoteFile], dict[str, BaseEntry]]:
    paths = [f"f{i:03}" for i in range(n)]
    return (
        {p: local("v", p) for p in paths},
        {p: remote("v", "r", p) for p in paths},
        {p: base("v", "r", p) for p in paths},
    )


def test_mass_remote_delete_is_guarded() -> None:
    loc, _rem, bas = _many(40)
    result = plan(loc, {}, bas, max_delete_fraction=0.5)
    assert result.guard is not None
    assert (result.guard.side, result.guard.deletes, result.guard.total) == ("local", 40, 40)
    assert "delete 40 of 40 files on this machine" in result.guard.message


def test_mass_local_delete_is_guarded() -> None:
    _, rem, bas = _many(40)
    result = plan({}, rem, bas, max_delete_fraction=0.5)
    assert result.guard is not None and result.guard.side == "remote"


def test_deletes_below_the_share_are_not_guarded() -> None:
    loc, rem, bas = _many(40)
    for path in list(loc)[:15]:
        del loc[path]
    assert plan(loc, rem, bas, max_delete_fraction=0.5).guard is None


def test_few_deletes_are_never_guarded_by_the_share() -> None:
    loc, rem, bas = _many(MIN_GUARDED_DELETES)
    for path in list(loc)[1:]:  # all but one file deleted here: under the floor
        del loc[path]
    assert plan(loc, rem, bas, max_delete_fraction=0.0).guard is None


def test_a_small_project_is_guarded_from_a_small_floor() -> None:
    loc, rem, bas = _many(5)
    for path in list(loc)[:MIN_GUARDED_DELETES]:
        del loc[path]
    guard = plan(loc, rem, bas, max_delete_fraction=0.5).guard
    assert guard is not None and (guard.side, guard.deletes, guard.total) == ("remote", 3, 5)
    assert guard.reason == GUARD_SHARE and guard.confirmable


@pytest.mark.parametrize("count", [1, 2, 7])
def test_every_file_vanished_is_guarded_whatever_the_count(count: int) -> None:
    _loc, rem, bas = _many(count)
    result = plan({}, rem, bas, max_delete_fraction=1.0)  # even with the share rule off
    guard = result.guard
    assert guard is not None and guard.reason == GUARD_ALL_VANISHED and guard.confirmable
    assert (guard.side, guard.deletes) == ("remote", count)
    assert "Every file of this project is gone" in guard.message
    assert "paused until you confirm" in guard.message
    assert all(isinstance(op, DeleteRemote) for op in result.operations)  # for the review


def test_an_empty_folder_left_behind_does_not_hide_that_every_file_vanished() -> None:
    _loc, rem, bas = _many(3)
    marker = folder_marker("kept")
    guard = plan({marker.path: marker}, rem, bas).guard
    assert guard is not None and guard.reason == GUARD_ALL_VANISHED


def test_a_missing_root_plans_nothing_and_cannot_be_confirmed() -> None:
    _loc, rem, bas = _many(7)
    rem["new.txt"] = remote("n", "r9", "new.txt")  # not even a download (no folder to fill)
    result = plan({}, rem, bas, max_delete_fraction=1.0, root_present=False)
    assert result.operations == []
    guard = result.guard
    assert guard is not None and guard.reason == GUARD_ROOT_MISSING
    assert not guard.confirmable
    assert "folder is missing — restore it, or unlink the project" in guard.message


def test_a_missing_root_of_a_project_never_synced_is_just_pulled() -> None:
    rem = {"a.txt": remote("a", "r1", "a.txt")}
    result = plan({}, rem, {}, root_present=False)
    assert result.guard is None and [type(op) for op in result.operations] == [Download]


def test_plan_is_sorted_and_deterministic() -> None:
    loc = {p: local(p, p) for p in ["c", "a", "b"]}
    first = plan(loc, {}, {})
    assert [op.path for op in first.operations] == ["a", "b", "c"]
    assert plan(loc, {}, {}) == first


def test_an_upload_of_content_the_remote_tree_holds_is_sent_by_reference() -> None:
    a, copy, other, empty = "data/a.csv", "copy/a.csv", "b.csv", "e.txt"
    trees = (
        {
            a: local("rows", a),
            copy: local("rows", copy),
            other: local("new", other),
            empty: local("", empty),
            "z.txt": local("", "z.txt"),  # unchanged, empty: the remote tree holds sha("")
        },
        {a: remote("rows", "r1", a), "z.txt": remote("", "r2", "z.txt")},
        {a: base("rows", "r1", a), "z.txt": base("", "r2", "z.txt")},
    )
    assert plan(*trees).operations == [
        Upload(other, local("new", other), if_match=None),
        Upload(copy, local("rows", copy), if_match=None, stored=True),
        Upload(empty, local("", empty), if_match=None),  # nothing to save on an empty file
    ]


def test_a_count_limit_guards_below_the_floor() -> None:
    _loc, rem, bas = _many(6)
    result = plan({}, rem, bas, max_deletes=3)
    assert result.guard is not None and (result.guard.deletes, result.guard.max_deletes) == (6, 3)
    assert "(more than 3 files)" in result.guard.message
    assert "sync --confirm-deletes" in result.guard.message
    assert plan({}, rem, bas, max_deletes=6).guard is None


def test_confirmed_cloud_deletes_are_not_guarded_again() -> None:
    loc, _rem, bas = _many(40)
    confirmed = set(list(loc)[:30])
    assert plan(loc, {}, bas).guard is not None
    result = plan(loc, {}, bas, max_delete_fraction=0.2, confirmed_deletes=confirmed)
    assert result.guard is not None and result.guard.deletes == 10  # only the unconfirmed
    assert plan(loc, {}, bas, confirmed_deletes=confirmed).guard is None
    assert len(result.operations) == 40  # all deletes planned, confirmed or not


def test_restoring_local_deletes_downloads_them_again() -> None:
    loc, rem, bas = _many(40)
    for path in list(loc)[:30]:
        del loc[path]
    loc["edited"] = local("new", "edited")
    result = plan(loc, rem, bas, restore_local_deletes=True)
    assert result.guard is None
    downloads = [op for op in result.operations if isinstance(op, Download)]
    assert [op.path for op in downloads] == [f"f{i:03}" for i in range(30)]
    assert all(op.expect_sha256 is None for op in downloads)  # only while still absent
    assert [op.path for op in result.operations if isinstance(op, Upload)] == ["edited"]


@pytest.mark.parametrize(
    ("policy", "keep"),
    [("keep-both", "both"), ("newer", "newer"), ("local", "local"), ("remote", "remote")],
)
def test_the_conflict_policy_says_what_a_conflict_keeps(policy: str, keep: str) -> None:
    result = plan(
        {P: local("mine")},
        {P: remote("theirs", "r2")},
        {P: base("v1", "r1")},
        conflict_policy=policy,
    )
    assert result.operations == [
        ResolveConflict(P, local("mine"), remote("theirs", "r2"), keep=keep, base_revision="r1")
    ]


def test_every_step_shows_one_state_wherever_it_is_shown() -> None:
    """One table from a planned step to its path's state, for the file list, the websocket
    and the CLI alike: equal bytes on both sides are synced, a path gone from both is gone."""
    steps = [
        RecordBase(P, local("same"), remote("same", "r1")),
        ForgetBase("gone.txt"),
        Upload("up.txt", local("u", "up.txt"), None),
        Download("down.txt", remote("d", "r1", "down.txt"), None),
        DeleteRemote("deleted-here.txt", "r1"),
    ]
    assert pending_states(steps) == [
        (P, "synced", len("same")),
        ("gone.txt", "deleted", None),
        ("up.txt", "pending_push", 1),
        ("down.txt", "pending_pull", 1),
        ("deleted-here.txt", "deleted_locally", None),
    ]
