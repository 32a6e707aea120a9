"""Reads whole topics back (the reorder commands, the dead letters) for the demo, the CLI and the tests.

The embedded broker reports wrong high watermarks, so "the end" is where nothing new arrived for
``quiet_s`` seconds, not a watermark.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from streams.errors import BrokerError


def read_topic(
    bootstrap_servers: str, topic: str, quiet_s: float = 2.0, timeout_s: float = 60.0
) -> list[tuple[bytes | None, bytes]]:
    """Every (key, value) in ``topic``, partition by partition in offset order (a tombstone reads as ``b""``)."""
    records: dict[int, list[tuple[int, bytes | None, bytes]]] = {}
    for partition, offset, key, value in iter_topic(bootstrap_servers, topic, quiet_s, timeout_s):
        records.setdefault(partition, []).append((offset, key, value or b""))
    return [(key, value) for p in sorted(records) for _, key, value in sorted(records[p], key=lambda r: r[0])]


def iter_topic(
    bootstrap_servers: str, topic: str, quiet_s: float = 2.0, timeout_s: float = 60.0
) -> Iterator[tuple[int, int, bytes | None, bytes | None]]:
    """(partition, offset, key, value) of every record in ``topic`` as it arrives: in offset order within a
    partition, partitions interleaved; ``value`` is None for a tombstone (a deleted key)."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap_servers,
            "group.id": f"restock-reader-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "log.connection.close": False,
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=10)
        info = metadata.topics.get(topic)
        if info is None or info.error is not None:
            raise BrokerError(f"topic {topic!r} does not exist at {bootstrap_servers}; run `restock topics create`")
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in sorted(info.partitions)])
        deadline = time.monotonic() + timeout_s
        last_new = time.monotonic()
        while time.monotonic() - last_new < quiet_s and time.monotonic() < deadline:
            batch = consumer.consume(num_messages=10_000, timeout=0.2)
            for message in batch:
                partition, offset = message.partition(), message.offset()
                if message.error() is not None or partition is None or offset is None:
                    continue
                yield partition, offset, message.key(), message.value()
            if batch:
                last_new = time.monotonic()
    finally:
        consumer.close()
