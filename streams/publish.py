"""Publishes prepared messages to the input topics with confluent-kafka (the fast, C-backed client)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from confluent_kafka import KafkaError, Producer

from streams.errors import BrokerError
from streams.partitioning import MURMUR2_PRODUCER_CONFIG
from streams.sample_events import OutboundMessage
from streams.settings import Settings

MAX_REQUEST_BYTES = 16 * 1024 * 1024
"""Above Kafka's 1 MiB default, so an oversized event reaches the worker (which dead-letters it) instead of
failing here; a broker with a lower ``message.max.bytes`` refuses it, and ``publish`` reports that."""


@dataclass
class PublishReport:
    sent: int = 0
    failed: int = 0


def producer(bootstrap_servers: str) -> Producer:
    """An idempotent producer placing keys like Java clients (murmur2), so a retried send is written once and
    every key lands where other producers' events of that key do."""
    return Producer(
        {
            **MURMUR2_PRODUCER_CONFIG,
            "bootstrap.servers": bootstrap_servers,
            "enable.idempotence": True,
            "linger.ms": 5,
            "batch.size": 1_000_000,
            "compression.type": "lz4",
            "message.max.bytes": MAX_REQUEST_BYTES,
            "log.connection.close": False,
        }
    )


def publish(
    messages: Iterable[OutboundMessage],
    settings: Settings,
    bootstrap_servers: str,
    progress: Callable[[int], None] | None = None,
    flush_timeout_s: float = 60.0,
) -> PublishReport:
    """Send every message to its topic, keyed as given, and wait until all are acknowledged."""
    topics = {"orders": settings.topic_orders, "inventory": settings.topic_inventory, "clicks": settings.topic_clicks}
    report = PublishReport()
    errors: list[KafkaError] = []

    def delivered(err: KafkaError | None, _msg: object) -> None:
        if err is not None:
            report.failed += 1
            errors.append(err)

    out = producer(bootstrap_servers)
    for message in messages:
        while True:
            try:
                out.produce(
                    topics[message.topic_kind], message.value, message.key,
                    partition=-1 if message.partition is None else message.partition,  # -1: the partitioner's
                    timestamp=message.event_time_ms, on_delivery=delivered,
                )  # fmt: skip
                break
            except BufferError:
                out.poll(0.05)
        report.sent += 1
        if report.sent % 10_000 == 0:
            out.poll(0)
            if progress:
                progress(report.sent)
    undelivered = out.flush(flush_timeout_s)
    if progress:
        progress(report.sent)
    if undelivered:
        raise BrokerError(
            f"{undelivered} of {report.sent} messages were still undelivered after {flush_timeout_s:g} s (is the "
            f"broker at {bootstrap_servers} up?); nothing is known about them: re-publish once it answers"
        )
    if errors:
        raise BrokerError(f"{len(errors)} messages were not delivered; first error: {errors[0].str()}")
    return report
