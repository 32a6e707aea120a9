"""Acknowledges events to Faust strictly in offset order per topic-partition.

The merge processes events in event-time order across three topics, and bad messages are finished the moment
they are decoded, so events finish out of offset order. Faust commits the first run of consecutive acked
offsets, even when it does not start at the committed position (at start-up, for instance), so an early ack
could commit past events still waiting in the merge and lose them on a rebalance or crash. Here an event is
acked only once every earlier delivery of its topic-partition has finished.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class Delivery:
    """One delivered event and whether the worker has finished with it."""

    event: Any
    finished: bool = False

    @property
    def message(self) -> Any:
        return self.event.message


class OrderedAcks:
    def __init__(self) -> None:
        self.pending: dict[tuple[str, int], deque[Delivery]] = {}

    def delivered(self, event: Any) -> Delivery:
        """Register an event in arrival order (offset order within its topic-partition)."""
        delivery = Delivery(event)
        self.pending.setdefault((event.message.topic, event.message.partition), deque()).append(delivery)
        return delivery

    def ready(self) -> list[Any]:
        """Events that may be acked now: each topic-partition's finished prefix, in order."""
        out: list[Any] = []
        for queue in self.pending.values():
            while queue and queue[0].finished:
                out.append(queue.popleft().event)
        return out

    def forget(self, partitions: set[int]) -> None:
        """Drop revoked partitions: Faust redelivers their unacknowledged events to the new owner."""
        for key in [k for k in self.pending if k[1] in partitions]:
            del self.pending[key]

    @property
    def waiting(self) -> int:
        return sum(len(q) for q in self.pending.values())
