"""Contracts of restock: inbound events, the reorder command, dead letters, their validation and schemas.

Nothing here knows about Kafka, Faust or torch, so every other package can depend on it.
"""

from schemas.commands import (
    QUANTILE_LEVELS,
    ForecastSummary,
    OrderType,
    QuantileLevel,
    ReorderCommand,
    command_id,
    decode_command,
    encode_command,
)
from schemas.dead_letter import DeadLetter, decode_dead_letter, encode_dead_letter
from schemas.errors import DlqReason, SchemaError
from schemas.events import (
    BaseEvent,
    ClickAction,
    ClickEvent,
    Event,
    InventoryEvent,
    InventoryKind,
    LineType,
    OrderEvent,
    make_key,
    to_epoch_ms,
)
from schemas.validation import (
    Rejection,
    ValidationLimits,
    decode_click,
    decode_inventory,
    decode_order,
)

__all__ = [
    "QUANTILE_LEVELS",
    "BaseEvent",
    "ClickAction",
    "ClickEvent",
    "DeadLetter",
    "DlqReason",
    "Event",
    "ForecastSummary",
    "InventoryEvent",
    "InventoryKind",
    "LineType",
    "OrderEvent",
    "OrderType",
    "QuantileLevel",
    "Rejection",
    "ReorderCommand",
    "SchemaError",
    "ValidationLimits",
    "command_id",
    "decode_click",
    "decode_command",
    "decode_dead_letter",
    "decode_inventory",
    "decode_order",
    "encode_command",
    "encode_dead_letter",
    "make_key",
    "to_epoch_ms",
]
