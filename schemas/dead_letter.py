"""The dead-letter record: why a message was refused, where it came from, and its original bytes.

The original value travels as base64 so that a message that is not even UTF-8 can be inspected and
replayed byte for byte once its producer is fixed. A dead letter must always fit the dead-letter topic,
whatever was refused: a value above ``max_copy_bytes`` (or a key above ``MAX_KEY_COPY_BYTES``) travels as its
size and SHA-256 only, and the record's topic, partition and offset point at the original, which stays in
its input topic.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from schemas.errors import DlqReason, SchemaError

DEFAULT_MAX_COPY_BYTES = 256 * 1024
"""Largest value copied into a dead letter: base64 makes it 4/3 larger, well inside Kafka's 1 MiB default."""

MAX_KEY_COPY_BYTES = 1024
"""Largest key copied into a dead letter (a valid key is at most 2 x 64 characters and a separator)."""

MAX_DETAIL_CHARS = 2000


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
    key: str | None = Field(
        description="The message key, UTF-8 decoded with replacement characters; null for no key or a key too "
        "large to copy (see key_size, key_sha256)."
    )
    value_b64: str | None = Field(
        description="The original value, base64; null for a tombstone or a value too large to copy (see "
        "value_size and value_sha256: the original stays at topic/partition/offset)."
    )
    event_id: str | None = Field(description="The event's id when it could be read.")
    app_id: str = Field(min_length=1, description="The application (consumer group) that refused it.")
    key_size: int | None = Field(default=None, ge=0, description="Bytes of the original key; null without a key.")
    key_sha256: str | None = Field(default=None, description="SHA-256 (hex) of the original key.")
    value_size: int | None = Field(default=None, ge=0, description="Bytes of the original value; null for a tombstone.")
    value_sha256: str | None = Field(default=None, description="SHA-256 (hex) of the original value.")

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
        max_copy_bytes: int = DEFAULT_MAX_COPY_BYTES,
    ) -> DeadLetter:
        """Build the record from the raw Kafka message fields; large keys and values become references."""
        return cls(
            reason=reason,
            detail=detail if len(detail) <= MAX_DETAIL_CHARS else detail[: MAX_DETAIL_CHARS - 3] + "...",
            topic=topic,
            partition=partition,
            offset=offset,
            key=None if key is None or len(key) > MAX_KEY_COPY_BYTES else key.decode("utf-8", "replace"),
            value_b64=None if value is None or len(value) > max_copy_bytes else base64.b64encode(value).decode("ascii"),
            event_id=event_id,
            app_id=app_id,
            key_size=None if key is None else len(key),
            key_sha256=None if key is None else hashlib.sha256(key).hexdigest(),
            value_size=None if value is None else len(value),
            value_sha256=None if value is None else hashlib.sha256(value).hexdigest(),
        )

    @property
    def value_copied(self) -> bool:
        """Whether the record holds the whole original value (a tombstone counts: there is nothing to hold)."""
        return self.value_b64 is not None or self.value_size is None

    def original_value(self) -> bytes | None:
        """The refused value as it was produced, for inspection or replay.

        Raises :class:`SchemaError` when the value was too large to copy: read it at topic/partition/offset.
        """
        if self.value_b64 is None:
            if self.value_size is not None:
                raise SchemaError(
                    f"the {self.value_size:,}-byte value was not copied into the dead letter; read it from "
                    f"{self.topic} partition {self.partition} offset {self.offset} (sha256 {self.value_sha256})"
                )
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
