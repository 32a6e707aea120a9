"""Builds the dead-letter record for a Kafka message the worker refused."""

from __future__ import annotations

import hashlib

from schemas import DlqReason
from schemas.dead_letter import MAX_KEY_COPY_BYTES, DeadLetter, encode_dead_letter


def dead_letter_record(
    app_id: str,
    origin: tuple[str, int, int],
    key: bytes | None,
    value: bytes | None,
    reason: DlqReason,
    detail: str,
    event_id: str | None,
    max_copy_bytes: int,
) -> tuple[bytes | None, bytes]:
    """The dead letter's Kafka key and value for a message from ``origin`` (topic, partition, offset).

    Both always fit the dead-letter topic: a key or value too large to copy travels as size and SHA-256, and
    the record is keyed by the original key, or by its SHA-256 when that is too large.
    """
    topic, partition, offset = origin
    letter = DeadLetter.from_message(
        reason=reason, detail=detail, topic=topic, partition=partition, offset=offset, key=key, value=value,
        event_id=event_id, app_id=app_id, max_copy_bytes=max_copy_bytes,
    )  # fmt: skip
    if key is not None and len(key) > MAX_KEY_COPY_BYTES:
        key = hashlib.sha256(key).hexdigest().encode()
    return key, encode_dead_letter(letter)
