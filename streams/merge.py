"""Deterministic merge of one partition's three input topics into a single event-time ordered sequence.

State for a key depends on the order in which its orders, inventory and clicks are applied, and Kafka gives
no order across topics. The merge takes, among the heads of the three per-topic queues, the event with the
smallest (event time, topic rank), and only while every queue has a head, so the merged sequence is a
function of the topics' contents, not of how fetches or batches happened to interleave. A queue that stays
empty for ``idle_s`` of wall-clock time *while the consumer has nothing more buffered* (a quiet topic, or the
end of a replay) stops holding the others back, as Kafka Streams' ``max.task.idle.ms`` does. Time spent
processing a backlog never counts as idleness: the caller says whether its last batch came back full. That is
the one place wall-clock time can change the order, and only for events that arrive more than ``idle_s``
after their peers although the consumer had already caught up.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from streams.processor import InputEvent
from streams.state_codec import Topic


class PartitionMerger:
    def __init__(self, idle_s: float, clock: Callable[[], float] = time.monotonic):
        self.idle_s = idle_s
        self.clock = clock
        started = clock()
        self.queues: tuple[deque[InputEvent], ...] = tuple(deque() for _ in Topic)
        self.last_arrival = [started] * len(Topic)
        self.idle_skips = [0] * len(Topic)

    def restart_idle_clocks(self) -> None:
        """Empty queues count as quiet only from now on (the caller just paused the others)."""
        now = self.clock()
        for topic, queue in enumerate(self.queues):
            if not queue:
                self.last_arrival[topic] = now

    def add(self, item: InputEvent) -> None:
        self.queues[item.topic].append(item)
        self.last_arrival[item.topic] = self.clock()

    @property
    def buffered(self) -> int:
        return sum(len(q) for q in self.queues)

    def drain(self, caught_up: bool) -> list[InputEvent]:
        """Pop events in merged order while no non-idle queue is empty.

        ``caught_up``: the consumer returned less than a full batch, so an empty queue is not merely waiting
        behind a backlog of other topics.
        """
        now = self.clock()
        queues = self.queues
        waiting = [not q and (not caught_up or now - self.last_arrival[i] < self.idle_s) for i, q in enumerate(queues)]
        out: list[InputEvent] = []
        while True:
            best: InputEvent | None = None
            skipped = -1
            for i, q in enumerate(queues):
                if not q:
                    if waiting[i]:
                        return out
                    skipped = i
                    continue
                head = q[0]
                if best is None or (head.time_ms, head.topic) < (best.time_ms, best.topic):
                    best = head
            if best is None:
                return out
            if skipped >= 0:
                self.idle_skips[skipped] += 1
            out.append(queues[best.topic].popleft())
            if not queues[best.topic]:
                waiting[best.topic] = not caught_up or now - self.last_arrival[best.topic] < self.idle_s
