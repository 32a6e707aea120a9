from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import (
    BaseEvent,
    ClickEvent,
    DlqReason,
    InventoryEvent,
    OrderEvent,
    Rejection,
    SchemaError,
    ValidationLimits,
    decode_click,
    decode_inventory,
    decode_order,
)
from tests.schemas.payloads import KEY, LIMITS, NOW_MS, OMIT, click, encode, inventory, order

Decoder = Callable[[bytes | None, bytes | None, int, ValidationLimits], BaseEvent | Rejection]
DECODERS: list[Decoder] = [decode_order, decode_inventory, decode_click]


def _rejected(result: BaseEvent | Rejection) -> Rejection:
    assert isinstance(result, Rejection), f"expected a rejection, got {result!r}"
    return result


def test_valid_order_with_iso_time() -> None:
    event = decode_order(encode(order()), KEY, NOW_MS, LIMITS)
    assert isinstance(event, OrderEvent)
    assert event.event_time_ms == NOW_MS - 60_000


def test_valid_inventory_with_epoch_time() -> None:
    event = decode_inventory(encode(inventory()), KEY, NOW_MS, LIMITS)
    assert isinstance(event, InventoryEvent)
    assert event.event_time_ms == NOW_MS - 60_000


def test_valid_click_keyed_by_the_default_location() -> None:
    event = decode_click(encode(click()), b"SKU-1|web", NOW_MS, LIMITS)
    assert isinstance(event, ClickEvent)
    other = ValidationLimits(click_default_location="online")
    assert isinstance(decode_click(encode(click()), b"SKU-1|online", NOW_MS, other), ClickEvent)


def test_valid_click_with_a_location_uses_it_in_the_key() -> None:
    assert isinstance(decode_click(encode(click(location="store-7")), KEY, NOW_MS, LIMITS), ClickEvent)


@pytest.mark.parametrize("event_time", [-1, 0, 946_684_799_999, "1970-01-01T00:00:00Z", "1999-12-31T23:59:59+00:00"])
def test_an_event_before_the_earliest_plausible_time_is_ancient(event_time: int | str) -> None:
    rejection = _rejected(decode_order(encode(order(event_time=event_time)), KEY, NOW_MS, LIMITS))
    assert rejection.reason is DlqReason.ANCIENT_TIMESTAMP
    assert "before earliest_event_time=2000-01-01T00:00:00+00:00" in rejection.detail
    assert rejection.event_id is not None
    assert isinstance(decode_order(encode(order(event_time=946_684_800_000)), KEY, NOW_MS, LIMITS), OrderEvent)


def test_an_event_exactly_at_the_future_limit_passes() -> None:
    at_limit = encode(order(event_time=NOW_MS + LIMITS.max_future_ms))
    assert isinstance(decode_order(at_limit, KEY, NOW_MS, LIMITS), OrderEvent)


def test_quantities_at_the_limits_pass() -> None:
    assert isinstance(decode_order(encode(order(quantity=10_000)), KEY, NOW_MS, LIMITS), OrderEvent)
    snapshot = inventory(kind="snapshot", delta=OMIT, on_hand=LIMITS.max_stock, on_order=LIMITS.max_stock)
    assert isinstance(decode_inventory(encode(snapshot), KEY, NOW_MS, LIMITS), InventoryEvent)


