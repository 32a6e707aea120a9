"""Turn raw message bytes into an event or a :class:`Rejection`, on the hot path of every agent.

The decoders never raise on bad input: one poisoned message must become a dead letter, not stop a
partition. Validation is pydantic-core's JSON parser plus a few integer comparisons, so a valid event costs
a few microseconds; building the readable rejection detail is left to the (rare) failure path.

``now_ms`` is when the message was produced (its Kafka record timestamp), not the consumer's clock: the
future-time check then gives the same verdict in a replay years later, so it cannot change what is decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from pydantic import ValidationError
from pydantic_core import ErrorDetails, from_json

from schemas._display import shown
from schemas.errors import DlqReason, SchemaError
from schemas.events import EPOCH, BaseEvent, ClickEvent, InventoryEvent, OrderEvent

STOCK_LIMIT_FACTOR = 100
"""Stock levels (on_hand, on_order, backorders) may hold this many of the largest plausible order."""

_EventT = TypeVar("_EventT", bound=BaseEvent)

_COUNT_FIELDS = frozenset({"quantity", "delta", "on_hand", "on_order", "backorders"})
_BOUND_ERRORS = frozenset({"greater_than", "greater_than_equal"})
_REASON_TYPES = frozenset(DlqReason)
_MALFORMED_TYPES = frozenset({"json_invalid", "model_type"})

_ADVICE: dict[DlqReason, str] = {
    DlqReason.MALFORMED_JSON: "send one UTF-8 JSON object per message",
    DlqReason.MISSING_FIELD: "add the field; schemas/json/ has the contract",
    DlqReason.WRONG_TYPE: "send the JSON type the contract names (integers unquoted and without a fraction)",
    DlqReason.INVALID_VALUE: "send a value the contract allows; schemas/json/ has the contract",
    DlqReason.UNKNOWN_SCHEMA_VERSION: "this consumer reads schema_version 1 only; produce version 1",
    DlqReason.INVALID_QUANTITY: "quantities and deltas are > 0 (the kind gives the direction), stock levels >= 0",
    DlqReason.ABSURD_QUANTITY: "treated as a data error; raise max_quantity if such volumes are real",
    DlqReason.FUTURE_TIMESTAMP: "check the producer's clock and that event_time is in milliseconds",
    DlqReason.ANCIENT_TIMESTAMP: "check that event_time is set and in milliseconds, or lower earliest_event_time",
    DlqReason.OVERSIZED: "split the payload or raise max_message_bytes",
    DlqReason.KEY_MISMATCH: "key each message by the UTF-8 'sku|location' of its payload",
}


@dataclass(frozen=True, slots=True)
class ValidationLimits:
    """Bounds beyond which a well-formed event is still refused (defaults mirror streams' settings)."""

    max_message_bytes: int = 64 * 1024
    max_quantity: int = 10_000
    max_future_ms: int = 86_400_000
    click_default_location: str = "web"
    earliest_event_ms: int = 946_684_800_000  # 2000-01-01T00:00:00Z

    def __post_init__(self) -> None:
        for name in ("max_message_bytes", "max_quantity"):
            if getattr(self, name) < 1:
                raise SchemaError(f"{name}={getattr(self, name)} must be >= 1")
        if self.max_future_ms < 0:
            raise SchemaError(f"max_future_ms={self.max_future_ms} must be >= 0")
        if not self.click_default_location or "|" in self.click_default_location:
            raise SchemaError(
                f"click_default_location={self.click_default_location!r} must be non-empty and without '|'"
            )

    @property
    def max_stock(self) -> int:
        """Largest plausible absolute stock level, STOCK_LIMIT_FACTOR times max_quantity."""
        return self.max_quantity * STOCK_LIMIT_FACTOR


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a message cannot be processed; ``streams`` turns it into a DeadLetter."""

    reason: DlqReason
    detail: str
    event_id: str | None = None


def decode_order(raw: bytes | None, key: bytes | None, now_ms: int, limits: ValidationLimits) -> OrderEvent | Rejection:
    """Validate one message of the orders topic."""
    event = _validate(OrderEvent, raw, limits)
    if isinstance(event, Rejection):
        return event
    if event.quantity > limits.max_quantity:
        return _absurd(event, "quantity", event.quantity, limits.max_quantity)
    return _check_time_and_key(event, event.key, key, now_ms, limits)


def decode_inventory(
    raw: bytes | None, key: bytes | None, now_ms: int, limits: ValidationLimits
) -> InventoryEvent | Rejection:
    """Validate one message of the inventory topic."""
    event = _validate(InventoryEvent, raw, limits)
    if isinstance(event, Rejection):
        return event
    if event.delta is not None and abs(event.delta) > limits.max_quantity:
        return _absurd(event, "delta", event.delta, limits.max_quantity)
    for name, level in (("on_hand", event.on_hand), ("on_order", event.on_order), ("backorders", event.backorders)):
        if level is not None and level > limits.max_stock:
            return _absurd(event, name, level, limits.max_stock)
    return _check_time_and_key(event, event.key, key, now_ms, limits)


def decode_click(raw: bytes | None, key: bytes | None, now_ms: int, limits: ValidationLimits) -> ClickEvent | Rejection:
    """Validate one message of the clicks topic; a null location is keyed by click_default_location."""
    event = _validate(ClickEvent, raw, limits)
    if isinstance(event, Rejection):
        return event
    return _check_time_and_key(event, event.key_for(limits.click_default_location), key, now_ms, limits)


def _validate(model: type[_EventT], raw: bytes | None, limits: ValidationLimits) -> _EventT | Rejection:
    if not raw:
        return _reject(DlqReason.MALFORMED_JSON, f"{model.__name__}: the message has no value (tombstone?)")
    if len(raw) > limits.max_message_bytes:
        return _reject(
            DlqReason.OVERSIZED,
            f"{model.__name__}: {len(raw)} bytes exceed max_message_bytes={limits.max_message_bytes}",
        )
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        return _from_validation_error(model, exc, raw)


def _check_time_and_key(
    event: _EventT, expected_key: str, key: bytes | None, now_ms: int, limits: ValidationLimits
) -> _EventT | Rejection:
    if event.event_time_ms < limits.earliest_event_ms:
        earliest = (EPOCH + timedelta(milliseconds=limits.earliest_event_ms)).isoformat()
        return _reject(
            DlqReason.ANCIENT_TIMESTAMP,
            f"event_time={event.event_time.isoformat()} is before earliest_event_time={earliest}",
            event.event_id,
        )
    if event.event_time_ms > now_ms + limits.max_future_ms:
        return _reject(
            DlqReason.FUTURE_TIMESTAMP,
            f"event_time={event.event_time.isoformat()} is {event.event_time_ms - now_ms} ms ahead of the time the"
            f" message was produced, more than max_future_ms={limits.max_future_ms}",
            event.event_id,
        )
    if key != expected_key.encode():
        found = "the message has no key" if key is None else f"message key {shown(key)} differs"
        return _reject(DlqReason.KEY_MISMATCH, f"{found}, the payload says {expected_key!r}", event.event_id)
    return event


def _absurd(event: BaseEvent, name: str, value: int, limit: int) -> Rejection:
    return _reject(DlqReason.ABSURD_QUANTITY, f"{name}={value} exceeds the limit {limit}", event.event_id)


def _reject(reason: DlqReason, what: str, event_id: str | None = None) -> Rejection:
    return Rejection(reason, f"{what}; {_ADVICE[reason]}", event_id)


def _from_validation_error(model: type[BaseEvent], exc: ValidationError, raw: bytes) -> Rejection:
    errors = exc.errors(include_url=False)
    # A version this consumer does not know explains every other error, so it is reported first.
    first = min(errors, key=_is_not_about_version)
    reason = _reason_of(first)
    what = f"{'.'.join((model.__name__, *map(str, first['loc'])))}: {first['msg']}"
    own_message = first["type"] in _REASON_TYPES  # the models' own messages name the value and the remedy
    if not own_message and reason not in (DlqReason.MISSING_FIELD, DlqReason.MALFORMED_JSON):
        what += f" (got {shown(first['input'])})"
    if len(errors) > 1:
        what += f" (and {len(errors) - 1} more)"
    event_id = None if reason is DlqReason.MALFORMED_JSON else _readable_event_id(raw)
    return Rejection(reason, what, event_id) if own_message else _reject(reason, what, event_id)


def _is_not_about_version(error: ErrorDetails) -> bool:
    return error["loc"][:1] != ("schema_version",)


def _reason_of(error: ErrorDetails) -> DlqReason:
    kind = error["type"]
    loc = error["loc"]
    if kind in _REASON_TYPES:
        return DlqReason(kind)
    if kind in _MALFORMED_TYPES and not loc:
        return DlqReason.MALFORMED_JSON
    if kind == "missing":
        return DlqReason.MISSING_FIELD
    if loc[:1] == ("schema_version",):
        return DlqReason.UNKNOWN_SCHEMA_VERSION
    if kind.endswith("_type"):
        return DlqReason.WRONG_TYPE
    if kind in _BOUND_ERRORS and loc[:1] and loc[0] in _COUNT_FIELDS:
        return DlqReason.INVALID_QUANTITY
    return DlqReason.INVALID_VALUE


def _readable_event_id(raw: bytes) -> str | None:
    """The event_id of an invalid event when it is itself valid, so the dead letter can be traced."""
    try:
        document = from_json(raw)
    except ValueError:
        return None
    event_id = document.get("event_id") if isinstance(document, dict) else None
    return event_id if isinstance(event_id, str) and 0 < len(event_id) <= 128 else None
