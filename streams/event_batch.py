"""Valid events of one partition as columns: what the state engine (``streams.processor``) takes per call.

The broker side (``streams.engine.columns``) fills it straight from fetched messages; tests and the typed
path build it from :class:`InputEvent` rows with :meth:`EventBatch.of`. Row ``i`` of every column is the
``i``-th event in arrival order; columns of another topic's kind hold NaN or :data:`NO_CODE`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, get_args

import numpy as np
import numpy.typing as npt

from schemas import ClickAction, ClickEvent, InventoryEvent, LineType, OrderEvent
from streams.state_codec import Topic

Event = OrderEvent | InventoryEvent | ClickEvent

LINE_TYPES: Final[tuple[str, ...]] = get_args(LineType)
"""``EventBatch.line_type`` codes: the position in the schema's ``LineType`` (sale 0, cancellation 1, return 2)."""
CLICK_ACTIONS: Final[tuple[str, ...]] = get_args(ClickAction)
"""``EventBatch.action`` codes: the position in the schema's ``ClickAction`` (view 0 ... purchase 3)."""
NO_CODE: Final = -1
"""The code of a row that is not of the column's kind (a click's line_type, an order's action)."""
LINE_CODE: Final = {name: code for code, name in enumerate(LINE_TYPES)}
ACTION_CODE: Final = {name: code for code, name in enumerate(CLICK_ACTIONS)}


@dataclass(slots=True)
class InputEvent:
    """One decoded, valid event with its origin; ``ref`` is the transport's handle (for the DLQ)."""

    topic: Topic
    offset: int
    key: bytes
    time_ms: int
    event: Event
    ref: Any = None


@dataclass(slots=True)
class EventBatch:
    """Valid events of one partition's batch, in arrival order."""

    topic: npt.NDArray[np.int64]  # streams.state_codec.Topic values
    offset: npt.NDArray[np.int64]
    time_ms: npt.NDArray[np.int64]  # event_time in epoch ms
    keys: list[bytes]  # sku|location
    event_ids: list[str]
    quantity: npt.NDArray[np.float64]  # orders
    unit_price: npt.NDArray[np.float64]  # orders
    line_type: npt.NDArray[np.int8]  # orders: LINE_TYPES codes
    action: npt.NDArray[np.int8]  # clicks: CLICK_ACTIONS codes
    inventory: dict[int, InventoryEvent]  # row -> event: inventory events are rare and carry many fields
    refs: list[Any]  # the transport's handle of each row, for its dead letter

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def of(cls, items: Sequence[InputEvent]) -> EventBatch:
        """The columns of typed events (tests, and messages the fast decoder hands to pydantic)."""
        inventory: dict[int, InventoryEvent] = {}
        quantity, price = np.full(len(items), np.nan), np.full(len(items), np.nan)
        line_type, action = np.full(len(items), NO_CODE, np.int8), np.full(len(items), NO_CODE, np.int8)
        for i, item in enumerate(items):
            event = item.event
            if isinstance(event, OrderEvent):
                quantity[i], price[i], line_type[i] = event.quantity, event.unit_price, LINE_CODE[event.line_type]
            elif isinstance(event, ClickEvent):
                action[i] = ACTION_CODE[event.action]
            else:
                inventory[i] = event
        return cls(
            topic=np.fromiter((int(item.topic) for item in items), np.int64, len(items)),
            offset=np.fromiter((item.offset for item in items), np.int64, len(items)),
            time_ms=np.fromiter((item.time_ms for item in items), np.int64, len(items)),
            keys=[item.key for item in items],
            event_ids=[item.event.event_id for item in items],
            quantity=quantity,
            unit_price=price,
            line_type=line_type,
            action=action,
            inventory=inventory,
            refs=[item.ref for item in items],
        )
