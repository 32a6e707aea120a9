"""The columnar decoder gives exactly the events and refusals of decode_messages, on any input, and decodes
clean traffic without falling back to pydantic."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import numpy as np
import orjson
import pytest
from confluent_kafka import TIMESTAMP_CREATE_TIME, TIMESTAMP_LOG_APPEND_TIME, TIMESTAMP_NOT_AVAILABLE, Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic_core import PydanticCustomError

from schemas import ClickEvent, InventoryEvent, OrderEvent, to_epoch_ms
from schemas.events import _parse_event_time
from schemas.validation import ValidationLimits
from streams.engine import columns
from streams.engine.columns import ColumnBatch, decode_columns
from streams.engine.decode import DecodedBatch, decode_messages
from streams.event_batch import CLICK_ACTIONS, LINE_TYPES, NO_CODE, EventBatch
from streams.partitioning import key_partition
from streams.processor import PartitionProcessor
from streams.sample_events import SCHEMA_REASONS, demo_history
from streams.settings import Settings
from streams.state_codec import Topic
from streams.store import MemoryPartitionStore

from ..conftest import DAY_MS, click_payload, inventory_payload, order_payload

PARTITIONS = 4
PARTITION = 1
TOPIC_OF = {"orders": Topic.ORDERS, "inventory": Topic.INVENTORY, "clicks": Topic.CLICKS}
T0 = 20_000 * DAY_MS
SKUS = [f"S{i}" for i in range(40) if key_partition(f"S{i}|L1".encode(), PARTITIONS) == PARTITION][:4]
ELSEWHERE = next(f"X{i}" for i in range(40) if key_partition(f"X{i}|L1".encode(), PARTITIONS) != PARTITION)
LIMITS = [
    Settings().validation_limits,
    ValidationLimits(max_message_bytes=260, max_quantity=5, max_future_ms=0, earliest_event_ms=0),
    ValidationLimits(click_default_location="L1", earliest_event_ms=T0 - DAY_MS),
    ValidationLimits(click_default_location="x" * 70, max_future_ms=10**15, earliest_event_ms=-(10**15)),
]
DT_MIN_MS, DT_MAX_MS = -62_135_596_800_000, 253_402_300_799_999


def assert_same(batch: ColumnBatch, ref: DecodedBatch) -> None:
    """Every column, every refusal and the typed events agree with decode_messages."""
    events = ref.events
    assert len(batch) == len(events)
    assert batch.topic.dtype == batch.offset.dtype == batch.time_ms.dtype == "int64"
    assert batch.line_type.dtype == batch.action.dtype == "int8"
    assert batch.topic.tolist() == [e.topic for e in events]
    assert batch.offset.tolist() == [e.offset for e in events]
    assert batch.time_ms.tolist() == [e.time_ms for e in events]
    assert batch.keys == [e.key for e in events]
    assert batch.event_ids == [e.event.event_id for e in events]
    assert all(a is e.ref for a, e in zip(batch.refs, events, strict=True))
    inventory_rows = []
    for i, item in enumerate(events):
        event = item.event
        if isinstance(event, OrderEvent):
            assert (batch.quantity[i], batch.unit_price[i]) == (event.quantity, event.unit_price)
            assert math.copysign(1, batch.unit_price[i]) == math.copysign(1, event.unit_price)
            assert (LINE_TYPES[batch.line_type[i]], batch.action[i]) == (event.line_type, NO_CODE)
            continue
        assert math.isnan(batch.quantity[i]) and math.isnan(batch.unit_price[i]) and batch.line_type[i] == NO_CODE
        if isinstance(event, ClickEvent):
            assert CLICK_ACTIONS[batch.action[i]] == event.action
        else:
            assert isinstance(event, InventoryEvent) and batch.action[i] == NO_CODE
            assert batch.inventory[i] == event
            inventory_rows.append(i)
    assert sorted(batch.inventory) == inventory_rows
    assert [(t, id(m), r) for t, m, r in batch.refused] == [(t, id(m), r) for t, m, r in ref.refused]
    assert [batch.event(i) for i in range(len(batch))] == [e.event for e in events]
    typed = EventBatch.of(events)  # what the worker builds from decode_messages today
    for name in ("topic", "offset", "time_ms", "quantity", "unit_price", "line_type", "action"):
        assert np.array_equal(getattr(batch, name), getattr(typed, name), equal_nan=True), name
        assert getattr(batch, name).dtype == getattr(typed, name).dtype, name
    assert (batch.keys, batch.event_ids, batch.inventory) == (typed.keys, typed.event_ids, typed.inventory)


# ------------------------------------------------------------------------------------------------------------
# Hostile input
# ------------------------------------------------------------------------------------------------------------

_RAW_TOKENS = [
    b"NaN", b"-NaN", b"Infinity", b"-Infinity", b"inf", b"1e999", b"-1e999", b"1.0", b"1E0", b"1e2", b"-0",
    b"-0.0", b"0.0", b"1.5", b"3.0", b"18446744073709551616", b"9223372036854775808", b"123456789012345678901234",
    b"-9223372036854775809", b"true", b"false", b"null", b"[]", b"{}", b'"1"', b'"3"', b'" 1"', b'"1.0"',
    b'"\\u0053\\u0030"', b'"\\ud800"', b'"\\ud83d\\ude00"', b'"\\u0000"', b'"a\\nb"', b"01", b"1.", b'"',
]  # fmt: skip

_ISO_TIMES = [
    "2024-10-04T00:00:00Z", "2024-10-04T00:00:00.123Z", "2024-10-04T00:00:00.123456Z", "2024-10-04T00:00:00.1Z",
    "2024-10-04T00:00:00.1234567Z", "2024-10-04T00:00:00+00:00", "2024-10-04T00:00:00-00:00",
    "2024-10-04T05:30:00.5+05:30", "2024-10-03T23:00:00.999-01:00", "2024-10-04T00:00:00+05:30:15.25",
    "2024-10-04T00:00:00", "2024-10-04", "2024-10-04 00:00:00Z", "2024-10-04t00:00:00z", "20241004T000000Z",
    "2024-02-30T00:00:00Z", "2024-10-04T24:00:00Z", "2024-10-04T23:59:60Z", " 2024-10-04T00:00:00Z",
    "2024-10-04T00:00:00Z ", "0001-01-01T00:00:00Z", "0001-01-01T00:30:00+01:00", "9999-12-31T23:59:59.999999Z",
    "9999-12-31T23:30:00-01:00", "1970-01-01T00:00:00Z", "1999-12-31T23:59:59.999Z", "2000-01-01T00:00:00Z",
    "2034-10-04T00:00:00Z", "２０２４-10-04T00:00:00Z", "", "2024-10-04T00:00:00.999999Z", "2024-10-04T00:00:00.0009Z",
    "1969-12-31T23:59:59.9999Z", "2024-10-04T00:00:00.5005+00:00", "2024-10-04T00:00:00.0005+05:30:15.000999",
]  # fmt: skip

_ANY_JSON = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.text(alphabet="AZaz09|_ -\n\u00e9\U0001f600", max_size=140),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _sized(*sizes: int) -> list[str]:
    return [c * n for n in sizes for c in ("a", "é", "\U0001f600")]


_IDS = ["", "x", *_sized(128, 129)]
_BOUNDARY: dict[str, list[Any]] = {
    "schema_version": [1, 2, 0, -1, True, 1.0, "1", None],
    "event_time": [
        0, -1, 1, T0, T0 - 1, T0 + DAY_MS, T0 + DAY_MS + 1, T0 + 400 * DAY_MS, 946_684_800_000, 946_684_799_999,
        DT_MAX_MS, DT_MAX_MS + 1, DT_MIN_MS, DT_MIN_MS - 1, 2**63, -(2**63), 10**20, T0 * 1000, T0 / 1, True, False,
        *_ISO_TIMES,
    ],
    "sku": [*SKUS, ELSEWHERE, "", "S|1", "s1", " " + SKUS[0], *_sized(64, 65)],
    "location": ["L1", "L2", "web", "", "L|1", None, "l1", "x" * 70, *_sized(64, 65)],
    "quantity": [0, 1, 2, 5, 6, 10_000, 10_001, -1, 3.0, 2.5, True, "3", 2**64, None],
    "unit_price": [
        0, 0.0, -0.0, -0.01, 4.53, 1e15, 1.0000000000000002e15, 1e16, 1e300, 5e-324, 2**53, 2**53 + 1, 2**63,
        2**64 + 1, -1, True, "4.53", None,
    ],
    "currency": ["GBP", "EUR", "gbp", "GB", "GBPX", "GB1", "ÄBC", "GBP\n", "", None, 826],
    "channel": ["web", "", None, 1, *_sized(32, 33)],
    "line_type": [*LINE_TYPES, "Sale", "refund", "", None, 0],
    "action": [*CLICK_ACTIONS, "View", "hover", "", None, 0],
    "kind": ["snapshot", "receipt", "adjustment", "shipment", "recount", None],
    "on_hand": [0, 5, -1, 1_000_000, 1_000_001, 5.0, None],
    "delta": [0, 3, -3, 10_000, 10_001, -10_001, 3.0, None],
    "original_order_id": [None, "o-1", *_IDS],
}  # fmt: skip
"""Values on both sides of every bound the models and limits put on a field (identifiers: _IDS)."""


def _field_values(name: str) -> st.SearchStrategy[Any]:
    return st.one_of(st.sampled_from(_BOUNDARY.get(name, _IDS)), _ANY_JSON)


def _base_payload(kind: str, n: int, data: st.DataObject) -> dict[str, Any]:
    sku = data.draw(st.sampled_from(SKUS))
    t = T0 + n * 60_000
    if kind == "orders":
        line_type = data.draw(st.sampled_from(LINE_TYPES))
        payload = order_payload(f"o{n}", t, sku=sku, line_type=line_type, qty=data.draw(st.integers(1, 4)))
        payload["original_order_id"] = None if line_type == "sale" else data.draw(st.sampled_from([None, "o-0"]))
        if payload["original_order_id"] is None and data.draw(st.booleans()):
            del payload["original_order_id"]
        payload["unit_price"] = data.draw(st.sampled_from([4.53, 0.0, 12, 0.1 + 0.2, 1234.5678]))
        return payload
    if kind == "inventory":
        inventory_kind = data.draw(st.sampled_from(["snapshot", "receipt", "adjustment", "shipment"]))
        extra: dict[str, Any] = {"on_hand": 5} if inventory_kind == "snapshot" else {"delta": 3}
        if data.draw(st.booleans()):
            extra |= {"on_order": 2, "lead_time_days": 3.5, "case_pack": 6, "command_id": "c-1"}
        return inventory_payload(f"i{n}", t, sku=sku, kind=inventory_kind, **extra)
    payload = click_payload(f"c{n}", t, sku=sku, action=data.draw(st.sampled_from(CLICK_ACTIONS)))
    location = data.draw(st.sampled_from(["L1", "L1", None, "absent"]))
    if location == "absent":
        del payload["location"]
    else:
        payload["location"] = location
    return payload


def _dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # an integer beyond 64 bits
        return json.dumps(value, ensure_ascii=False).encode()


def _render(pairs: list[tuple[str, bytes]], escaped: frozenset[int] = frozenset()) -> bytes:
    """A JSON object of raw values; the names at ``escaped`` positions spelled with \\u escapes."""
    names = [
        "".join(f"\\u{ord(c):04x}" for c in name).join('""').encode() if i in escaped else orjson.dumps(name)
        for i, (name, _) in enumerate(pairs)
    ]
    return b"{" + b",".join(name + b":" + raw for name, (_, raw) in zip(names, pairs, strict=True)) + b"}"


_MUTATIONS = st.sampled_from(
    ["drop", "set", "set", "set", "raw", "extra", "duplicate", "iso_time", "edge_time", "edge_time", "shuffle",
     "spaces", "escape_key"]
)  # fmt: skip
_STAMP_KINDS = [TIMESTAMP_CREATE_TIME] * 4 + [TIMESTAMP_LOG_APPEND_TIME, TIMESTAMP_NOT_AVAILABLE]


def _iso(ms: int, data: st.DataObject) -> str | int:
    """``ms`` as an ISO-8601 string in one of the offsets the fast path parses, or as is outside datetime's range."""
    if not DT_MIN_MS + DAY_MS <= ms <= DT_MAX_MS - DAY_MS:
        return ms
    offset = data.draw(st.sampled_from([timedelta(0), timedelta(hours=5, minutes=30), timedelta(hours=-1)]))
    moment = (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)).astimezone(timezone(offset))
    text = moment.isoformat(timespec=data.draw(st.sampled_from(["milliseconds", "microseconds", "seconds"])))
    return text.replace("+00:00", "Z") if data.draw(st.booleans()) else text


