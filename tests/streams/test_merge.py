from __future__ import annotations

import random

from streams.merge import PartitionMerger
from streams.processor import InputEvent
from streams.state_codec import Topic


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def event(topic: Topic, offset: int, t: int) -> InputEvent:
    return InputEvent(topic, offset, b"k|l", t, None)  # type: ignore[arg-type]


def sequences(seed: int) -> dict[Topic, list[InputEvent]]:
    rng = random.Random(seed)
    return {topic: [event(topic, i, rng.randrange(0, 1000)) for i in range(50)] for topic in Topic}


def merged(seqs: dict[Topic, list[InputEvent]], seed: int) -> list[tuple[int, int]]:
    """Feed the queues in a random interleaving, draining as the worker does; return (topic, offset) order."""
    rng = random.Random(seed)
    merger = PartitionMerger(idle_s=5.0, clock=Clock())
    pending = {topic: list(items) for topic, items in seqs.items()}
    out: list[tuple[int, int]] = []
    while any(pending.values()):
        topic = rng.choice([t for t, items in pending.items() if items])
        for _ in range(rng.randint(1, 7)):
            if pending[topic]:
                merger.add(pending[topic].pop(0))
        out += [(e.topic, e.offset) for e in merger.drain(caught_up=False)]
    merger.clock.now = 100.0  # type: ignore[attr-defined]
    out += [(e.topic, e.offset) for e in merger.drain(caught_up=True)]
    return out


def test_merged_order_does_not_depend_on_arrival_interleaving() -> None:
    seqs = sequences(1)
    first = merged(seqs, seed=10)
    assert len(first) == 150
    for seed in range(11, 20):
        assert merged(seqs, seed) == first


def test_an_empty_queue_holds_the_others_until_it_is_quiet_and_caught_up() -> None:
    clock = Clock()
    merger = PartitionMerger(idle_s=5.0, clock=clock)
    merger.add(event(Topic.ORDERS, 0, 10))
    merger.add(event(Topic.INVENTORY, 0, 20))
    assert merger.drain(caught_up=True) == []  # clicks may still come: the clock has not run
    clock.now = 6.0
    assert merger.drain(caught_up=False) == []  # a backlog is never idleness
    assert [e.time_ms for e in merger.drain(caught_up=True)] == [10, 20]
    assert merger.idle_skips[Topic.CLICKS] == 2
