"""Which input topics of a partition hold back its decisions, and which run so far ahead they should wait.

A decision waits until every input topic of the partition has passed its boundary plus grace (see
``streams.processor``). A topic that delivers nothing for ``idle_after_s`` while it is not paused and has
nothing left to read (a quiet producer, or the end of a replay) stops holding the others back, as Kafka
Streams' ``max.task.idle.ms`` does; that is the one place where time can change a decision. The batch engine
passes a clock that runs only while it waits on the broker, and names the topics with unread records in
``unfinished``, so neither a backlog nor a slow decision pass makes a topic idle, and records the cut of every
decision the rule released (``streams.engine.cuts``) so that it is taken at the same offsets again.

Pacing bounds memory, not correctness. In a replay the three topics advance through event time at different
speeds (clicks are most of the bytes), and inventory events wait in state until the decision that needs them,
so a topic more than ``max_lead_ms`` ahead of the slowest one is paused until the others catch up.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from streams.state_codec import I64_MIN, N_TOPICS


class TopicPacing:
    def __init__(self, idle_after_s: float, max_lead_ms: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.idle_after_s = idle_after_s
        self.max_lead_ms = max_lead_ms
        self.clock = clock
        started = clock()
        self.last_delivery = [started] * N_TOPICS
        self.paused: set[int] = set()
        self.unfinished: set[int] = set()  # topics with records not yet applied: never idle

    def delivered(self, topic: int) -> None:
        self.last_delivery[topic] = self.clock()

    def quiet_s(self, topic: int) -> float:
        return self.clock() - self.last_delivery[topic]

    def idle(self, topic: int) -> bool:
        """Quiet for ``idle_after_s`` with nothing left to read; a paused topic is never idle (it is quiet
        because it was told to be)."""
        return topic not in self.paused and topic not in self.unfinished and self.quiet_s(topic) >= self.idle_after_s

    def gate(self, watermarks: Sequence[int], idle_close_after_s: float) -> int | None:
        """The event time all topics that count have reached, or None while one of them has not started.

        When every topic is idle, event time is taken to pass like wall-clock time once the whole partition has
        been quiet for ``idle_close_after_s``, so a quiet partition still reaches its daily decision.
        """
        active = [int(watermarks[t]) for t in range(N_TOPICS) if not self.idle(t)]
        if active:
            slowest = min(active)
            return None if slowest == I64_MIN else slowest
        known = [int(w) for w in watermarks if w != I64_MIN]
        if not known:
            return None
        quiet_s = min(self.quiet_s(t) for t in range(N_TOPICS))
        extra_ms = int(quiet_s * 1000) if quiet_s >= idle_close_after_s else 0
        return max(known) + extra_ms

    def holds_back(self, watermarks: Sequence[int], due_ms: int) -> bool:
        """Whether some topic's own event time is short of ``due_ms``: a decision due now was released by the
        idle rule, and its cut must be recorded."""
        return any(int(w) == I64_MIN or int(w) < due_ms for w in watermarks)

    def plan(self, watermarks: Sequence[int]) -> tuple[set[int], set[int]]:
        """Topics to pause (more than ``max_lead_ms`` ahead of the slowest that counts) and to resume (within
        half of it, or nothing left to wait for). Topics that have not started do not count: nothing is
        known about how far behind they are."""
        counted = [int(watermarks[t]) for t in range(N_TOPICS) if not self.idle(t) and watermarks[t] != I64_MIN]
        slowest = min(counted) if counted else None

        def lead(topic: int) -> int:
            known = slowest is not None and watermarks[topic] != I64_MIN
            return int(watermarks[topic]) - slowest if known and slowest is not None else 0

        pause = {t for t in range(N_TOPICS) if t not in self.paused and lead(t) > self.max_lead_ms}
        resume = {t for t in self.paused if lead(t) <= self.max_lead_ms // 2}
        self.paused = (self.paused | pause) - resume
        for topic in resume:
            self.last_delivery[topic] = self.clock()  # quiet only from now on
        return pause, resume
