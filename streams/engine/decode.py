"""Fetched messages of one partition to valid events and refusals, before anything touches state.

Pure (no broker), and the definition of what is valid: ``streams.engine.columns`` (the worker's decoder)
hands it every message its fast path cannot prove valid, and its parity test compares the two on hostile
input. Each message is validated by its topic's pydantic decoder against the record timestamp (when it was
produced), then checked to belong to the partition it arrived on under Kafka's murmur2 placement; a refusal
keeps the message for its dead letter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from confluent_kafka import TIMESTAMP_NOT_AVAILABLE, Message

from schemas import DlqReason, decode_click, decode_inventory, decode_order
from schemas.validation import Rejection, ValidationLimits
from streams.event_batch import InputEvent
from streams.partitioning import key_partition, wrong_partition_detail
from streams.state_codec import Topic

DECODERS = {Topic.ORDERS: decode_order, Topic.INVENTORY: decode_inventory, Topic.CLICKS: decode_click}


@dataclass
class DecodedBatch:
    events: list[InputEvent] = field(default_factory=list)
    refused: list[tuple[Topic, Message, Rejection]] = field(default_factory=list)


def decode_messages(
    messages: Iterable[Message], topic_of: Mapping[str, Topic], partition: int, partitions: int,
    limits: ValidationLimits, clock_ms: int,
) -> DecodedBatch:  # fmt: skip
    """Validate messages of ``partition``; ``clock_ms`` stands in for a record without a timestamp."""
    out = DecodedBatch()
    for message in messages:
        topic = topic_of[message.topic() or ""]
        key, value, offset = message.key(), message.value(), int(message.offset() or 0)
        kind, stamp = message.timestamp()
        produced_ms = stamp if kind != TIMESTAMP_NOT_AVAILABLE and stamp > 0 else clock_ms
        decoded = DECODERS[topic](value, key, produced_ms, limits)
        if not isinstance(decoded, Rejection) and key_partition(key or b"", partitions) != partition:
            detail = wrong_partition_detail(key or b"", partition, partitions)
            decoded = Rejection(DlqReason.WRONG_PARTITION, detail, decoded.event_id)
        if isinstance(decoded, Rejection):
            out.refused.append((topic, message, decoded))
        else:
            out.events.append(InputEvent(topic, offset, key or b"", decoded.event_time_ms, decoded, message))
    return out
