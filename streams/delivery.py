"""Keeps what the worker takes from each input topic-partition a contiguous run of offsets.

Faust can hand the stream a message twice (its read-offset check lets the last offset through again) and,
around start-up and rebalances, skip one (faust-streaming issues #216 and #221; seen here after a kill -9
restart). A repeat is harmless: it is dropped here, and the processor would skip it by offset anyway. A skip
is a lost sale or stock movement, so the first message past a hole is not taken: the worker seeks the
partition back to the missing offset and drops what arrives until it comes. Faust's fetch loop drops messages
below the last offset it passed on, and the messages fetched before the seek still pass through it, so the
seek is repeated every ``reseek_s`` until the missing offset arrives. Topics written by transactional
producers, or compacted, have real holes (control records, removed keys): a hole still there
``hole_after_s`` after the re-fetch is accepted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


class Verdict(Enum):
    TAKE = "take"
    REPEAT = "repeat"  # delivered before in this assignment: drop it (and acknowledge it)
    REFETCH = "refetch"  # past a hole: drop it unacknowledged and seek back to ``expected``
    WAIT = "wait"  # past a hole being re-fetched: drop it unacknowledged
    HOLE = "hole"  # the re-fetch did not fill the hole in time: take it, the missing offsets are given up


@dataclass
class _Cursor:
    expected: int | None = None
    refetch_since: float | None = None
    last_seek: float = 0.0


class DeliveryGuard:
    def __init__(
        self, hole_after_s: float = 10.0, reseek_s: float = 0.5, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.hole_after_s = hole_after_s
        self.reseek_s = reseek_s
        self.clock = clock
        self.cursors: dict[tuple[str, int], _Cursor] = {}

    def classify(self, topic: str, partition: int, offset: int) -> Verdict:
        cursor = self.cursors.get((topic, partition))
        if cursor is None:
            cursor = self.cursors[(topic, partition)] = _Cursor()
        if cursor.expected is None or offset == cursor.expected:
            cursor.expected, cursor.refetch_since = offset + 1, None
            return Verdict.TAKE
        if offset < cursor.expected:
            return Verdict.REPEAT
        now = self.clock()
        if cursor.refetch_since is None:
            cursor.refetch_since = cursor.last_seek = now
            return Verdict.REFETCH
        if now - cursor.refetch_since >= self.hole_after_s:
            cursor.expected, cursor.refetch_since = offset + 1, None
            return Verdict.HOLE
        return Verdict.WAIT

    def seeks_due(self) -> list[tuple[str, int, int]]:
        """(topic, partition, offset) of re-fetches to seek again now (none arrived since the last seek)."""
        now = self.clock()
        due = []
        for (topic, partition), cursor in self.cursors.items():
            if (
                cursor.refetch_since is not None
                and cursor.expected is not None
                and now - cursor.last_seek >= self.reseek_s
            ):
                cursor.last_seek = now
                due.append((topic, partition, cursor.expected))
        return due

    def expected(self, topic: str, partition: int) -> int | None:
        cursor = self.cursors.get((topic, partition))
        return cursor.expected if cursor else None

    def forget(self, partitions: set[int]) -> None:
        """Revoked partitions start afresh when they come back (from the committed offsets)."""
        for key in [k for k in self.cursors if k[1] in partitions]:
            del self.cursors[key]
