"""Builds the dead-letter record for a Kafka message the worker refused."""

from __future__ import annotations

from typing import Any

from schemas import DlqReason
from schemas.dead_letter import DeadLetter, encode_dead_letter


def dead_letter_bytes(app_id: str, message: Any, reason: DlqReason, detail: str, event_id: str | None) -> bytes:
    """The DLQ payload for a Faust message: original bytes, origin, reason and a readable detail."""
    letter = DeadLetter.from_message(
        reason=reason,
        detail=detail,
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key,
        value=message.value,
        event_id=event_id,
        app_id=app_id,
    )
    return encode_dead_letter(letter)
