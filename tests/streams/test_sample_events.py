from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import orjson
import pytest

from forecasting.synthetic import InventorySimulation, SyntheticCatalog, generate_catalog, simulate_warehouse
from streams.sample_events import (
    DAY_MS,
    INJECTED_REASONS,
    OutboundMessage,
    SampleEventsError,
    SampleHistory,
    count_by_kind,
    day_start_ms,
    demo_history,
    ingest_mix,
    render_history,
)

START = date(2025, 3, 3)
MAX_BYTES = 64 * 1024
MAX_QUANTITY = 10_000

COMMON = {"schema_version", "event_id", "event_time", "sku", "location"}
ORDER_FIELDS = COMMON | {
    "line_type",
    "order_id",
    "original_order_id",
    "quantity",
    "unit_price",
    "currency",
    "channel",
}
CLICK_FIELDS = COMMON | {"session_id", "action"}
INVENTORY_REQUIRED = COMMON | {"kind"}
INVENTORY_OPTIONAL = {
    "on_hand",
    "delta",
    "on_order",
    "backorders",
    "command_id",
    "lead_time_days",
    "lead_time_std_days",
    "case_pack",
    "moq",
    "unit_cost",
    "shelf_capacity",
}


@pytest.fixture(scope="module")
def world() -> tuple[SyntheticCatalog, InventorySimulation]:
    catalog = generate_catalog(30, 2, 42, seed=3, start_day=START)
    return catalog, simulate_warehouse(catalog, seed=4)


@pytest.fixture(scope="module")
def history(world: tuple[SyntheticCatalog, InventorySimulation]) -> SampleHistory:
    catalog, sim = world
    return render_history(catalog, sim, seed=5, bad_fraction=0.03)


def _time_ms(value: Any) -> int:
    if isinstance(value, int):
        return value
    assert isinstance(value, str) and value.endswith("Z")
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)


def _valid_payload(kind: str, payload: dict[str, Any]) -> bool:
    """An independent check of CONTRACTS.md's rules on the fields this generator writes."""
    if payload.get("schema_version") != 1:
        return False
    if not isinstance(payload.get("event_id"), str) or not isinstance(payload.get("event_time"), (int, str)):
        return False
    for name in ("sku", "location"):
        value = payload.get(name)
        if not isinstance(value, str) or not 1 <= len(value) <= 64 or "|" in value:
            return False
    if kind == "orders":
        if set(payload) != ORDER_FIELDS:
            return False
        qty = payload["quantity"]
        return (
            isinstance(qty, int)
            and 0 < qty <= MAX_QUANTITY
            and payload["line_type"] in ("sale", "cancellation", "return")
            and (payload["original_order_id"] is None) == (payload["line_type"] == "sale")
            and isinstance(payload["unit_price"], float)
            and payload["unit_price"] >= 0
            and payload["currency"] in ("GBP", "EUR")
            and isinstance(payload["order_id"], str)
        )
    if kind == "clicks":
        return (
            set(payload) == CLICK_FIELDS
            and isinstance(payload["session_id"], str)
            and payload["action"] in ("view", "add_to_cart", "remove_from_cart", "purchase")
        )
    if not INVENTORY_REQUIRED <= set(payload) <= INVENTORY_REQUIRED | INVENTORY_OPTIONAL:
        return False
    kind_value = payload["kind"]
    if kind_value == "snapshot":
        return isinstance(payload.get("on_hand"), int) and payload["on_hand"] >= 0 and "delta" not in payload
    if kind_value in ("receipt", "shipment"):
        return isinstance(payload.get("delta"), int) and payload["delta"] > 0 and "on_hand" not in payload
    return False


