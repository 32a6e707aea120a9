from __future__ import annotations

from streams.pacing import TopicPacing
from streams.state_codec import I64_MIN, Topic

DAY_MS = 86_400_000


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def pacing() -> tuple[TopicPacing, Clock]:
    clock = Clock()
    return TopicPacing(idle_after_s=10, max_lead_ms=DAY_MS, clock=clock), clock


def test_gate_is_the_slowest_topic_until_one_goes_quiet() -> None:
    p, clock = pacing()
    marks = [5 * DAY_MS, 7 * DAY_MS, I64_MIN]
    assert p.gate(marks, idle_close_after_s=300) is None  # clicks have not started and are not idle yet
    clock.now = 11
    p.delivered(Topic.ORDERS)
    p.delivered(Topic.INVENTORY)
    assert p.gate(marks, idle_close_after_s=300) == 5 * DAY_MS  # clicks idle: they no longer count


def test_a_quiet_partition_moves_on_with_wall_clock_time() -> None:
    p, clock = pacing()
    marks = [5 * DAY_MS, 5 * DAY_MS, 5 * DAY_MS]
    clock.now = 20
    assert p.gate(marks, idle_close_after_s=300) == 5 * DAY_MS
    clock.now = 400
    assert p.gate(marks, idle_close_after_s=300) == 5 * DAY_MS + 400_000


def test_a_topic_far_ahead_is_paused_and_resumed_when_the_others_catch_up() -> None:
    p, clock = pacing()
    pause, resume = p.plan([10 * DAY_MS, 10 * DAY_MS, 8 * DAY_MS])
    assert (pause, resume) == ({Topic.ORDERS, Topic.INVENTORY}, set())
    clock.now = 60  # paused topics are quiet on purpose: not idle
    p.delivered(Topic.CLICKS)
    assert not p.idle(Topic.ORDERS) and p.gate([10 * DAY_MS, 10 * DAY_MS, 8 * DAY_MS], 300) == 8 * DAY_MS
    assert p.plan([10 * DAY_MS, 10 * DAY_MS, 9 * DAY_MS + DAY_MS // 2]) == (set(), {Topic.ORDERS, Topic.INVENTORY})


def test_paused_topics_resume_when_the_slowest_goes_quiet() -> None:
    p, clock = pacing()
    p.plan([10 * DAY_MS, 3 * DAY_MS, 3 * DAY_MS])
    assert p.paused == {Topic.ORDERS}
    clock.now = 30  # inventory and clicks ended: idle; orders is all that is left
    assert p.plan([10 * DAY_MS, 3 * DAY_MS, 3 * DAY_MS]) == (set(), {Topic.ORDERS})
