"""The dead-letter record: why a message was refused, where it came from, and its original bytes.

The original value travels as base64 so that a message that is not even UTF-8 can be inspected and
replayed byte for byte once its producer is fixed.
"""

from __future__ import annotations

import base64
import binascii
from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from schemas.errors import DlqReason, SchemaError


class DeadLetter(BaseModel):
    """One refused input message."""

    model_config = ConfigDict(
        strict=True, frozen=True, extra="forbid", json_schema_serialization_defaults_required=True
    )

    schema_version: Literal[1] = 1
    reason: DlqReason
    detail: str = Field(description="What is wrong, naming the field and value, and what to do about it.")
    topic: str = Field(min_length=1)
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)
    key: str | None = Field(description="The message key, UTF-8 decoded with replacement characters.")
    value_b64: str | None = Field(description="The original value, base64; null for a tombstone.")
    event_id: str | None = Field(description="The event's id when it could be read.")
    app_id: str = Field(min_length=1, description="The application (consumer group) that refused it.")

    @classmethod
    def from_message(
        cls,
        *,
        reason: DlqReason,
        detail: str,
        topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        value: bytes | None,
        event_id: str | None,
        app_id: str,
    ) -> DeadLetter:
        """Build the record from the raw Kafka message fields."""
        return cls(
            reason=reason,
            detail=detail,
            topic=topic,
            partition=partition,
            offset=offset,
            key=None if key is None else key.decode("utf-8", "replace"),
            value_b64=None if value is None else base64.b64encode(value).decode("ascii"),
            event_id=event_id,
            app_id=app_id,
        )

    def original_value(self) -> bytes | None:
        """The refused value as it was produced, for inspection or replay."""
        if self.value_b64 is None:
            return None
        try:
            return base64.b64decode(self.value_b64, validate=True)
        except binascii.Error as exc:
            raise SchemaError(f"value_b64 is not valid base64: {exc}") from exc


def encode_dead_letter(letter: DeadLetter) -> bytes:
    """JSON with sorted keys, like every record restock produces."""
    return orjson.dumps(letter.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)


def decode_dead_letter(data: bytes) -> DeadLetter:
    """Read a record back from the dead-letter topic; raises :class:`SchemaError` on any defect."""
    try:
        return DeadLetter.model_validate_json(data)
    except ValidationError as exc:
        raise SchemaError(f"not a valid DeadLetter: {exc}") from exc
