"""Helpers to build valid events for the stream-processing tests."""

from __future__ import annotations

from collections.abc import Callable
from itertools import count
from typing import Any

import orjson
import pytest

from schemas import decode_click, decode_inventory, decode_order
from schemas.validation import ValidationLimits
from streams.event_batch import InputEvent
from streams.state_codec import Topic

DAY_MS = 86_400_000
LIMITS = ValidationLimits(earliest_event_ms=0)  # the state tests count days from 1970; the floor has its own tests
NOW_MS = 4_102_444_800_000  # 2100-01-01: far-future checks never fire in these tests


def order_payload(event_id: str, t_ms: int, sku: str = "A", location: str = "L1", qty: int = 1, **kw: Any) -> dict:
    return {
        "schema_version": 1, "event_id": event_id, "event_time": t_ms, "sku": sku, "location": location,
        "line_type": "sale", "order_id": f"o-{event_id}", "original_order_id": None, "quantity": qty,
        "unit_price": 4.53, "currency": "GBP", "channel": "web", **kw,
    }  # fmt: skip


def inventory_payload(event_id: str, t_ms: int, sku: str = "A", location: str = "L1", **kw: Any) -> dict:
    return {"schema_version": 1, "event_id": event_id, "event_time": t_ms, "sku": sku, "location": location, **kw}


def click_payload(event_id: str, t_ms: int, sku: str = "A", location: str = "L1", action: str = "view") -> dict:
    return {
        "schema_version": 1, "event_id": event_id, "event_time": t_ms, "sku": sku, "location": location,
        "session_id": "s1", "action": action,
    }  # fmt: skip


_DECODERS = {Topic.ORDERS: decode_order, Topic.INVENTORY: decode_inventory, Topic.CLICKS: decode_click}


@pytest.fixture
def make_input() -> Callable[..., InputEvent]:
    offsets = {topic: count() for topic in Topic}

    def build(topic: Topic, payload: dict, offset: int | None = None) -> InputEvent:
        raw = orjson.dumps(payload)
        key = f"{payload['sku']}|{payload.get('location') or 'web'}".encode()
        event = _DECODERS[topic](raw, key, NOW_MS, LIMITS)
        assert not hasattr(event, "reason"), event
        return InputEvent(topic, next(offsets[topic]) if offset is None else offset, key, event.event_time_ms, event)

    return build