def _classify(messages: list[OutboundMessage], now_ms: int) -> tuple[Counter[str], list[int]]:
    """Re-detect every injected defect from the bytes alone; return counts and positions of valid events."""
    found: Counter[str] = Counter()
    seen: set[tuple[bytes, bytes]] = set()
    valid_positions: list[int] = []
    high = -(2**62)
    for pos, message in enumerate(messages):
        if len(message.value) > MAX_BYTES:
            found["oversized"] += 1
            continue
        try:
            payload = orjson.loads(message.value)
        except orjson.JSONDecodeError:
            found["malformed_json"] += 1
            continue
        kind = message.topic_kind
        required = {"orders": ORDER_FIELDS, "clicks": CLICK_FIELDS, "inventory": INVENTORY_REQUIRED}[kind]
        if not required <= set(payload):
            found["missing_field"] += 1
            continue
        if payload["schema_version"] != 1:
            found["unknown_schema_version"] += 1
            continue
        if kind == "orders" and isinstance(payload["quantity"], int) and payload["quantity"] <= 0:
            found["invalid_quantity"] += 1
            continue
        if kind == "orders" and isinstance(payload["quantity"], int) and payload["quantity"] > MAX_QUANTITY:
            found["absurd_quantity"] += 1
            continue
        wrong_type = any(
            isinstance(payload.get(f), (list, dict)) for f in ("quantity", "delta", "on_hand", "session_id")
        )
        if wrong_type:
            found["wrong_type"] += 1
            continue
        if not _valid_payload(kind, payload):
            found["invalid_value"] += 1
            continue
        if _time_ms(payload["event_time"]) > now_ms + DAY_MS:
            found["future_timestamp"] += 1
            continue
        if message.key != f"{payload['sku']}|{payload['location']}".encode():
            found["key_mismatch"] += 1
            continue
        ident = (message.key, message.value)
        if ident in seen:
            found["duplicate"] += 1
            continue
        seen.add(ident)
        assert _time_ms(payload["event_time"]) == message.event_time_ms
        if message.event_time_ms < high - DAY_MS:
            found["late"] += 1
        high = max(high, message.event_time_ms)
        valid_positions.append(pos)
    return found, valid_positions


def test_same_seed_same_bytes(world: tuple[SyntheticCatalog, InventorySimulation], history: SampleHistory) -> None:
    catalog, sim = world
    again = render_history(catalog, sim, seed=5, bad_fraction=0.03)
    assert again.messages == history.messages
    assert again.injected == history.injected
    other = render_history(catalog, sim, seed=6, bad_fraction=0.03)
    assert other.messages != history.messages


def test_injected_counts_match_the_messages(history: SampleHistory) -> None:
    found, valid = _classify(history.messages, now_ms=history.end_ms)
    assert set(history.injected) == set(INJECTED_REASONS)
    assert all(count > 0 for count in history.injected.values())
    assert dict(found) == history.injected
    assert len(valid) == sum(history.valid_counts.values())
    by_topic_total = Counter[str]()
    for counts in history.injected_by_topic.values():
        by_topic_total.update(counts)
    assert dict(by_topic_total) == history.injected
    assert len(history.messages) == sum(history.valid_counts.values()) + history.bad_total - history.injected["late"]


def test_sorted_by_event_time_except_late(history: SampleHistory) -> None:
    times = np.array([m.event_time_ms for m in history.messages])
    running_max = np.maximum.accumulate(times)
    behind = running_max - times
    assert int((behind > DAY_MS).sum()) == history.injected["late"]
    assert int(((behind > 0) & (behind <= DAY_MS)).sum()) == 0  # nothing else out of order
    assert times.min() >= history.start_ms and running_max[-1] < history.end_ms


def test_keys_are_sku_location(history: SampleHistory) -> None:
    mismatches = 0
    for message in history.messages:
        try:
            payload = orjson.loads(message.value)
        except orjson.JSONDecodeError:
            continue
        if "sku" in payload and "location" in payload:
            assert payload["location"] is not None  # clicks always carry their location
            mismatches += message.key != f"{payload['sku']}|{payload['location']}".encode()
    assert mismatches == history.injected["key_mismatch"]


def test_valid_event_ids_unique(history: SampleHistory) -> None:
    _, valid = _classify(history.messages, now_ms=history.end_ms)
    ids = [orjson.loads(history.messages[p].value)["event_id"] for p in valid]
    assert len(ids) == len(set(ids))
    all_ids = Counter(
        orjson.loads(m.value)["event_id"] for m in history.messages if len(m.value) <= MAX_BYTES and _parses(m.value)
    )
    # only the duplicate redeliveries repeat an id
    assert sum(c - 1 for c in all_ids.values() if c > 1) == history.injected["duplicate"]


def _parses(value: bytes) -> bool:
    try:
        return "event_id" in orjson.loads(value)
    except orjson.JSONDecodeError:
        return False


