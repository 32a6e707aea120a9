"""The broker adapter: confluent-kafka consumers and producer as the engine configures them.

Everything that talks to Kafka for the batch engine goes through here. Ends of partitions are found with
librdkafka's partition-EOF events, which come from fetch responses; the embedded broker's ListOffsets answer
(``get_watermark_offsets`` without ``cached``) is wrong for multi-record batches and is never used.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition

from streams.errors import BrokerError
from streams.partitioning import MURMUR2_PRODUCER_CONFIG
from streams.settings import Settings

MAX_REQUEST_BYTES = 8 * 1024 * 1024


def group_consumer(
    settings: Settings, bootstrap_servers: str, on_assign: Any, on_revoke: Any, on_lost: Any
) -> Consumer:
    """The worker's member of the app's consumer group over the three input topics.

    The range assignor gives one member partition ``p`` of every input topic together (the topics have the same
    partition count), which is the co-partitioning a key's state needs. Offsets are committed by the engine,
    only after the state they produced is in the changelog.
    """
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap_servers,
            "group.id": settings.app_id,
            "client.id": f"{settings.app_id}-worker",
            "partition.assignment.strategy": "range",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "enable.partition.eof": True,
            "session.timeout.ms": int(settings.session_timeout_s * 1000),
            "heartbeat.interval.ms": int(settings.heartbeat_interval_s * 1000),
            "max.poll.interval.ms": int(settings.max_poll_interval_s * 1000),
            "fetch.max.bytes": 64 * 1024 * 1024,
            "max.partition.fetch.bytes": max(1024 * 1024, 2 * settings.max_message_bytes),
            "log.connection.close": False,
        }
    )
    consumer.subscribe(list(settings.input_topics), on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost)
    return consumer


def worker_producer(settings: Settings, bootstrap_servers: str) -> Producer:
    """One idempotent producer for commands, dead letters, cuts and the changelog: ordered per partition,
    written once per send, keys placed like Java clients (murmur2)."""
    return Producer(
        {
            **MURMUR2_PRODUCER_CONFIG,
            "bootstrap.servers": bootstrap_servers,
            "client.id": f"{settings.app_id}-producer",
            "enable.idempotence": True,
            "linger.ms": 2,
            "batch.size": 1_000_000,
            "compression.type": "lz4",
            "message.max.bytes": MAX_REQUEST_BYTES,
            "queue.buffering.max.messages": 1_000_000,
            "log.connection.close": False,
        }
    )


@dataclass
class Deliveries:
    """Delivery reports of one flush: the first error, and the offsets of the records that asked for theirs."""

    errors: list[KafkaError] = field(default_factory=list)
    offsets: dict[Any, int] = field(default_factory=dict)

    def report(self, err: KafkaError | None, message: Message) -> None:
        if err is not None:
            self.errors.append(err)

    def offset_of(self, tag: Any) -> Any:
        def report(err: KafkaError | None, message: Message) -> None:
            if err is not None:
                self.errors.append(err)
            else:
                self.offsets[tag] = int(message.offset() or 0)

        return report

    def flush(self, producer: Producer, what: str, timeout_s: float = 300.0) -> None:
        """Wait for every queued record; anything undelivered is a BrokerError (the worker exits and a restart
        re-does the work from its last committed state, re-sending the same bytes)."""
        left = producer.flush(timeout_s)
        if left:
            raise BrokerError(f"{left} {what} records were still undelivered after {timeout_s:g} s; is the broker up?")
        if self.errors:
            first = self.errors[0]
            self.errors.clear()
            raise BrokerError(f"{what} records were not delivered: {first.str()}")


def produce(producer: Producer, topic: str, value: bytes, key: bytes | None, partition: int, on_delivery: Any) -> None:
    """Queue one record, waiting for room while the queue is full."""
    while True:
        try:
            producer.produce(topic, value, key, partition=partition, on_delivery=on_delivery)
            return
        except BufferError:
            producer.poll(0.05)


def read_partitions(
    bootstrap_servers: str, starts: list[TopicPartition], timeout_s: float = 600.0
) -> Iterator[Message]:
    """Every record of the given partitions from their start offsets to their ends at the time of reading, in
    offset order per partition (partitions interleaved). One consumer reads them all: starting a consumer
    costs about as much as reading a partition of state."""
    if not starts:
        return
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap_servers,
            "group.id": f"restock-restore-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "fetch.max.bytes": 64 * 1024 * 1024,
            "log.connection.close": False,
        }
    )
    try:
        consumer.assign(starts)
        open_ = {(tp.topic, tp.partition) for tp in starts}
        deadline = time.monotonic() + timeout_s
        while open_:
            if time.monotonic() > deadline:
                raise BrokerError(f"reading {sorted(open_)} did not reach their ends in {timeout_s:g} s")
            for message in consumer.consume(num_messages=10_000, timeout=0.5):
                error = message.error()
                if error is None:
                    yield message
                elif error.code() == KafkaError._PARTITION_EOF:
                    open_.discard((message.topic() or "", int(message.partition() or 0)))
                elif not error.retriable():
                    raise BrokerError(f"reading {message.topic()}[{message.partition()}] failed: {error.str()}")
    finally:
        consumer.close()
