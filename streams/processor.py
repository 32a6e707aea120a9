"""Applies one partition's merged, decoded events to its state, batch by batch, and finds decision points.

Everything here is deterministic in the order of the merged events, whatever the batch boundaries: the
event-time watermark, lateness, duplicates, bucket closing and the points where a daily decision fires all
follow from the sequence alone. Aggregation of orders and clicks is vectorised per chunk; each touched key
is written once per chunk (history first, then the hot record, then the partition meta), so a record that
reached the changelog implies that everything written before it in that partition did too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from schemas import ClickEvent, DlqReason, InventoryEvent, OrderEvent
from streams.settings import DAY_SECONDS, Settings
from streams.state_codec import (
    ITEM_MASTER_FIELDS,
    Channel,
    HistoryRecord,
    HotRecord,
    PartitionMeta,
    Topic,
    empty_open_values,
    history_key,
    meta_key,
)
from streams.store import PartitionStore

Event = OrderEvent | InventoryEvent | ClickEvent

_CLICK_CHANNEL = {
    "view": Channel.VIEW,
    "add_to_cart": Channel.ADD_TO_CART,
    "remove_from_cart": Channel.REMOVE_FROM_CART,
    "purchase": Channel.PURCHASE_CLICK,
}
_ORDER_SIGN = {"sale": 1.0, "cancellation": -1.0, "return": 0.0}
_NO_WINDOW = -(2**31)
HISTORY_BLOCK_DAYS = 7


@dataclass(slots=True)
class InputEvent:
    """A decoded, valid event with its origin; ``ref`` is the transport's handle (for acks and the DLQ)."""

    topic: Topic
    offset: int
    key: bytes
    time_ms: int
    event: Event
    ref: Any = None
    digest: int = 0


@dataclass(slots=True)
class Rejected:
    item: InputEvent
    reason: DlqReason
    detail: str


@dataclass
class StepResult:
    """What one call to :meth:`PartitionProcessor.apply_until_decision` did."""

    consumed: int
    decision_window: int | None
    rejected: list[Rejected] = field(default_factory=list)
    accepted: int = 0
    redelivered: int = 0


def event_id_hash(event_id: str) -> int:
    """A stable 64-bit hash (Python's ``hash`` is salted per process, so it cannot be stored)."""
    return int.from_bytes(hashlib.blake2b(event_id.encode(), digest_size=8).digest(), "little")