ORDER_CASES: list[tuple[str, bytes | None, DlqReason, str | None]] = [
    ("none", None, DlqReason.MALFORMED_JSON, None),
    ("empty", b"", DlqReason.MALFORMED_JSON, None),
    ("not json", b"{'event_id': 'ord-1'}", DlqReason.MALFORMED_JSON, None),
    ("not utf-8", b'{"event_id": "\xff"}', DlqReason.MALFORMED_JSON, None),
    ("an array", b'["ord-1"]', DlqReason.MALFORMED_JSON, None),
    ("a number", b"3", DlqReason.MALFORMED_JSON, None),
    ("oversized", b'{"event_id": "ord-1", "pad": "' + b"x" * 70_000 + b'"}', DlqReason.OVERSIZED, None),
    ("no schema_version", encode(order(schema_version=OMIT)), DlqReason.MISSING_FIELD, "ord-1"),
    ("schema_version 2", encode(order(schema_version=2)), DlqReason.UNKNOWN_SCHEMA_VERSION, "ord-1"),
    ("schema_version '1'", encode(order(schema_version="1")), DlqReason.UNKNOWN_SCHEMA_VERSION, "ord-1"),
    (
        "v2 with new fields",
        encode(order(schema_version=2, quantity=OMIT, units=2)),
        DlqReason.UNKNOWN_SCHEMA_VERSION,
        "ord-1",
    ),
    ("no quantity", encode(order(quantity=OMIT)), DlqReason.MISSING_FIELD, "ord-1"),
    ("no event_id", encode(order(event_id=OMIT)), DlqReason.MISSING_FIELD, None),
    ("quantity '3'", encode(order(quantity="3")), DlqReason.WRONG_TYPE, "ord-1"),
    ("quantity 3.0", encode(order(quantity=3.0)), DlqReason.WRONG_TYPE, "ord-1"),
    ("event_time float", encode(order(event_time=1.7e12)), DlqReason.WRONG_TYPE, "ord-1"),
    ("event_id int", encode(order(event_id=7)), DlqReason.WRONG_TYPE, None),
    ("naive time", encode(order(event_time="2024-06-01T11:59:00")), DlqReason.INVALID_VALUE, "ord-1"),
    ("line_type", encode(order(line_type="refund")), DlqReason.INVALID_VALUE, "ord-1"),
    ("currency", encode(order(currency="euro")), DlqReason.INVALID_VALUE, "ord-1"),
    ("sku with |", encode(order(sku="SKU|1")), DlqReason.INVALID_VALUE, "ord-1"),
    ("unknown field", encode(order(coupon="X")), DlqReason.INVALID_VALUE, "ord-1"),
    ("nan price", encode(order(unit_price=float("nan"))), DlqReason.INVALID_VALUE, "ord-1"),
    ("original on sale", encode(order(original_order_id="o-0")), DlqReason.INVALID_VALUE, "ord-1"),
    ("zero quantity", encode(order(quantity=0)), DlqReason.INVALID_QUANTITY, "ord-1"),
    ("negative quantity", encode(order(line_type="return", quantity=-2)), DlqReason.INVALID_QUANTITY, "ord-1"),
    ("absurd quantity", encode(order(quantity=10_001)), DlqReason.ABSURD_QUANTITY, "ord-1"),
    ("huge quantity", encode(order(quantity=10**30)), DlqReason.ABSURD_QUANTITY, "ord-1"),
    ("future", encode(order(event_time=NOW_MS + LIMITS.max_future_ms + 1)), DlqReason.FUTURE_TIMESTAMP, "ord-1"),
    ("micros", encode(order(event_time=NOW_MS * 1000)), DlqReason.INVALID_VALUE, "ord-1"),
]


@pytest.mark.parametrize(
    ("raw", "reason", "event_id"), [case[1:] for case in ORDER_CASES], ids=[case[0] for case in ORDER_CASES]
)
def test_order_rejections(raw: bytes | None, reason: DlqReason, event_id: str | None) -> None:
    rejection = _rejected(decode_order(raw, KEY, NOW_MS, LIMITS))
    assert rejection.reason is reason
    assert rejection.event_id == event_id
    assert rejection.detail


INVENTORY_CASES: list[tuple[str, dict[str, Any], DlqReason]] = [
    ("snapshot without on_hand", {"kind": "snapshot", "delta": OMIT}, DlqReason.MISSING_FIELD),
    ("snapshot with delta", {"kind": "snapshot", "on_hand": 5}, DlqReason.INVALID_VALUE),
    ("receipt with on_hand", {"on_hand": 5}, DlqReason.INVALID_VALUE),
    ("receipt without delta", {"delta": OMIT}, DlqReason.MISSING_FIELD),
    ("zero receipt", {"delta": 0}, DlqReason.INVALID_QUANTITY),
    ("negative shipment", {"kind": "shipment", "delta": -4}, DlqReason.INVALID_QUANTITY),
    ("zero adjustment", {"kind": "adjustment", "delta": 0}, DlqReason.INVALID_QUANTITY),
    ("negative on_order", {"on_order": -1}, DlqReason.INVALID_QUANTITY),
    ("zero case_pack", {"case_pack": 0}, DlqReason.INVALID_VALUE),
    ("delta as string", {"delta": "24"}, DlqReason.WRONG_TYPE),
    ("absurd receipt", {"delta": 10_001}, DlqReason.ABSURD_QUANTITY),
    ("absurd adjustment", {"kind": "adjustment", "delta": -10_001}, DlqReason.ABSURD_QUANTITY),
    ("absurd on_hand", {"kind": "snapshot", "delta": OMIT, "on_hand": 1_000_001}, DlqReason.ABSURD_QUANTITY),
    ("absurd on_order", {"on_order": 1_000_001}, DlqReason.ABSURD_QUANTITY),
    ("absurd backorders", {"backorders": 1_000_001}, DlqReason.ABSURD_QUANTITY),
    ("future", {"event_time": "2024-06-03T12:00:00Z"}, DlqReason.FUTURE_TIMESTAMP),
]


@pytest.mark.parametrize(
    ("changes", "reason"), [case[1:] for case in INVENTORY_CASES], ids=[case[0] for case in INVENTORY_CASES]
)
def test_inventory_rejections(changes: dict[str, Any], reason: DlqReason) -> None:
    rejection = _rejected(decode_inventory(encode(inventory(**changes)), KEY, NOW_MS, LIMITS))
    assert rejection.reason is reason
    assert rejection.event_id == "inv-1"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"action": "hover"}, DlqReason.INVALID_VALUE),
        ({"session_id": OMIT}, DlqReason.MISSING_FIELD),
        ({"location": 7}, DlqReason.WRONG_TYPE),
        ({"location": ""}, DlqReason.INVALID_VALUE),
    ],
)
def test_click_rejections(changes: dict[str, Any], reason: DlqReason) -> None:
    rejection = _rejected(decode_click(encode(click(**changes)), b"SKU-1|web", NOW_MS, LIMITS))
    assert (rejection.reason, rejection.event_id) == (reason, "clk-1")


