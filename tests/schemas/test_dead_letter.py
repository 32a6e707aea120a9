from __future__ import annotations

import hashlib

import pytest

from schemas import DeadLetter, DlqReason, SchemaError, decode_dead_letter, encode_dead_letter


def _letter(
    key: bytes | None = b"SKU-1|store-7", value: bytes | None = b'{"quantity": 0}', **limits: int
) -> DeadLetter:
    return DeadLetter.from_message(
        reason=DlqReason.INVALID_QUANTITY,
        detail="OrderEvent.quantity: Input should be greater than 0 (got 0)",
        topic="restock.orders",
        partition=3,
        offset=42,
        key=key,
        value=value,
        event_id="ord-1",
        app_id="restock",
        **limits,
    )


def test_original_bytes_survive_even_when_not_utf8() -> None:
    value = b"\xff\xfe{not json"
    letter = _letter(key=b"SKU\xff|x", value=value)
    assert letter.key == "SKU\ufffd|x"
    assert letter.original_value() == value


def test_tombstones_and_missing_keys_are_null() -> None:
    letter = _letter(key=None, value=None)
    assert letter.key is None
    assert letter.value_b64 is None
    assert letter.original_value() is None


def test_round_trip_is_byte_identical() -> None:
    letter = _letter()
    data = encode_dead_letter(letter)
    assert decode_dead_letter(data) == letter
    assert encode_dead_letter(decode_dead_letter(data)) == data
    assert b'"reason":"invalid_quantity"' in data


def test_bad_base64_is_a_schema_error() -> None:
    letter = _letter().model_copy(update={"value_b64": "***"})
    with pytest.raises(SchemaError, match="not valid base64"):
        letter.original_value()


@pytest.mark.parametrize("data", [b"", b"{}", b'{"reason": "tired"}'])
def test_decode_dead_letter_raises_schema_error(data: bytes) -> None:
    with pytest.raises(SchemaError, match="not a valid DeadLetter"):
        decode_dead_letter(data)


def test_a_value_too_large_to_copy_travels_as_size_and_digest_and_the_record_stays_small() -> None:
    value = b"x" * 2_000_000
    letter = _letter(key=b"k" * 100_000, value=value, max_copy_bytes=1024)
    assert letter.value_b64 is None and letter.key is None
    assert (letter.value_size, letter.value_sha256) == (len(value), hashlib.sha256(value).hexdigest())
    assert (letter.key_size, letter.key_sha256) == (100_000, hashlib.sha256(b"k" * 100_000).hexdigest())
    assert not letter.value_copied
    assert len(encode_dead_letter(letter)) < 2_000
    with pytest.raises(SchemaError, match="offset 42"):
        letter.original_value()


def test_a_value_at_the_copy_limit_is_copied_whole() -> None:
    letter = _letter(value=b"y" * 1024, max_copy_bytes=1024)
    assert letter.value_copied and letter.original_value() == b"y" * 1024


def test_records_written_before_the_size_fields_still_decode() -> None:
    old = (
        b'{"app_id":"restock","detail":"d","event_id":null,"key":"A|L1","offset":1,"partition":0,'
        b'"reason":"late","schema_version":1,"topic":"t","value_b64":"e30="}'
    )
    assert decode_dead_letter(old).original_value() == b"{}"