def _last_string(pairs: list[tuple[str, bytes]], name: str) -> str | None:
    """The value the parsers keep for ``name`` (the last one) when it is a string."""
    for field_name, raw in reversed(pairs):
        if field_name == name:
            try:
                value = orjson.loads(raw)
            except orjson.JSONDecodeError:
                return None
            return value if isinstance(value, str) else None
    return None


def _message(
    kind: str, n: int, offset: int, data: st.DataObject, limits: ValidationLimits, clock: int
) -> Message:  # fmt: skip
    stamp_kind = data.draw(st.sampled_from(_STAMP_KINDS))
    stamp = data.draw(st.one_of(st.just(T0 + n * 60_000), st.sampled_from([0, -1, T0 - 400 * DAY_MS, 2**62])))
    produced = stamp if stamp_kind != TIMESTAMP_NOT_AVAILABLE and stamp > 0 else clock
    # event times on both sides of each bound, including the bounds a wrong reading of the timestamp would give
    edges = [
        bound + d
        for bound in (limits.earliest_event_ms, produced + limits.max_future_ms, stamp + limits.max_future_ms,
                      clock + limits.max_future_ms)
        for d in (-1, 0, 1)
    ]  # fmt: skip
    payload = _base_payload(kind, n, data)
    if data.draw(st.booleans()):
        payload["event_time"] = _iso(payload["event_time"], data)
    pairs = [(name, _dumps(value)) for name, value in payload.items()]
    escaped: set[int] = set()
    for how in data.draw(st.lists(_MUTATIONS, max_size=3)):
        names = [name for name, _ in pairs]
        if how == "drop" and pairs:
            del pairs[data.draw(st.integers(0, len(pairs) - 1))]
            escaped.clear()
        elif how in ("set", "raw") and pairs:
            i = data.draw(st.integers(0, len(pairs) - 1))
            if how == "set":
                value = _dumps(data.draw(_field_values(names[i])))
            else:
                value = data.draw(st.sampled_from(_RAW_TOKENS))
            pairs[i] = (names[i], value)
        elif how in ("iso_time", "edge_time") and "event_time" in names:
            if how == "iso_time":
                when: str | int = data.draw(st.sampled_from(_ISO_TIMES))
            else:
                when = data.draw(st.sampled_from(edges))
                when = _iso(when, data) if data.draw(st.booleans()) else when
            pairs[names.index("event_time")] = ("event_time", _dumps(when))
        elif how == "extra":
            name = data.draw(st.sampled_from(["extra", "Sku", "location", "original_order_id", "on_hand", ""]))
            pairs.append((name, _dumps(data.draw(_field_values(name)))))
        elif how == "duplicate" and pairs:
            i = data.draw(st.integers(0, len(pairs) - 1))
            twin = (names[i], _dumps(data.draw(_field_values(names[i]))))
            pairs.insert(data.draw(st.integers(0, len(pairs))), twin)
        elif how == "shuffle":
            pairs = data.draw(st.permutations(pairs))
            escaped.clear()
        elif how == "spaces" and pairs:
            pairs[0] = (pairs[0][0], b" \n\t" + pairs[0][1] + b" ")
        elif how == "escape_key" and pairs:
            escaped.add(data.draw(st.integers(0, len(pairs) - 1)))
    value = _render(pairs, frozenset(escaped))
    # the key the payload asks for, after the mutations (a click without location: the default one)
    sku = _last_string(pairs, "sku")
    sku = SKUS[0] if sku is None else sku
    location = _last_string(pairs, "location")
    location = limits.click_default_location if location is None else location
    key: bytes | None = f"{sku}|{location}".encode()
    raw_how = data.draw(st.sampled_from(["none"] * 6 + ["garbage", "truncate", "pad", "empty", "null", "array"]))
    if raw_how == "garbage":
        value = data.draw(st.binary(max_size=200))
    elif raw_how == "truncate":
        value = value[: data.draw(st.integers(0, len(value) - 1))]
    elif raw_how == "pad":
        value = value + b" " * data.draw(st.sampled_from([limits.max_message_bytes - len(value), 65_536, 1]))
    elif raw_how == "empty":
        value = b""
    elif raw_how == "array":
        value = b"[" + value + b"]"
    key_how = data.draw(st.sampled_from(["none"] * 6 + ["other", "elsewhere", "null", "empty", "bad_utf8", "web"]))
    if key_how == "other":
        key = f"{data.draw(st.sampled_from(SKUS))}|L1".encode()
    elif key_how == "elsewhere":
        key = f"{ELSEWHERE}|L1".encode()
    elif key_how == "null":
        key = None
    elif key_how == "empty":
        key = b""
    elif key_how == "bad_utf8":
        key = (key or b"") + b"\xff"
    elif key_how == "web":
        key = f"{sku}|web".encode()
    return Message(topic=kind, partition=PARTITION, offset=offset, key=key, value=None if raw_how == "null" else value,
                   timestamp=(stamp_kind, stamp))  # fmt: skip


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data(), n=st.integers(1, 30), limits=st.sampled_from(LIMITS))
def test_hostile_batches_decode_as_decode_messages(data: st.DataObject, n: int, limits: ValidationLimits) -> None:
    clock = data.draw(st.sampled_from([T0, T0 + 400 * DAY_MS]))
    offsets = dict.fromkeys(TOPIC_OF, 0)
    messages = []
    for i in range(n):
        kind = data.draw(st.sampled_from(sorted(TOPIC_OF)))
        messages.append(_message(kind, i, offsets[kind], data, limits, clock))
        offsets[kind] += 1
        if data.draw(st.integers(0, 9)) == 0:  # the very same message object again (a redelivery)
            messages.append(data.draw(st.sampled_from(messages)))
    batch = decode_columns(messages, TOPIC_OF, PARTITION, PARTITIONS, limits, clock)
    assert_same(batch, decode_messages(messages, TOPIC_OF, PARTITION, PARTITIONS, limits, clock))


