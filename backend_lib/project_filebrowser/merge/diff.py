"""A patience diff with the interface merge3 needs (what bzr/breezy give merge3 by default).

``difflib.SequenceMatcher`` is quadratic on sequences with many repeated items when its
"popular item" heuristic is off, and mis-aligns them when it is on. Patience diff instead:
trims the common head and tail, anchors on the items that occur exactly once in both
sequences (their longest common subsequence, by patience sorting), and repeats inside each
gap between anchors. A gap with no such item is diffed exhaustively by
``difflib.SequenceMatcher`` when small; when large, by Myers' O(ND) algorithm (fast when the
sides differ by few items: a repetitive file edited in a few places), and only past a budget
of differences by difflib with its heuristic.
"""

from __future__ import annotations

import bisect
import difflib
from collections import Counter
from collections.abc import Hashable, Sequence

Block = tuple[int, int, int]
EXHAUSTIVE = 1_000_000
"""Gaps up to this product of lengths are diffed by difflib without its junk heuristic."""
MYERS_WORK = 4_000_000
"""Larger gaps: Myers' diff up to this many (N + M) x D steps, at most ``MYERS_MAX_D``."""
MYERS_MAX_D = 500


def _myers(
    a: Sequence[Hashable], b: Sequence[Hashable], max_d: int
) -> list[tuple[int, int]] | None:
    """The matched (i, j) pairs of a shortest edit script, or None past ``max_d`` edits."""
    n, m = len(a), len(b)
    off = max_d + 1
    v = [0] * (2 * max_d + 3)
    trace: list[list[int]] = []  # trace[d][k + d + 1]: the furthest x on diagonal k after d
    for d in range(max_d + 1):
        for k in range(-d, d + 1, 2):
            if k == -d or (k != d and v[off + k - 1] < v[off + k + 1]):
                x = v[off + k + 1]
            else:
                x = v[off + k - 1] + 1
            y = x - k
            while x < n and y < m and a[x] == b[y]:
                x += 1
                y += 1
            v[off + k] = x
            if x >= n and y >= m:
                return _backtrack(trace, d, n, m)
        trace.append(v[off - d - 1 : off + d + 2])
    return None


def _backtrack(trace: list[list[int]], end: int, n: int, m: int) -> list[tuple[int, int]]:
    pairs: list[tuple[int, int]] = []
    x, y = n, m
    for d in range(end, 0, -1):
        prev = trace[d - 1]  # prev[k + d] is the furthest x on diagonal k after d - 1 edits
        k = x - y
        down = k == -d or (k != d and prev[k - 1 + d] < prev[k + 1 + d])  # an insertion
        prev_k = k + 1 if down else k - 1
        prev_x = prev[prev_k + d]
        prev_y = prev_x - prev_k
        while x > prev_x and y > prev_y:
            x -= 1
            y -= 1
            pairs.append((x, y))
        x, y = prev_x, prev_y
    while x > 0 and y > 0:
        x -= 1
        y -= 1
        pairs.append((x, y))
    return pairs


def _unique_lcs(
    a: Sequence[Hashable], alo: int, ahi: int, b: Sequence[Hashable], blo: int, bhi: int
) -> list[tuple[int, int]]:
    """The longest common subsequence of the items unique in both ranges, as (i, j) pairs."""
    count_a = Counter(a[alo:ahi])
    count_b = Counter(b[blo:bhi])
    where_b = {b[j]: j for j in range(blo, bhi) if count_b[b[j]] == 1}
    pairs = [(i, where_b[a[i]]) for i in range(alo, ahi) if count_a[a[i]] == 1 and a[i] in where_b]
    if not pairs:
        return []
    tops: list[int] = []  # the smallest j ending an increasing run of each length
    top_at: list[int] = []  # index into pairs of that j
    back: list[int] = [-1] * len(pairs)
    for k, (_, j) in enumerate(pairs):
        pile = bisect.bisect_left(tops, j)
        if pile == len(tops):
            tops.append(j)
            top_at.append(k)
        else:
            tops[pile] = j
            top_at[pile] = k
        back[k] = top_at[pile - 1] if pile else -1
    out: list[tuple[int, int]] = []
    k = top_at[-1]
    while k >= 0:
        out.append(pairs[k])
        k = back[k]
    out.reverse()
    return out


def matching_blocks(a: Sequence[Hashable], b: Sequence[Hashable]) -> list[Block]:
    """Like ``difflib.SequenceMatcher.get_matching_blocks``, ending with ``(len(a), len(b), 0)``."""
    pairs: list[tuple[int, int]] = []
    stack = [(0, len(a), 0, len(b))]
    while stack:
        alo, ahi, blo, bhi = stack.pop()
        while alo < ahi and blo < bhi and a[alo] == b[blo]:
            pairs.append((alo, blo))
            alo += 1
            blo += 1
        while alo < ahi and blo < bhi and a[ahi - 1] == b[bhi - 1]:
            ahi -= 1
            bhi -= 1
            pairs.append((ahi, bhi))
        if alo == ahi or blo == bhi:
            continue
        anchors = _unique_lcs(a, alo, ahi, b, blo, bhi)
        if anchors:
            i0, j0 = alo, blo
            for i, j in anchors:
                pairs.append((i, j))
                stack.append((i0, i, j0, j))
                i0, j0 = i + 1, j + 1
            stack.append((i0, ahi, j0, bhi))
            continue
        sub_a, sub_b = a[alo:ahi], b[blo:bhi]
        if len(sub_a) * len(sub_b) > EXHAUSTIVE:
            max_d = min(MYERS_MAX_D, MYERS_WORK // (len(sub_a) + len(sub_b)))
            found = _myers(sub_a, sub_b, max_d)
            if found is not None:
                pairs.extend((alo + i, blo + j) for i, j in found)
                continue
        exhaustive = len(sub_a) * len(sub_b) <= EXHAUSTIVE
        matcher = difflib.SequenceMatcher(None, sub_a, sub_b, autojunk=not exhaustive)
        for i, j, n in matcher.get_matching_blocks():
            pairs.extend((alo + i + k, blo + j + k) for k in range(n))
    pairs.sort()
    blocks: list[Block] = []
    for i, j in pairs:
        if blocks and blocks[-1][0] + blocks[-1][2] == i and blocks[-1][1] + blocks[-1][2] == j:
            blocks[-1] = (blocks[-1][0], blocks[-1][1], blocks[-1][2] + 1)
        else:
            blocks.append((i, j, 1))
    blocks.append((len(a), len(b), 0))
    return blocks


class PatienceMatcher:
    """The part of ``difflib.SequenceMatcher``'s interface that merge3 uses."""

    def __init__(
        self, isjunk: None = None, a: Sequence[Hashable] = (), b: Sequence[Hashable] = ()
    ) -> None:
        self.a = a
        self.b = b
        self._blocks: list[Block] | None = None

    def get_matching_blocks(self) -> list[Block]:
        if self._blocks is None:
            self._blocks = matching_blocks(self.a, self.b)
        return self._blocks
