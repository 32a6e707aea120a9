from __future__ import annotations

from streams.delivery import DeliveryGuard, Verdict


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_repeats_are_dropped_and_a_hole_is_refetched() -> None:
    guard = DeliveryGuard(hole_after_s=10, clock=Clock())
    assert [guard.classify("t", 0, o) for o in (5, 6, 6)] == [Verdict.TAKE, Verdict.TAKE, Verdict.REPEAT]
    assert guard.classify("t", 0, 9) is Verdict.REFETCH and guard.expected("t", 0) == 7
    assert guard.classify("t", 0, 10) is Verdict.WAIT
    assert [guard.classify("t", 0, o) for o in (7, 8, 9)] == [Verdict.TAKE] * 3
    assert guard.classify("t", 1, 100) is Verdict.TAKE, "partitions are independent"


def test_a_hole_that_stays_is_accepted_after_the_wait() -> None:
    clock = Clock()
    guard = DeliveryGuard(hole_after_s=10, clock=clock)
    guard.classify("t", 0, 1)
    assert guard.classify("t", 0, 3) is Verdict.REFETCH
    clock.now = 11
    assert guard.classify("t", 0, 3) is Verdict.HOLE and guard.classify("t", 0, 4) is Verdict.TAKE


def test_forgotten_partitions_start_afresh() -> None:
    guard = DeliveryGuard()
    guard.classify("t", 2, 50)
    guard.forget({2})
    assert guard.classify("t", 2, 10) is Verdict.TAKE