_OFFSETS = st.timedeltas(min_value=timedelta(hours=-23, minutes=59), max_value=timedelta(hours=23, minutes=59))


@st.composite
def _iso_texts(draw: st.DrawFn) -> str:
    moment = draw(st.datetimes(timezones=st.one_of(st.none(), st.just(UTC), _OFFSETS.map(timezone))))
    spec = draw(st.sampled_from(["auto", "hours", "minutes", "seconds", "milliseconds", "microseconds"]))
    text = moment.isoformat(sep=draw(st.sampled_from(["T", " ", "t"])), timespec=spec)
    if draw(st.booleans()):
        text = text.replace("+00:00", "Z")
    if draw(st.integers(0, 4)) == 0:  # a random edit
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.text(alphabet="0123456789+-:.TZz ", max_size=2)) + text[at + 1 :]
    return text


@settings(max_examples=1500, deadline=None)
@given(text=_iso_texts())
def test_iso_times_convert_as_the_model_does(text: str) -> None:
    """columns._iso_ms is to_epoch_ms of what the model makes of the string, or refused by the caller's bounds."""
    try:
        expected = to_epoch_ms(_parse_event_time(text))
    except PydanticCustomError:
        got = columns._iso_ms(text)
        assert got is None or not DT_MIN_MS <= got <= DT_MAX_MS
    else:
        assert columns._iso_ms(text) == expected


