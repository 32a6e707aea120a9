from __future__ import annotations

from schemas import DlqReason, SchemaError


def test_reasons_are_exactly_the_contract() -> None:
    assert {reason.value for reason in DlqReason} == {
        "malformed_json",
        "missing_field",
        "wrong_type",
        "invalid_value",
        "unknown_schema_version",
        "invalid_quantity",
        "absurd_quantity",
        "future_timestamp",
        "ancient_timestamp",
        "oversized",
        "key_mismatch",
        "wrong_partition",
        "duplicate",
        "late",
    }


def test_reasons_are_their_wire_strings() -> None:
    assert DlqReason.KEY_MISMATCH == "key_mismatch"
    assert f"{DlqReason.LATE}" == "late"


def test_schema_error_is_a_value_error() -> None:
    assert issubclass(SchemaError, ValueError)