def test_orders_and_inventory_match_the_simulation(
    world: tuple[SyntheticCatalog, InventorySimulation], history: SampleHistory
) -> None:
    catalog, sim = world
    index = {key: i for i, key in enumerate(catalog.keys)}
    net = np.zeros_like(sim.sales)
    shipped = np.zeros_like(sim.sales)
    received = np.zeros_like(sim.sales)
    snapshots = 0
    _, valid = _classify(history.messages, now_ms=history.end_ms)
    formats = Counter[type]()
    for pos in valid:
        message = history.messages[pos]
        payload = orjson.loads(message.value)
        formats[type(payload["event_time"])] += 1
        series = index[message.key.decode()]
        day = (message.event_time_ms - history.start_ms) // DAY_MS
        if message.topic_kind == "orders":
            sign = {"sale": 1, "cancellation": -1, "return": 0}[payload["line_type"]]
            net[series, day] += sign * payload["quantity"]
        elif message.topic_kind == "inventory":
            if payload["kind"] == "shipment":
                shipped[series, day] += payload["delta"]
            elif payload["kind"] == "receipt":
                received[series, day] += payload["delta"]
            else:
                snapshots += 1
                if day == 0 and "lead_time_days" in payload:
                    assert payload["on_hand"] == sim.initial_on_hand[series]
                    assert payload["case_pack"] == catalog.case_pack[series]
    assert np.array_equal(net, sim.sales)  # cancellations net out against their extra sale
    assert np.array_equal(shipped, sim.sales)
    assert np.array_equal(received, sim.receipts)
    assert snapshots == catalog.n_series * (1 + catalog.days // 7)
    assert formats[int] > 0 and formats[str] > 0  # epoch ms and ISO strings both present


def test_line_types_and_click_ratio(history: SampleHistory) -> None:
    _, valid = _classify(history.messages, now_ms=history.end_ms)
    line_types = Counter[str]()
    actions = Counter[str]()
    for pos in valid:
        message = history.messages[pos]
        payload = orjson.loads(message.value)
        if message.topic_kind == "orders":
            line_types[payload["line_type"]] += 1
            assert payload["quantity"] >= 1
        elif message.topic_kind == "clicks":
            actions[payload["action"]] += 1
    assert line_types["cancellation"] > 0 and line_types["return"] > 0
    assert actions["purchase"] == line_types["sale"]
    assert set(actions) == {"view", "add_to_cart", "remove_from_cart", "purchase"}
    ratio = history.valid_counts["clicks"] / history.valid_counts["orders"]
    assert 5.0 < ratio < 11.0


def test_no_bad_input_when_fraction_zero(world: tuple[SyntheticCatalog, InventorySimulation]) -> None:
    catalog, sim = world
    clean = render_history(catalog, sim, seed=5, bad_fraction=0.0, clicks_per_line=2.0)
    assert clean.bad_total == 0
    found, valid = _classify(clean.messages, now_ms=clean.end_ms)
    assert not found and len(valid) == len(clean.messages)
    times = [m.event_time_ms for m in clean.messages]
    assert times == sorted(times)
    assert clean.valid_counts["clicks"] < clean.valid_counts["orders"] * 4


def test_start_ms_and_argument_errors(world: tuple[SyntheticCatalog, InventorySimulation]) -> None:
    catalog, sim = world
    assert day_start_ms(START) == int(datetime(2025, 3, 3, tzinfo=UTC).timestamp() * 1000)
    shifted = render_history(catalog, sim, seed=5, bad_fraction=0.0, start_ms=0)
    assert shifted.start_ms == 0 and min(m.event_time_ms for m in shifted.messages) >= 0
    with pytest.raises(SampleEventsError, match="bad_fraction"):
        render_history(catalog, sim, seed=5, bad_fraction=2.0)
    with pytest.raises(SampleEventsError, match="clicks_per_line"):
        render_history(catalog, sim, seed=5, clicks_per_line=-1)


def test_demo_history_volume() -> None:
    demo = demo_history(7, start_day=date(2025, 1, 1))
    assert 100_000 <= len(demo.messages) <= 300_000
    counts = count_by_kind(demo.messages)
    assert counts["clicks"] > counts["orders"] > 0 and counts["inventory"] > 0
    assert demo.end_ms - demo.start_ms == 150 * DAY_MS


def test_ingest_mix_ratio_keys_and_order() -> None:
    mix = ingest_mix(20_000, 500, seed=9)
    assert mix == ingest_mix(20_000, 500, seed=9)
    assert count_by_kind(mix) == {"orders": 2_000, "inventory": 2_000, "clicks": 16_000}
    keys = Counter(m.key for m in mix)
    assert len(keys) == 500
    ranked = [count for _, count in keys.most_common()]
    assert ranked[0] > 20 * ranked[-1]  # Zipf-like popularity
    times = [m.event_time_ms for m in mix]
    assert times == sorted(times) and times[-1] - times[0] > 2 * DAY_MS
    ids = set()
    for message in mix:
        payload = orjson.loads(message.value)
        assert _valid_payload(message.topic_kind, payload)
        assert message.key == f"{payload['sku']}|{payload['location']}".encode()
        assert payload["event_time"] == message.event_time_ms
        ids.add(payload["event_id"])
    assert len(ids) == len(mix)
    assert len({m.key for m in ingest_mix(100, 500, seed=1)}) == 100