def _one(
    topic: str, value: bytes | None, key: bytes | None, stamp: tuple[int, int] = (TIMESTAMP_CREATE_TIME, T0)
) -> Message:
    return Message(topic=topic, partition=PARTITION, offset=0, key=key, value=value, timestamp=stamp)


def _keyed(topic: str, payload: dict[str, Any], limits: ValidationLimits, **stamp: Any) -> Message:
    """A message keyed as its payload asks (where sku and location are strings)."""
    sku, location = payload.get("sku"), payload.get("location")
    location = limits.click_default_location if location is None and topic == "clicks" else location
    key = f"{sku}|{location}".encode() if isinstance(sku, str) and isinstance(location, str) else b"A|L1"
    return _one(topic, _dumps(payload), key, **stamp)


@pytest.mark.parametrize("limits", LIMITS)
@pytest.mark.parametrize(("partition", "partitions"), [(PARTITION, PARTITIONS), (0, 1)])
def test_every_bound_decodes_as_decode_messages(limits: ValidationLimits, partition: int, partitions: int) -> None:
    """Each field's values at and around its bounds, and each shape, one message each: a hand-made fuzz."""
    sku = SKUS[0]
    bases = {
        "orders": [
            order_payload("o1", T0, sku=sku),
            {k: v for k, v in order_payload("o1", T0, sku=sku).items() if k != "original_order_id"},
            order_payload("o1", T0, sku=sku, line_type="return", original_order_id="o-0"),
        ],
        "clicks": [
            click_payload("c1", T0, sku=sku),
            {k: v for k, v in click_payload("c1", T0, sku=sku).items() if k != "location"},
            {**click_payload("c1", T0, sku=sku), "location": None},
        ],
        "inventory": [inventory_payload("i1", T0, sku=sku, kind="snapshot", on_hand=5)],
    }
    stamps = [
        (TIMESTAMP_CREATE_TIME, T0),
        (TIMESTAMP_CREATE_TIME, 2**62),
        (TIMESTAMP_CREATE_TIME, 0),
        (TIMESTAMP_CREATE_TIME, -1),
        (TIMESTAMP_NOT_AVAILABLE, 2**62),
        (TIMESTAMP_LOG_APPEND_TIME, T0 - DAY_MS),
    ]
    edges = [T0 + limits.max_future_ms, limits.earliest_event_ms, DT_MAX_MS, DT_MIN_MS, 2**62 + limits.max_future_ms]
    messages = []
    for topic, payloads in bases.items():
        for base in payloads:
            for name in {*base, *_BOUNDARY, "original_order_id", "location", "extra"}:
                messages.append(_keyed(topic, {k: v for k, v in base.items() if k != name}, limits))
                for value in _BOUNDARY.get(name, _IDS):
                    messages.append(_keyed(topic, {**base, name: value}, limits))
            for raw in _RAW_TOKENS:
                for name in ("quantity", "unit_price", "event_time", "schema_version", "event_id", "action"):
                    pairs = [(k, raw if k == name else _dumps(v)) for k, v in base.items()]
                    messages.append(_one(topic, _render(pairs), _keyed(topic, base, limits).key()))
            for when in [*_ISO_TIMES, *{edge + d for edge in edges for d in (-1, 0, 1)}]:
                for stamp in stamps:
                    messages.append(_keyed(topic, {**base, "event_time": when}, limits, stamp=stamp))
    for topic, payloads in bases.items():  # keys that are not the UTF-8 of the payload's sku|location
        payload = {**payloads[0], "sku": "Sé"}
        for encoding in ("utf-8", "latin-1", "utf-16", "utf-8-sig"):
            messages.append(_one(topic, _dumps(payload), "Sé|L1".encode(encoding)))
    assert_same(
        decode_columns(messages, TOPIC_OF, partition, partitions, limits, T0),
        decode_messages(messages, TOPIC_OF, partition, partitions, limits, T0),
    )


