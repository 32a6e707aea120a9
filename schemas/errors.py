"""The one exception base of ``schemas`` and the dead-letter reasons every part of restock shares."""

from __future__ import annotations

from enum import StrEnum


class SchemaError(ValueError):
    """Bytes or values that break a restock contract.

    A ``ValueError`` so that callers already guarding conversions catch it without knowing this package.
    """


class DlqReason(StrEnum):
    """Why a message was sent to the dead-letter topic; the values are the wire strings of ``DeadLetter``.

    ``duplicate``, ``late`` and ``wrong_partition`` are decided by ``streams``; every other reason by
    ``schemas.validation``.
    """

    MALFORMED_JSON = "malformed_json"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    INVALID_VALUE = "invalid_value"
    UNKNOWN_SCHEMA_VERSION = "unknown_schema_version"
    INVALID_QUANTITY = "invalid_quantity"
    ABSURD_QUANTITY = "absurd_quantity"
    FUTURE_TIMESTAMP = "future_timestamp"
    ANCIENT_TIMESTAMP = "ancient_timestamp"
    OVERSIZED = "oversized"
    KEY_MISMATCH = "key_mismatch"
    WRONG_PARTITION = "wrong_partition"
    DUPLICATE = "duplicate"
    LATE = "late"
