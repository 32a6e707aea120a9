from __future__ import annotations

from streams.delivery import DeliveryCursor, Verdict


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_repeats_are_dropped_and_gaps_refetched() -> None:
    cursor = DeliveryCursor(hole_after_s=10.0, clock=Clock())
    assert [cursor.classify("t", 0, o) for o in (5, 6, 6, 5)] == [
        Verdict.TAKE,
        Verdict.TAKE,
        Verdict.REPEAT,
        Verdict.REPEAT,
    ]
    assert cursor.classify("t", 0, 8) is Verdict.GAP  # 7 is missing: re-fetch from it
    assert cursor.expected("t", 0) == 7
    assert [cursor.classify("t", 0, o) for o in (7, 8)] == [Verdict.TAKE, Verdict.TAKE]
    assert cursor.classify("t", 1, 0) is Verdict.TAKE  # partitions are independent


def test_a_gap_that_survives_the_refetch_is_a_real_hole() -> None:
    clock = Clock()
    cursor = DeliveryCursor(hole_after_s=10.0, clock=clock)
    cursor.classify("t", 0, 0)
    assert cursor.classify("t", 0, 3) is Verdict.GAP
    clock.now = 5.0
    assert cursor.classify("t", 0, 3) is Verdict.GAP
    clock.now = 11.0
    assert cursor.classify("t", 0, 3) is Verdict.TAKE  # a transaction marker or a compacted record
    assert cursor.expected("t", 0) == 4
