"""Fuzz of the batch engine's decode path: random bytes and mutated valid events never raise, and every valid
event is applied exactly once however often the batch is delivered."""

from __future__ import annotations

import orjson
from confluent_kafka import TIMESTAMP_CREATE_TIME, Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import DlqReason
from streams.engine.decode import decode_messages
from streams.event_batch import EventBatch
from streams.partitioning import key_partition
from streams.processor import PartitionProcessor
from streams.settings import Settings
from streams.state_codec import Topic
from streams.store import MemoryPartitionStore

from ..conftest import DAY_MS, click_payload, inventory_payload, order_payload

PARTITIONS = 4
PARTITION = 1
TOPIC_OF = {"orders": Topic.ORDERS, "inventory": Topic.INVENTORY, "clicks": Topic.CLICKS}
LIMITS = Settings().validation_limits
T0 = 20_000 * DAY_MS
SKUS = [f"S{i}" for i in range(40) if key_partition(f"S{i}|L1".encode(), PARTITIONS) == PARTITION]
ELSEWHERE = next(f"X{i}" for i in range(40) if key_partition(f"X{i}|L1".encode(), PARTITIONS) != PARTITION)


def valid_payload(kind: str, n: int, sku: str) -> dict:
    t = T0 + n * 60_000
    if kind == "orders":
        return order_payload(f"o{n}", t, sku=sku)
    if kind == "inventory":
        return inventory_payload(f"i{n}", t, sku=sku, kind="snapshot", on_hand=5)
    return click_payload(f"c{n}", t, sku=sku)


mutations = st.sampled_from(
    ["none", "drop_field", "wrong_type", "huge", "negative_time", "future", "garbage", "truncate", "other_key"]
)


def mutate(payload: dict, how: str, data: st.DataObject) -> tuple[bytes, bytes]:
    key = f"{payload['sku']}|L1".encode()
    if how == "drop_field":
        payload.pop(data.draw(st.sampled_from(sorted(payload))))
    elif how == "wrong_type":
        payload[data.draw(st.sampled_from(sorted(payload)))] = data.draw(st.one_of(st.none(), st.text(), st.floats()))
    elif how == "huge":
        payload["event_id"] = "x" * 200_000
    elif how == "negative_time":
        payload["event_time"] = -1
    elif how == "future":
        payload["event_time"] = T0 + 400 * DAY_MS
    elif how == "other_key":
        payload["sku"] = ELSEWHERE
        key = f"{ELSEWHERE}|L1".encode()
    raw = orjson.dumps(payload)
    if how == "garbage":
        raw = data.draw(st.binary(max_size=300))
    elif how == "truncate":
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    return key, raw


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), n=st.integers(1, 60))
def test_hostile_batches_never_raise_and_valid_events_apply_once(data: st.DataObject, n: int) -> None:
    offsets = dict.fromkeys(TOPIC_OF, 0)
    messages: list[Message] = []
    valid = 0
    for i in range(n):
        kind = data.draw(st.sampled_from(sorted(TOPIC_OF)))
        how = data.draw(mutations)
        key, raw = mutate(valid_payload(kind, i, data.draw(st.sampled_from(SKUS))), how, data)
        valid += how == "none"
        stamp = T0 + i * 60_000
        messages.append(Message(topic=kind, partition=PARTITION, offset=offsets[kind], key=key, value=raw,
                                timestamp=(TIMESTAMP_CREATE_TIME, stamp)))  # fmt: skip
        offsets[kind] += 1
    processor = PartitionProcessor(MemoryPartitionStore(PARTITION), Settings())
    accepted = []
    for _delivery in range(2):  # at-least-once: the same batch again must change nothing
        batch = decode_messages(messages, TOPIC_OF, PARTITION, PARTITIONS, LIMITS, T0)
        assert len(batch.events) + len(batch.refused) == n
        result = processor.apply(EventBatch.of(batch.events))
        accepted.append(result.accepted)
        for _topic, message, refusal in batch.refused:
            assert refusal.reason in DlqReason and refusal.detail, message.value()
        assert all(r.reason in (DlqReason.LATE, DlqReason.DUPLICATE) for r in result.rejected)
    assert accepted[1] == 0
    assert accepted[0] >= valid  # every untouched event counts; a mutation may leave an event valid, never twice


def test_refusals_name_the_reason() -> None:
    payload = valid_payload("orders", 0, SKUS[0])
    cases = {
        DlqReason.ANCIENT_TIMESTAMP: {**payload, "event_time": -1},
        DlqReason.FUTURE_TIMESTAMP: {**payload, "event_time": T0 + 400 * DAY_MS},
        DlqReason.OVERSIZED: {**payload, "channel": "x" * (LIMITS.max_message_bytes + 1)},
    }
    messages = [
        Message(topic="orders", partition=PARTITION, offset=i, key=f"{SKUS[0]}|L1".encode(), value=orjson.dumps(p),
                timestamp=(TIMESTAMP_CREATE_TIME, T0))
        for i, p in enumerate(cases.values())
    ]  # fmt: skip
    elsewhere = orjson.dumps({**payload, "sku": ELSEWHERE})
    messages.append(Message(topic="orders", partition=PARTITION, offset=9, key=f"{ELSEWHERE}|L1".encode(),
                            value=elsewhere, timestamp=(TIMESTAMP_CREATE_TIME, T0)))  # fmt: skip
    batch = decode_messages(messages, TOPIC_OF, PARTITION, PARTITIONS, LIMITS, T0)
    assert [r.reason for _, _, r in batch.refused] == [*cases, DlqReason.WRONG_PARTITION]
    assert not batch.events