def window_of(time_ms: int, decision_offset_s: int) -> int:
    """The decision window (a day number) whose boundary is the last one at or before ``time_ms``."""
    return (time_ms // 1000 - decision_offset_s) // DAY_SECONDS


def boundary_ms(window: int, decision_offset_s: int) -> int:
    return (window * DAY_SECONDS + decision_offset_s) * 1000


class PartitionProcessor:
    """State transitions of one partition; I/O goes through a :class:`PartitionStore`."""

    def __init__(self, store: PartitionStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.bucket_ms = settings.bucket_seconds * 1000
        self.grace_ms = settings.grace_seconds * 1000
        self.history_length = settings.history_days * (DAY_SECONDS // settings.bucket_seconds)
        self.block_buckets = HISTORY_BLOCK_DAYS * (DAY_SECONDS // settings.bucket_seconds)
        meta = PartitionMeta.decode(store.get(meta_key(store.partition)))
        self.watermark_ms = meta.watermark_ms if meta else None
        self.last_window = meta.last_window if meta else _NO_WINDOW
        self._records: dict[bytes, HotRecord] = {}
        self._chunk: list[InputEvent] = []
        self._chunk_ids: set[tuple[bytes, int]] = set()

    # ---------------------------------------------------------------------------------------------
    def next_decision_threshold_ms(self) -> int | None:
        if self.last_window == _NO_WINDOW:
            return None
        return boundary_ms(self.last_window + 1, self.settings.decision_offset_seconds) + self.grace_ms

    def apply_until_decision(self, items: list[InputEvent]) -> StepResult:
        """Apply ``items`` in order until one would carry the watermark past the next decision threshold.

        That event is not consumed: the caller runs the decision for ``decision_window``, calls
        :meth:`record_decision`, and calls again with the rest.
        """
        result = StepResult(consumed=0, decision_window=None)
        offset_s = self.settings.decision_offset_seconds
        horizon_ms = self.settings.dedup_horizon_seconds * 1000
        for item in items:
            record = self._record(item.key)
            if item.offset <= int(record.header["offsets"][item.topic]):
                result.redelivered += 1
                result.consumed += 1
                continue
            t = item.time_ms
            if self.watermark_ms is None:
                self.watermark_ms = t
                self.last_window = window_of(t, offset_s)
            threshold = self.next_decision_threshold_ms()
            if threshold is not None and max(self.watermark_ms, t) >= threshold:
                self.flush()
                result.decision_window = self.last_window + 1
                return result
            result.consumed += 1
            if t < self.watermark_ms - self.grace_ms:
                result.rejected.append(
                    Rejected(
                        item,
                        DlqReason.LATE,
                        f"event_time is {(self.watermark_ms - t) / 1000:.0f} s behind the partition's event "
                        f"time, more than the grace period of {self.grace_ms // 1000} s; it can no longer "
                        "change a closed bucket",
                    )
                )
                continue
            self.watermark_ms = max(self.watermark_ms, t)
            digest = item.digest = event_id_hash(item.event.event_id)
            recent = record.dedup_hashes[record.dedup_times >= self.watermark_ms - horizon_ms]
            if (item.key, digest) in self._chunk_ids or bool(np.any(recent == np.uint64(digest))):
                result.rejected.append(
                    Rejected(
                        item,
                        DlqReason.DUPLICATE,
                        f"event_id {item.event.event_id!r} was already accepted for {item.key.decode()} "
                        f"within the duplicate horizon of {horizon_ms // 1000} s",
                    )
                )
                continue
            self._chunk_ids.add((item.key, digest))
            self._chunk.append(item)
            result.accepted += 1
        self.flush()
        return result

    # ---------------------------------------------------------------------------------------------
    def flush(self) -> None:
        """Aggregate the pending chunk into the touched keys' records and write each key once."""
        chunk, self._chunk = self._chunk, []
        self._chunk_ids.clear()
        if not chunk:
            return
        keys = sorted({item.key for item in chunk})
        key_index = {key: i for i, key in enumerate(keys)}
        self._aggregate_counts(chunk, keys, key_index)
        for item in chunk:
            if item.topic is Topic.INVENTORY:
                assert isinstance(item.event, InventoryEvent)
                self._apply_inventory(self._records[item.key], item.event, item.time_ms)
        horizon_ms = self.settings.dedup_horizon_seconds * 1000
        per_key = _per_key_bookkeeping(chunk, key_index, len(keys))
        for i, key in enumerate(keys):
            record = self._records[key]
            header = record.header
            for topic in Topic:
                if per_key.max_offset[i, topic] >= 0:
                    header["offsets"][topic] = max(int(header["offsets"][topic]), int(per_key.max_offset[i, topic]))
            header["last_event_ms"] = max(int(header["last_event_ms"]), int(per_key.max_time[i]))
            first = int(per_key.min_time[i]) // self.bucket_ms
            if int(header["first_bucket"]) < 0 or first < int(header["first_bucket"]):
                header["first_bucket"] = first
            if not np.isnan(per_key.last_price[i]):
                header["unit_price"] = per_key.last_price[i]
            # Pruning and closing follow the key's own latest event time, not the partition watermark at this
            # flush, so the stored bytes do not depend on where batches happened to be cut.
            latest = int(header["last_event_ms"])
            hashes = np.concatenate([record.dedup_hashes, per_key.hashes[i]])
            times = np.concatenate([record.dedup_times, per_key.times[i]])
            keep = times >= latest - horizon_ms
            record.dedup_hashes, record.dedup_times = hashes[keep], times[keep]
            self._close_buckets(key, record, self._closed_through(latest))
            self.store.put(key, record.encode())
        self._records.clear()

    def write_meta(self) -> None:
        """Persist the watermark and last decided window; call after the batch's key writes."""
        if self.watermark_ms is not None:
            meta = PartitionMeta(self.watermark_ms, self.last_window)
            self.store.put(meta_key(self.store.partition), meta.encode())

    def record_decision(self, window: int, decided: dict[bytes, tuple[float, int, str]]) -> None:
        """Mark ``window`` decided and note each ordering key's pending order (quantity, need-by day, id)."""
        for key, (quantity, need_by_day, command_id) in decided.items():
            record = self._record(key)
            record.header["pending_qty"] = quantity
            record.header["pending_need_by_day"] = need_by_day
            record.header["pending_window"] = window
            record.header["pending_id"] = command_id.encode()
            self.store.put(key, record.encode())
        self._records.clear()
        self.last_window = window
        self.write_meta()

    def advance_idle(self, watermark_ms: int) -> int | None:
        """Move event time forward for an idle partition; return the window that is now due, if any."""
        if self.watermark_ms is None or watermark_ms <= self.watermark_ms:
            return None
        self.watermark_ms = watermark_ms
        threshold = self.next_decision_threshold_ms()
        if threshold is not None and watermark_ms >= threshold:
            return self.last_window + 1
        self.write_meta()
        return None

    # ---------------------------------------------------------------------------------------------
    def _record(self, key: bytes) -> HotRecord:
        record = self._records.get(key)
        if record is None:
            raw = self.store.get(key)
            record = HotRecord.decode(raw) if raw is not None else HotRecord.new()
            self._records[key] = record
        return record

    def _aggregate_counts(self, chunk: list[InputEvent], keys: list[bytes], key_index: dict[bytes, int]) -> None:
        rows: list[int] = []
        buckets: list[int] = []
        channels: list[int] = []
        values: list[float] = []
        for item in chunk:
            event = item.event
            if isinstance(event, OrderEvent):
                sign = _ORDER_SIGN[event.line_type]
                if sign == 0.0:
                    continue
                row, bucket = key_index[item.key], item.time_ms // self.bucket_ms
                rows += (row, row)
                buckets += (bucket, bucket)
                channels += (Channel.DEMAND, Channel.REVENUE)
                values += (sign * event.quantity, sign * round(event.quantity * event.unit_price * 100))
            elif isinstance(event, ClickEvent):
                rows.append(key_index[item.key])
                buckets.append(item.time_ms // self.bucket_ms)
                channels.append(_CLICK_CHANNEL[event.action])
                values.append(1.0)
        for key in keys:
            self._record(key)
        if not rows:
            return
        row_arr = np.asarray(rows, np.int64)
        bucket_arr = np.asarray(buckets, np.int64)
        pairs, inverse = np.unique(np.stack([row_arr, bucket_arr], axis=1), axis=0, return_inverse=True)
        sums = np.zeros((len(pairs), len(Channel)), np.float64)
        np.add.at(sums, (inverse.ravel(), np.asarray(channels, np.int64)), np.asarray(values, np.float64))
        starts = np.searchsorted(pairs[:, 0], np.arange(len(keys) + 1))
        for i, key in enumerate(keys):
            lo, hi = starts[i], starts[i + 1]
            if lo == hi:
                continue
            _add_to_open(self._records[key], pairs[lo:hi, 1], sums[lo:hi])

    def _apply_inventory(self, record: HotRecord, event: InventoryEvent, time_ms: int) -> None:
        header = record.header
        if event.kind == "snapshot":
            if time_ms < int(header["snapshot_ms"]):
                return  # an older snapshot than the one applied: last writer by event time wins
            header["on_hand"] = float(event.on_hand or 0)
            header["snapshot_ms"] = time_ms
        elif event.delta is not None:
            delta = float(event.delta)
            if event.kind == "shipment":
                header["on_hand"] -= delta
            else:
                header["on_hand"] += delta
            if event.kind == "receipt" and event.on_order is None:
                header["on_order"] = max(0.0, float(header["on_order"]) - delta)
        if event.on_order is not None:
            header["on_order"] = event.on_order
        if event.backorders is not None:
            header["backorders"] = event.backorders
        for name in ITEM_MASTER_FIELDS:
            value = getattr(event, name)
            if value is not None:
                header[name] = value
        if event.command_id is not None and event.command_id.encode() == bytes(header["pending_id"]):
            header["pending_qty"] = 0.0
            header["pending_id"] = b""
            header["pending_need_by_day"] = -1
        bucket = time_ms // self.bucket_ms
        values = _open_row(record, bucket)
        on_hand = float(header["on_hand"])
        values[Channel.ON_HAND_END] = on_hand
        if on_hand <= 0:
            values[Channel.STOCKOUT] = 1.0

    def _closed_through(self, latest_ms: int) -> int:
        """Last bucket to move into history: closed (no accepted event can reach it any more, since events more
        than the grace period behind the key's own latest are late) and in a whole closed block, so history is
        rewritten once per block (a week of days) instead of once per bucket."""
        closed = (latest_ms - self.grace_ms) // self.bucket_ms - 1
        return (closed + 1) // self.block_buckets * self.block_buckets - 1

    def _close_buckets(self, key: bytes, record: HotRecord, closed_through: int) -> None:
        closed = record.open_buckets <= closed_through
        if not closed.any():
            return
        hkey = history_key(key)
        raw = self.store.get(hkey)
        history = (
            HistoryRecord.decode(raw, self.history_length)
            if raw is not None
            else HistoryRecord.new(self.history_length)
        )
        order = np.argsort(record.open_buckets[closed])
        buckets = record.open_buckets[closed][order]
        newer = buckets > history.through_bucket
        history.append(buckets[newer], record.open_values[closed][order][newer])
        self.store.put(hkey, history.encode())
        record.open_buckets = record.open_buckets[~closed]
        record.open_values = record.open_values[~closed]


@dataclass
class _PerKey:
    max_offset: npt.NDArray[np.int64]
    max_time: npt.NDArray[np.int64]
    min_time: npt.NDArray[np.int64]
    last_price: npt.NDArray[np.float32]
    hashes: list[npt.NDArray[np.uint64]]
    times: list[npt.NDArray[np.int64]]


def _per_key_bookkeeping(chunk: list[InputEvent], key_index: dict[bytes, int], n_keys: int) -> _PerKey:
    rows = np.fromiter((key_index[item.key] for item in chunk), np.int64, len(chunk))
    topics = np.fromiter((item.topic for item in chunk), np.int64, len(chunk))
    offsets = np.fromiter((item.offset for item in chunk), np.int64, len(chunk))
    times = np.fromiter((item.time_ms for item in chunk), np.int64, len(chunk))
    hashes = np.fromiter((item.digest for item in chunk), np.uint64, len(chunk))
    max_offset = np.full((n_keys, len(Topic)), -1, np.int64)
    np.maximum.at(max_offset, (rows, topics), offsets)
    max_time = np.full(n_keys, np.iinfo(np.int64).min, np.int64)
    np.maximum.at(max_time, rows, times)
    min_time = np.full(n_keys, np.iinfo(np.int64).max, np.int64)
    np.minimum.at(min_time, rows, times)
    last_price = np.full(n_keys, np.nan, np.float32)
    for item in chunk:
        if isinstance(item.event, OrderEvent) and item.event.line_type == "sale":
            last_price[key_index[item.key]] = item.event.unit_price
    order = np.argsort(rows, kind="stable")
    bounds = np.searchsorted(rows[order], np.arange(n_keys + 1))
    per_hashes: list[npt.NDArray[np.uint64]] = [hashes[order[bounds[i] : bounds[i + 1]]] for i in range(n_keys)]
    per_times: list[npt.NDArray[np.int64]] = [times[order[bounds[i] : bounds[i + 1]]] for i in range(n_keys)]
    return _PerKey(max_offset, max_time, min_time, last_price, per_hashes, per_times)


def _open_row(record: HotRecord, bucket: int) -> npt.NDArray[np.float64]:
    """The open bucket's row, created (zero counts, unknown on hand) when the key has none for it yet."""
    hit = np.flatnonzero(record.open_buckets == bucket)
    if len(hit) == 0:
        record.open_buckets = np.append(record.open_buckets, np.int64(bucket))
        record.open_values = np.concatenate([record.open_values, empty_open_values(1)])
        hit = np.array([len(record.open_buckets) - 1])
    row: npt.NDArray[np.float64] = record.open_values[hit[0]]
    return row


def _add_to_open(record: HotRecord, buckets: npt.NDArray[np.int64], sums: npt.NDArray[np.float64]) -> None:
    count_channels = [c for c in Channel if c not in (Channel.STOCKOUT, Channel.ON_HAND_END)]
    for bucket, row in zip(buckets.tolist(), sums, strict=True):
        values = _open_row(record, bucket)
        values[count_channels] += row[count_channels]