# ------------------------------------------------------------------------------------------------------------
# Clean traffic takes the fast path
# ------------------------------------------------------------------------------------------------------------


def _demo_messages(bad_fraction: float) -> tuple[list[list[Message]], dict[str, dict[str, int]]]:
    history = demo_history(3, start_day=date(2024, 1, 1), n_skus=12, n_locations=2, days=21, bad_fraction=bad_fraction)
    by_partition: list[list[Message]] = [[] for _ in range(PARTITIONS)]
    for m in history.messages:
        part = key_partition(m.key, PARTITIONS)
        by_partition[part].append(
            Message(
                topic=m.topic_kind,
                partition=part,
                offset=len(by_partition[part]),
                key=m.key,
                value=m.value,
                timestamp=(TIMESTAMP_CREATE_TIME, m.event_time_ms),
            )
        )
    return by_partition, history.injected_by_topic


def test_clean_demo_traffic_never_falls_back() -> None:
    limits = Settings().validation_limits
    by_partition, _ = _demo_messages(0.0)
    topics_seen = set()
    for part, messages in enumerate(by_partition):
        batch = decode_columns(messages, TOPIC_OF, part, PARTITIONS, limits, T0)
        assert batch.fallbacks == 0 and not batch.refused and len(batch) == len(messages)
        assert_same(batch, decode_messages(messages, TOPIC_OF, part, PARTITIONS, limits, T0))
        topics_seen |= set(batch.topic.tolist())
    assert topics_seen == set(Topic)


