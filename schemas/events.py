"""Inbound event contracts of the orders, inventory and clicks topics (see CONTRACTS.md).

The models are strict: a quoted number or a float where an integer belongs is rejected rather than coerced,
because a producer that sends ``"3"`` or ``3.0`` has a bug that coercion would hide until demand is wrong.
Cross-field rules raise errors whose type is a :class:`~schemas.errors.DlqReason` value, so
``schemas.validation`` can route them without parsing messages.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from schemas._display import shown
from schemas.errors import DlqReason

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)

LineType = Literal["sale", "cancellation", "return"]
InventoryKind = Literal["snapshot", "receipt", "adjustment", "shipment"]
ClickAction = Literal["view", "add_to_cart", "remove_from_cart", "purchase"]


def make_key(sku: str, location: str) -> str:
    """The message key of every topic; keying by it keeps one series on one partition."""
    return f"{sku}|{location}"


def to_epoch_ms(moment: datetime) -> int:
    """Floor to whole milliseconds, the unit of event time throughout restock."""
    return (moment - EPOCH) // _ONE_MS


def _parse_event_time(value: object) -> datetime:
    # Raises only PydanticCustomError: anything else would escape model validation and break the
    # "decode never raises" promise of schemas.validation.
    if isinstance(value, bool) or not isinstance(value, int | str | datetime):
        raise PydanticCustomError(
            DlqReason.WRONG_TYPE,
            "event_time must be an ISO-8601 string with an offset or integer epoch milliseconds,"
            " got the {kind} {value}",
            {"kind": type(value).__name__, "value": shown(value)},
        )
    try:
        if isinstance(value, int):
            return EPOCH + value * _ONE_MS  # already UTC: the common case on the hot path skips the conversion
        # an aware datetime when built in Python rather than decoded
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
        if parsed.utcoffset() is not None:
            return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        problem = (
            "is out of range as epoch milliseconds (in microseconds or nanoseconds?)"
            if isinstance(value, int)
            else "is not a date-time in range"
        )
        raise PydanticCustomError(
            DlqReason.INVALID_VALUE,
            "event_time {value} {problem}; send e.g. '2024-05-01T12:00:00Z' or 1714564800000",
            {"value": shown(value), "problem": problem},
        ) from None
    raise PydanticCustomError(
        DlqReason.INVALID_VALUE,
        "event_time {value} has no UTC offset; append 'Z' or '+00:00' (naive times are ambiguous)",
        {"value": shown(value)},
    )


EventTime = Annotated[
    datetime,
    BeforeValidator(_parse_event_time),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date-time", "description": "ISO-8601 with an offset or Z"},
                {"type": "integer", "description": "Unix epoch milliseconds"},
            ]
        },
        mode="validation",
    ),
]
"""A UTC datetime from ISO-8601 with an offset, integer epoch milliseconds or (in Python) an aware datetime."""

KeyPart = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^|]*$")]
"""A sku or location: ``|`` is the key separator, so it may not appear inside one."""

Identifier = Annotated[str, Field(min_length=1, max_length=128)]


class BaseEvent(BaseModel):
    """Fields every inbound event carries."""

    model_config = ConfigDict(strict=True, frozen=True, extra="forbid", allow_inf_nan=False)

    schema_version: Literal[1]
    event_id: Identifier
    event_time: EventTime
    sku: KeyPart

    @property
    def event_time_ms(self) -> int:
        """Event time in epoch milliseconds. Not a cached_property: on Python 3.11 that takes a lock on every
        first access, which costs more per event than the arithmetic it saves."""
        return to_epoch_ms(self.event_time)


class OrderEvent(BaseEvent):
    """One order line: a sale adds demand, a cancellation or a return takes it back."""

    location: KeyPart
    line_type: LineType
    order_id: Identifier
    original_order_id: Identifier | None = None
    quantity: int = Field(gt=0, description="Units; cancellations and returns carry a positive count too.")
    unit_price: float = Field(ge=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    channel: str = Field(min_length=1, max_length=32)

    @model_validator(mode="after")
    def _sale_has_no_original(self) -> Self:
        if self.line_type == "sale" and self.original_order_id is not None:
            raise PydanticCustomError(
                DlqReason.INVALID_VALUE,
                "original_order_id={value} is forbidden on a sale; only cancellations and returns refer"
                " to an earlier order, so send null or omit it",
                {"value": shown(self.original_order_id)},
            )
        return self

    @property
    def key(self) -> str:
        return make_key(self.sku, self.location)


class InventoryEvent(BaseEvent):
    """A stock movement or an absolute snapshot, optionally carrying item-master data for the series."""

    location: KeyPart
    kind: InventoryKind
    on_hand: int | None = Field(default=None, ge=0, description="Absolute; required on snapshots only.")
    delta: int | None = Field(
        default=None,
        description="Receipt and shipment: units added / removed (> 0). Adjustment: signed, != 0.",
    )
    on_order: int | None = Field(default=None, ge=0, description="Absolute units on order upstream.")
    backorders: int | None = Field(default=None, ge=0, description="Absolute units owed to customers.")
    command_id: str | None = Field(
        default=None, min_length=1, max_length=128, description="The ReorderCommand this acknowledges."
    )
    lead_time_days: float | None = Field(default=None, gt=0)
    lead_time_std_days: float | None = Field(default=None, ge=0)
    case_pack: int | None = Field(default=None, ge=1)
    moq: int | None = Field(default=None, ge=1)
    unit_cost: float | None = Field(default=None, ge=0)
    shelf_capacity: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _fields_match_kind(self) -> Self:
        if self.kind == "snapshot":
            if self.on_hand is None:
                raise PydanticCustomError(
                    DlqReason.MISSING_FIELD, "a snapshot needs on_hand, the absolute count on the shelf; add it"
                )
            if self.delta is not None:
                raise PydanticCustomError(
                    DlqReason.INVALID_VALUE,
                    "delta={delta} is forbidden on a snapshot, which states on_hand only; drop delta",
                    {"delta": self.delta},
                )
            return self
        if self.on_hand is not None:
            raise PydanticCustomError(
                DlqReason.INVALID_VALUE,
                "on_hand={on_hand} is allowed on snapshots only; send a {kind} as a delta",
                {"on_hand": self.on_hand, "kind": self.kind},
            )
        if self.delta is None:
            raise PydanticCustomError(
                DlqReason.MISSING_FIELD, "a {kind} needs delta, the units moved; add it", {"kind": self.kind}
            )
        if self.kind == "adjustment" and self.delta == 0:
            raise PydanticCustomError(
                DlqReason.INVALID_QUANTITY, "an adjustment needs a non-zero delta; drop no-op adjustments"
            )
        if self.kind != "adjustment" and self.delta <= 0:
            raise PydanticCustomError(
                DlqReason.INVALID_QUANTITY,
                "a {kind} needs delta > 0 (the units moved), got {delta}; the kind gives the direction",
                {"kind": self.kind, "delta": self.delta},
            )
        return self

    @property
    def key(self) -> str:
        return make_key(self.sku, self.location)


class ClickEvent(BaseEvent):
    """A shopper interaction; web clicks often carry no location."""

    location: KeyPart | None = None
    session_id: Identifier
    action: ClickAction

    def key_for(self, default_location: str) -> str:
        """The key, with ``default_location`` (the settings' click_default_location) standing in for null."""
        return make_key(self.sku, default_location if self.location is None else self.location)


Event = OrderEvent | InventoryEvent | ClickEvent
