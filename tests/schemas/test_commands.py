from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta, timezone

import orjson
import pytest
from pydantic import ValidationError

from schemas import QUANTILE_LEVELS, SchemaError, command_id, decode_command, encode_command
from tests.schemas.payloads import reorder_command

WINDOW = date(2024, 6, 1)


def test_command_id_is_the_sha256_prefix_of_the_decision() -> None:
    expected = hashlib.sha256(b"SKU-1|store-7|out-v1|2024-06-01").hexdigest()[:32]
    assert command_id("SKU-1", "store-7", "out-v1", WINDOW) == expected
    assert command_id("SKU-1", "store-7", "out-v1", date(2024, 6, 1)) == expected


@pytest.mark.parametrize(
    "changed",
    [
        ("SKU-2", "store-7", "out-v1", WINDOW),
        ("SKU-1", "store-8", "out-v1", WINDOW),
        ("SKU-1", "store-7", "out-v2", WINDOW),
        ("SKU-1", "store-7", "out-v1", WINDOW + timedelta(days=1)),
    ],
)
def test_command_id_changes_with_every_input(changed: tuple[str, str, str, date]) -> None:
    assert command_id(*changed) != command_id("SKU-1", "store-7", "out-v1", WINDOW)


def test_command_id_refuses_a_datetime_window() -> None:
    with pytest.raises(SchemaError, match=r"pass its \.date\(\)"):
        command_id("SKU-1", "store-7", "out-v1", datetime(2024, 6, 1, tzinfo=UTC))


def test_floats_are_rounded_to_four_decimals() -> None:
    command = reorder_command()
    assert command.reorder_point == 30.1235
    assert command.safety_stock == 6.6543
    assert command.order_up_to == 46.0


def test_integers_are_accepted_for_float_fields_and_stored_as_floats() -> None:
    command = reorder_command(order_up_to=46)
    assert isinstance(command.order_up_to, float)


def test_datetimes_are_normalised_to_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    command = reorder_command(created_at=datetime(2024, 6, 1, 8, 0, 3, tzinfo=plus_two))
    assert command.created_at == datetime(2024, 6, 1, 6, 0, 3, tzinfo=UTC)
    assert command.created_at.tzinfo is UTC


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        reorder_command(decision_time=datetime(2024, 6, 1, 6))


def test_command_id_must_match_the_decision() -> None:
    with pytest.raises(ValidationError, match=r"build it with schemas\.command_id"):
        reorder_command(command_id=command_id("SKU-1", "store-7", "out-v1", WINDOW + timedelta(days=1)))


@pytest.mark.parametrize("quantity", [0, -1])
def test_quantity_must_be_positive(quantity: int) -> None:
    with pytest.raises(ValidationError):
        reorder_command(quantity=quantity)


def test_every_quantile_level_is_required() -> None:
    forecast = reorder_command().forecast
    partial = {level: value for level, value in forecast.quantiles.items() if level != "0.99"}
    with pytest.raises(ValidationError, match=r"lacks levels \['0.99'\]"):
        forecast.model_validate({**forecast.model_dump(), "quantiles": partial})


def test_encoding_has_sorted_keys_and_all_fields() -> None:
    data = encode_command(reorder_command())
    document = orjson.loads(data)
    assert list(document) == sorted(document)
    assert list(document["forecast"]) == sorted(document["forecast"])
    assert list(document["forecast"]["quantiles"]) == list(QUANTILE_LEVELS)
    assert document["created_at"] == "2024-06-01T06:00:03Z"
    assert document["need_by"] == "2024-06-09"
    assert document["schema_version"] == 1
    assert document["unit"] == "each"


def test_round_trip_is_byte_identical() -> None:
    command = reorder_command()
    data = encode_command(command)
    decoded = decode_command(data)
    assert decoded == command
    assert encode_command(decoded) == data


def test_the_same_decision_encodes_to_the_same_bytes() -> None:
    assert encode_command(reorder_command()) == encode_command(reorder_command())


@pytest.mark.parametrize(
    "data",
    [b"", b"not json", b"[]", b'{"schema_version": 1}', orjson.dumps({"schema_version": 2})],
)
def test_decode_command_raises_schema_error(data: bytes) -> None:
    with pytest.raises(SchemaError, match="not a valid ReorderCommand"):
        decode_command(data)


def test_decode_command_refuses_a_tampered_id() -> None:
    document = orjson.loads(encode_command(reorder_command()))
    document["quantity"] = 48
    assert decode_command(orjson.dumps(document)).quantity == 48
    document["location"] = "store-8"
    with pytest.raises(SchemaError, match="does not match"):
        decode_command(orjson.dumps(document))