def test_only_bad_demo_messages_fall_back() -> None:
    """Injected schema defects fall back (and are refused as before); duplicates and late events stay fast."""
    limits = Settings().validation_limits
    by_partition, injected = _demo_messages(0.05)
    fallbacks = 0
    for part, messages in enumerate(by_partition):
        batch = decode_columns(messages, TOPIC_OF, part, PARTITIONS, limits, T0)
        assert_same(batch, decode_messages(messages, TOPIC_OF, part, PARTITIONS, limits, T0))
        fallbacks += batch.fallbacks
    expected = sum(
        injected.get(topic, {}).get(reason, 0) for topic in ("orders", "clicks") for reason in SCHEMA_REASONS
    )
    assert expected > 0 and fallbacks == expected


def test_state_engine_applies_a_column_batch_as_the_typed_batch() -> None:
    """Duplicates and late events included: the same verdicts and the same stored bytes as EventBatch.of."""
    limits = Settings().validation_limits
    by_partition, _ = _demo_messages(0.05)
    for part, messages in enumerate(by_partition):
        stores = [MemoryPartitionStore(part), MemoryPartitionStore(part)]
        processors = [PartitionProcessor(store, Settings()) for store in stores]
        for start in range(0, len(messages), 700):  # several batches, so later ones meet state
            chunk = messages[start : start + 700]
            columns_result = processors[0].apply(decode_columns(chunk, TOPIC_OF, part, PARTITIONS, limits, T0))
            typed = EventBatch.of(decode_messages(chunk, TOPIC_OF, part, PARTITIONS, limits, T0).events)
            typed_result = processors[1].apply(typed)
            assert columns_result == typed_result
            assert [p.flush() for p in processors] and stores[0].data == stores[1].data


