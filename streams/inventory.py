"""Inventory events as compact rows, and folding them into their keys' rows in a deterministic order.

Why inventory waits: whether a snapshot is applied before or after a shipment changes on hand, and Kafka
orders neither topics against each other nor a topic against the decision points. So every inventory event
is kept as a row until the decision that needs it: the decision of window ``w`` folds all waiting events of
windows before ``w`` in (window, offset) order. That fold order, and so every decision's view of stock, is a
function of the inventory topic's contents, not of when its events happened to arrive.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from schemas import InventoryEvent
from streams.shard_state import ShardState
from streams.state_codec import DEFERRED_ROW, ITEM_MASTER_FIELDS, Channel, InventoryKind

_KIND = {kind.name.lower(): kind.value for kind in InventoryKind}
_NAN = float("nan")


def _value(value: float | int | None) -> float:
    return _NAN if value is None else float(value)


def deferred_row(event: InventoryEvent, row: int, window: int, time_ms: int) -> tuple[object, ...]:
    """One ``DEFERRED_ROW`` record (as a tuple for ``np.array``) for an accepted inventory event."""
    return (
        row,
        window,
        time_ms,
        _KIND[event.kind],
        _value(event.on_hand),
        _value(event.delta),
        _value(event.on_order),
        _value(event.backorders),
        tuple(_value(getattr(event, name)) for name in ITEM_MASTER_FIELDS),
        (event.command_id or "").encode(),
    )


def deferred_rows(records: list[tuple[object, ...]]) -> npt.NDArray[np.void]:
    return np.array(records, DEFERRED_ROW) if records else np.zeros(0, DEFERRED_ROW)


def fold_before(shard: ShardState, window: int, bucket_ms: int) -> int:
    """Fold the shard's waiting inventory events of windows before ``window``; return how many."""
    waiting = shard.deferred
    due = waiting["window"] < window
    if not due.any():
        return 0
    events = waiting[due]
    shard.deferred = waiting[~due]
    events = events[np.argsort(events["window"], kind="stable")]
    fold(shard, events, bucket_ms)
    return len(events)


def fold(shard: ShardState, events: npt.NDArray[np.void], bucket_ms: int) -> None:
    """Apply ``events`` (``DEFERRED_ROW``) in the given order to their keys' rows and open buckets.

    A snapshot older (by event time) than the one on hand came from is ignored: last writer by event time
    wins. A receipt without an ``on_order`` lowers on order by its delta (never below zero).
    """
    rows = shard.rows
    on_hand, on_order, backorders = rows["on_hand"], rows["on_order"], rows["backorders"]
    snapshot_ms, pending_id = rows["snapshot_ms"], rows["pending_id"]
    masters = [rows[name] for name in ITEM_MASTER_FIELDS]
    for row, _window, time_ms, kind, level, delta, new_on_order, new_backorders, master, command_id in events.tolist():
        if kind == InventoryKind.SNAPSHOT:
            if time_ms < snapshot_ms[row]:
                continue
            on_hand[row] = level
            snapshot_ms[row] = time_ms
        elif delta == delta:  # not NaN
            on_hand[row] += -delta if kind == InventoryKind.SHIPMENT else delta
            if kind == InventoryKind.RECEIPT and new_on_order != new_on_order:
                on_order[row] = max(0.0, on_order[row] - delta)
        if new_on_order == new_on_order:
            on_order[row] = new_on_order
        if new_backorders == new_backorders:
            backorders[row] = new_backorders
        for column, value in zip(masters, master, strict=True):
            if value == value:
                column[row] = value
        if command_id and command_id == pending_id[row]:
            rows["pending_qty"][row] = 0.0
            rows["pending_id"][row] = b""
            rows["pending_need_by_day"][row] = -1
        values = shard.bucket(time_ms // bucket_ms)
        values[row, Channel.ON_HAND_END] = on_hand[row]
        if on_hand[row] <= 0:
            values[row, Channel.STOCKOUT] = 1.0
