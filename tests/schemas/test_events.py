from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from schemas import ClickEvent, DlqReason, InventoryEvent, OrderEvent, make_key, to_epoch_ms
from tests.schemas.payloads import NOW_MS, OMIT, click, encode, inventory, order


def _error_type(model: type[OrderEvent | InventoryEvent | ClickEvent], payload: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        model.model_validate_json(encode(payload))
    return caught.value.errors()[0]["type"]


@pytest.mark.parametrize(
    ("event_time", "expected"),
    [
        ("2024-06-01T11:59:00Z", datetime(2024, 6, 1, 11, 59, tzinfo=UTC)),
        ("2024-06-01T13:59:00+02:00", datetime(2024, 6, 1, 11, 59, tzinfo=UTC)),
        ("2024-06-01T11:59:00.123456+00:00", datetime(2024, 6, 1, 11, 59, 0, 123456, tzinfo=UTC)),
        (NOW_MS, datetime(2024, 6, 1, 12, tzinfo=UTC)),
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
    ],
)
def test_event_time_is_stored_as_utc(event_time: object, expected: datetime) -> None:
    event = OrderEvent.model_validate_json(encode(order(event_time=event_time)))
    assert event.event_time == expected
    assert event.event_time.tzinfo is UTC
    assert event.event_time_ms == to_epoch_ms(expected)


def test_event_time_ms_floors_to_the_millisecond() -> None:
    event = OrderEvent.model_validate_json(encode(order(event_time="1970-01-01T00:00:00.0019Z")))
    assert event.event_time_ms == 1


@pytest.mark.parametrize(
    ("event_time", "error"),
    [
        ("2024-06-01T11:59:00", "invalid_value"),
        ("2024-06-01", "invalid_value"),
        ("yesterday", "invalid_value"),
        (10**20, "invalid_value"),
        (1.7e12, "wrong_type"),
        (True, "wrong_type"),
        (None, "wrong_type"),
    ],
)
def test_bad_event_time(event_time: object, error: str) -> None:
    assert _error_type(OrderEvent, order(event_time=event_time)) == error


def test_naive_timestamp_message_says_what_to_do() -> None:
    with pytest.raises(ValidationError, match="no UTC offset; append 'Z'"):
        OrderEvent.model_validate_json(encode(order(event_time="2024-06-01T11:59:00")))


def test_order_event_fields_and_key() -> None:
    event = OrderEvent.model_validate_json(encode(order()))
    assert (event.sku, event.location, event.line_type, event.quantity) == ("SKU-1", "store-7", "sale", 2)
    assert event.key == "SKU-1|store-7" == make_key("SKU-1", "store-7")


@pytest.mark.parametrize("line_type", ["cancellation", "return"])
def test_cancellations_and_returns_may_name_the_original_order(line_type: str) -> None:
    event = OrderEvent.model_validate_json(encode(order(line_type=line_type, original_order_id="o-0")))
    assert event.original_order_id == "o-0"


def test_original_order_id_is_forbidden_on_a_sale() -> None:
    assert _error_type(OrderEvent, order(original_order_id="o-0")) == DlqReason.INVALID_VALUE


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"quantity": "3"}, "int_type"),
        ({"quantity": 3.0}, "int_type"),
        ({"quantity": True}, "int_type"),
        ({"unit_price": "9.99"}, "float_type"),
        ({"sku": 7}, "string_type"),
        ({"schema_version": 2}, "literal_error"),
        ({"quantity": 0}, "greater_than"),
        ({"currency": "eur"}, "string_pattern_mismatch"),
        ({"sku": "a|b"}, "string_pattern_mismatch"),
        ({"sku": ""}, "string_too_short"),
        ({"event_id": "x" * 129}, "string_too_long"),
        ({"unit_price": float("nan")}, "finite_number"),
        ({"order_id": OMIT}, "missing"),
        ({"coupon": "X"}, "extra_forbidden"),
    ],
)
def test_order_event_is_strict(changes: dict[str, Any], error: str) -> None:
    assert _error_type(OrderEvent, order(**changes)) == error


