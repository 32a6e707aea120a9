from __future__ import annotations

from types import SimpleNamespace

from streams.acks import OrderedAcks


def event(topic: str, partition: int, offset: int) -> SimpleNamespace:
    return SimpleNamespace(message=SimpleNamespace(topic=topic, partition=partition, offset=offset))


def test_acks_follow_offset_order_per_topic_partition() -> None:
    acks = OrderedAcks()
    a0, a1, a2 = (acks.delivered(event("orders", 0, o)) for o in range(3))
    b0 = acks.delivered(event("clicks", 0, 0))
    a2.finished = True  # a bad message, finished at once
    b0.finished = True
    assert [e.message.offset for e in acks.ready()] == [0]  # only the click: orders 0 and 1 still wait
    a0.finished = True
    assert [(e.message.topic, e.message.offset) for e in acks.ready()] == [("orders", 0)]
    a1.finished = True
    assert [e.message.offset for e in acks.ready()] == [1, 2]
    assert acks.waiting == 0


def test_revoked_partitions_are_forgotten() -> None:
    acks = OrderedAcks()
    acks.delivered(event("orders", 0, 0))
    acks.delivered(event("orders", 1, 0))
    acks.forget({0})
    assert list(acks.pending) == [("orders", 1)]