def test_fast_path_assumptions_match_the_models() -> None:
    """A tripwire: the contracts the fast path mirrors by hand (update streams/engine/columns.py with them)."""
    for model, required in ((OrderEvent, columns._ORDER_REQUIRED), (ClickEvent, columns._CLICK_REQUIRED)):
        assert model.model_config == {"strict": True, "frozen": True, "extra": "forbid", "allow_inf_nan": False}
        schema = model.model_json_schema()
        assert tuple(schema["required"]) == required and schema["additionalProperties"] is False
        optional = set(schema["properties"]) - set(required)
        assert optional == ({"original_order_id"} if model is OrderEvent else {"location"})
    order = OrderEvent.model_json_schema()["properties"]
    click = ClickEvent.model_json_schema()["properties"]
    key_part = {"maxLength": 64, "minLength": 1, "pattern": "^[^|]*$", "type": "string"}
    identifier = {"maxLength": 128, "minLength": 1, "type": "string"}

    def bare(spec: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in spec.items() if k not in ("title", "description")}

    for props in (order, click):
        assert bare(props["schema_version"]) == {"const": 1, "type": "integer"}
        assert bare(props["event_id"]) == identifier and bare(props["sku"]) == key_part
    assert bare(order["location"]) == key_part and bare(order["order_id"]) == identifier
    assert bare(order["original_order_id"]) == {"anyOf": [identifier, {"type": "null"}], "default": None}
    assert bare(order["quantity"]) == {"exclusiveMinimum": 0, "type": "integer"}
    assert bare(order["unit_price"]) == {"minimum": 0, "type": "number"}
    assert bare(order["currency"]) == {"pattern": "^[A-Z]{3}$", "type": "string"}
    assert bare(order["channel"]) == {"maxLength": 32, "minLength": 1, "type": "string"}
    assert order["line_type"]["enum"] == list(LINE_TYPES) and click["action"]["enum"] == list(CLICK_ACTIONS)
    assert bare(click["location"]) == {"anyOf": [key_part, {"type": "null"}], "default": None}
    assert bare(click["session_id"]) == identifier


def test_empty_batch() -> None:
    batch = decode_columns([], TOPIC_OF, PARTITION, PARTITIONS, LIMITS[0], T0)
    assert len(batch) == 0 and batch.topic.dtype == "int64" and batch.unit_price.shape == (0,)
    assert_same(batch, decode_messages([], TOPIC_OF, PARTITION, PARTITIONS, LIMITS[0], T0))