def test_an_integer_price_is_a_valid_float() -> None:
    assert OrderEvent.model_validate_json(encode(order(unit_price=10))).unit_price == 10.0


@pytest.mark.parametrize(
    "changes",
    [
        {"kind": "snapshot", "delta": OMIT, "on_hand": 0},
        {"kind": "receipt", "delta": 1},
        {"kind": "shipment", "delta": 5},
        {"kind": "adjustment", "delta": -3},
        {"kind": "adjustment", "delta": 3, "backorders": 4, "shelf_capacity": 80, "moq": 6},
    ],
)
def test_valid_inventory_events(changes: dict[str, Any]) -> None:
    event = InventoryEvent.model_validate_json(encode(inventory(**changes)))
    assert event.kind == changes["kind"]
    assert event.key == "SKU-1|store-7"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"kind": "snapshot", "delta": OMIT}, DlqReason.MISSING_FIELD),
        ({"kind": "snapshot", "on_hand": 5}, DlqReason.INVALID_VALUE),
        ({"kind": "receipt", "on_hand": 5}, DlqReason.INVALID_VALUE),
        ({"kind": "shipment", "delta": OMIT}, DlqReason.MISSING_FIELD),
        ({"kind": "receipt", "delta": 0}, DlqReason.INVALID_QUANTITY),
        ({"kind": "shipment", "delta": -2}, DlqReason.INVALID_QUANTITY),
        ({"kind": "adjustment", "delta": 0}, DlqReason.INVALID_QUANTITY),
        ({"kind": "snapshot", "delta": OMIT, "on_hand": -1}, "greater_than_equal"),
        ({"case_pack": 0}, "greater_than_equal"),
        ({"lead_time_days": 0}, "greater_than"),
        ({"kind": "recount"}, "literal_error"),
    ],
)
def test_inventory_rules_per_kind(changes: dict[str, Any], error: str) -> None:
    assert _error_type(InventoryEvent, inventory(**changes)) == error


def test_click_without_location_is_keyed_by_the_default() -> None:
    event = ClickEvent.model_validate_json(encode(click(location=OMIT)))
    assert event.location is None
    assert event.key_for("web") == "SKU-1|web"


def test_click_with_location_keeps_it() -> None:
    event = ClickEvent.model_validate_json(encode(click(location="store-7")))
    assert event.key_for("web") == "SKU-1|store-7"


def test_events_are_frozen_and_hashable() -> None:
    event = OrderEvent.model_validate_json(encode(order()))
    with pytest.raises(ValidationError):
        event.quantity = 5  # type: ignore[misc]  # frozen: the assignment itself is what is tested
    assert hash(event) == hash(OrderEvent.model_validate_json(encode(order())))


def test_cached_event_time_ms_does_not_leak_into_equality_or_dumps() -> None:
    first = OrderEvent.model_validate_json(encode(order()))
    second = OrderEvent.model_validate_json(encode(order()))
    assert first.event_time_ms > 0
    assert first == second
    assert "event_time_ms" not in first.model_dump()


@pytest.mark.parametrize("payload", [order(), inventory(), click()])
def test_events_survive_their_own_json(payload: dict[str, Any]) -> None:
    model = {"ord-1": OrderEvent, "inv-1": InventoryEvent, "clk-1": ClickEvent}[payload["event_id"]]
    event = model.model_validate_json(encode(payload))
    assert model.model_validate_json(event.model_dump_json()) == event


def test_events_can_be_built_in_python_with_aware_datetimes() -> None:
    plus_two = timezone(timedelta(hours=2))
    fields = {**order(), "event_time": datetime(2024, 6, 1, 13, 59, tzinfo=plus_two)}
    event = OrderEvent(**fields)
    assert event.event_time == datetime(2024, 6, 1, 11, 59, tzinfo=UTC)
    assert event.event_time.tzinfo is UTC
    with pytest.raises(ValidationError, match="no UTC offset"):
        OrderEvent(**{**fields, "event_time": datetime(2024, 6, 1, 11, 59)})
