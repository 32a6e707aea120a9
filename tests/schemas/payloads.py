"""Valid payloads of each contract, to be broken one field at a time by the tests."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from schemas import ForecastSummary, ReorderCommand, ValidationLimits, command_id

NOW_MS = 1_717_243_200_000  # 2024-06-01T12:00:00Z
LIMITS = ValidationLimits()
KEY = b"SKU-1|store-7"
OMIT = object()


def order(**changes: Any) -> dict[str, Any]:
    return _apply(
        {
            "schema_version": 1,
            "event_id": "ord-1",
            "event_time": "2024-06-01T11:59:00Z",
            "sku": "SKU-1",
            "location": "store-7",
            "line_type": "sale",
            "order_id": "o-1",
            "original_order_id": None,
            "quantity": 2,
            "unit_price": 9.99,
            "currency": "EUR",
            "channel": "web",
        },
        changes,
    )


def inventory(**changes: Any) -> dict[str, Any]:
    return _apply(
        {
            "schema_version": 1,
            "event_id": "inv-1",
            "event_time": NOW_MS - 60_000,
            "sku": "SKU-1",
            "location": "store-7",
            "kind": "receipt",
            "delta": 24,
            "on_order": 0,
            "command_id": "0123456789abcdef0123456789abcdef",
            "lead_time_days": 3.5,
            "case_pack": 12,
        },
        changes,
    )


def click(**changes: Any) -> dict[str, Any]:
    return _apply(
        {
            "schema_version": 1,
            "event_id": "clk-1",
            "event_time": NOW_MS,
            "sku": "SKU-1",
            "location": None,
            "session_id": "sess-1",
            "action": "add_to_cart",
        },
        changes,
    )


def encode(payload: dict[str, Any]) -> bytes:
    # json, not orjson: the tests need integers beyond 64 bits and NaN.
    return json.dumps(payload).encode()


def reorder_command(**changes: Any) -> ReorderCommand:
    window = date(2024, 6, 1)
    fields: dict[str, Any] = {
        "command_id": command_id("SKU-1", "store-7", "out-v1", window),
        "sku": "SKU-1",
        "location": "store-7",
        "quantity": 36,
        "order_type": "purchase",
        "need_by": date(2024, 6, 9),
        "decision_window": window,
        "decision_time": datetime(2024, 6, 1, 6, tzinfo=UTC),
        "created_at": datetime(2024, 6, 1, 6, 0, 3, tzinfo=UTC),
        "inventory_position": 10,
        "on_hand": 8,
        "on_order": 0,
        "backorders": 0,
        "pending_quantity": 2,
        "reorder_point": 30.123456,
        "order_up_to": 46.0,
        "safety_stock": 6.654321,
        "forecast": ForecastSummary(
            protection_days=8.5,
            mean=34.0,
            std=4.2,
            quantiles={"0.5": 34.0, "0.9": 39.38, "0.95": 40.91, "0.99": 43.77},
            daily_mean=4.0,
            method="moving_average",
        ),
        "service_level": 0.95,
        "lead_time_days": 7.5,
        "lead_time_std_days": 0.0,
        "review_days": 1,
        "case_pack": 12,
        "moq": 24,
        "rule": "rounded_to_case_pack",
        "reason": "inventory position 10 < reorder point 30.12: order up to 46, 36 units in cases of 12",
        "model_version": "moving_average-28d",
        "policy_version": "out-v1",
    }
    fields.update(changes)
    return ReorderCommand(**fields)


def _apply(payload: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    payload.update(changes)
    return {name: value for name, value in payload.items() if value is not OMIT}