@pytest.mark.parametrize("key", [None, b"", b"SKU-1|store-8", b"SKU-1|store-7 ", b"sku-1|store-7"])
@pytest.mark.parametrize("decoder", DECODERS)
def test_key_mismatch(decoder: Decoder, key: bytes | None) -> None:
    payload = {decode_order: order, decode_inventory: inventory, decode_click: click}[decoder](location="store-7")
    assert isinstance(decoder(encode(payload), KEY, NOW_MS, LIMITS), BaseEvent)
    rejection = _rejected(decoder(encode(payload), key, NOW_MS, LIMITS))
    assert rejection.reason is DlqReason.KEY_MISMATCH
    assert rejection.event_id == payload["event_id"]


def test_a_click_keyed_by_its_default_location_needs_that_key() -> None:
    rejection = _rejected(decode_click(encode(click()), KEY, NOW_MS, LIMITS))
    assert rejection.reason is DlqReason.KEY_MISMATCH
    assert "'SKU-1|web'" in rejection.detail


def test_oversize_is_checked_before_parsing() -> None:
    limits = ValidationLimits(max_message_bytes=256)
    raw = encode(order(channel="w" * 32, event_id="e" * 128, order_id="o" * 128))
    assert len(raw) > 256
    assert _rejected(decode_order(raw, KEY, NOW_MS, limits)).reason is DlqReason.OVERSIZED


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (encode(order(quantity="3")), ["quantity", "'3'", "integers unquoted"]),
        (encode(order(quantity=0)), ["quantity", "got 0", "> 0"]),
        (encode(order(quantity=20_000)), ["quantity=20000", "10000", "max_quantity"]),
        (encode(order(event_time="2024-06-01T11:59:00")), ["event_time", "2024-06-01T11:59:00", "append 'Z'"]),
        (encode(order(event_time=NOW_MS * 1000)), ["event_time", "1717243200000000", "microseconds"]),
        (encode(order(event_time=NOW_MS + 10**9)), ["event_time", "1000000000 ms ahead", "clock"]),
        (encode(order(schema_version=3)), ["schema_version", "got 3", "version 1"]),
        (encode(order(currency=OMIT)), ["currency", "Field required", "add the field"]),
        (b"{", ["Invalid JSON", "JSON object"]),
    ],
)
def test_details_name_field_value_and_remedy(raw: bytes, words: list[str]) -> None:
    detail = _rejected(decode_order(raw, KEY, NOW_MS, LIMITS)).detail
    for word in words:
        assert word in detail


def test_details_of_hostile_values_stay_short() -> None:
    detail = _rejected(decode_order(encode(order(currency="X" * 10_000)), KEY, NOW_MS, LIMITS)).detail
    assert len(detail) < 300


@pytest.mark.parametrize(
    "changes",
    [
        {"max_message_bytes": 0},
        {"max_quantity": 0},
        {"max_future_ms": -1},
        {"click_default_location": ""},
        {"click_default_location": "a|b"},
    ],
)
def test_limits_refuse_nonsense(changes: dict[str, Any]) -> None:
    with pytest.raises(SchemaError, match=next(iter(changes))):
        ValidationLimits(**changes)


def test_stock_limit_scales_with_max_quantity() -> None:
    assert ValidationLimits(max_quantity=50).max_stock == 5_000


@settings(max_examples=300, deadline=None)
@given(raw=st.one_of(st.none(), st.binary(max_size=300)), key=st.one_of(st.none(), st.binary(max_size=40)))
def test_decoders_never_raise_on_arbitrary_bytes(raw: bytes | None, key: bytes | None) -> None:
    for decoder in DECODERS:
        assert isinstance(decoder(raw, key, NOW_MS, LIMITS), BaseEvent | Rejection)


_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(["2024-06-01T11:59:00Z", "2024-06-01T11:59:00", "snapshot", "sale", "SKU|1"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    now_ms=st.integers(min_value=-(2**63), max_value=2**63),
    make=st.sampled_from([(decode_order, order), (decode_inventory, inventory), (decode_click, click)]),
)
def test_decoders_never_raise_on_almost_valid_json(
    data: st.DataObject, now_ms: int, make: tuple[Decoder, Callable[..., dict[str, Any]]]
) -> None:
    decoder, payload = make
    document = payload()
    names = data.draw(st.lists(st.sampled_from([*document, "extra"]), max_size=3))
    changes = {name: data.draw(_JSON_VALUES | st.just(OMIT)) for name in names}
    raw = encode(payload(**changes))
    assert isinstance(decoder(raw, KEY, now_ms, LIMITS), BaseEvent | Rejection)
