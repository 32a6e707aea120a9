"""Keeps each input topic-partition a contiguous run of offsets, whatever the consumer does.

Faust can deliver a message twice (it seeks back to the committed offset when a fetch races a rebalance or
recovery) and, in the same race, skip one; a skipped event is a lost sale or stock movement. So every
topic-partition expects the next offset: a repeat is dropped, and a gap makes the worker drop the early event
and seek back to the missing offset. Topics written by transactional producers, or compacted, have real holes
(control records, removed keys): a gap still there ``hole_after_s`` after the re-fetch is accepted as a hole.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


class Verdict(Enum):
    TAKE = "take"
    REPEAT = "repeat"
    GAP = "gap"  # drop it and seek back to ``expected``


@dataclass
class _Cursor:
    expected: int | None = None
    refetch_since: float | None = None


class DeliveryCursor:
    """Per topic-partition expected offsets."""

    def __init__(self, hole_after_s: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.hole_after_s = hole_after_s
        self.clock = clock
        self.cursors: dict[tuple[str, int], _Cursor] = {}

    def classify(self, topic: str, partition: int, offset: int) -> Verdict:
        cursor = self.cursors.setdefault((topic, partition), _Cursor())
        if cursor.expected is None or offset == cursor.expected:
            cursor.expected, cursor.refetch_since = offset + 1, None
            return Verdict.TAKE
        if offset < cursor.expected:
            return Verdict.REPEAT
        now = self.clock()
        if cursor.refetch_since is not None and now - cursor.refetch_since >= self.hole_after_s:
            cursor.expected, cursor.refetch_since = offset + 1, None
            return Verdict.TAKE
        if cursor.refetch_since is None:
            cursor.refetch_since = now
        return Verdict.GAP

    def expected(self, topic: str, partition: int) -> int | None:
        cursor = self.cursors.get((topic, partition))
        return cursor.expected if cursor else None

    def forget(self, partitions: set[int]) -> None:
        for key in [k for k in self.cursors if k[1] in partitions]:
            del self.cursors[key]
