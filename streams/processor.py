"""Applies one partition's decoded events to its state, batch by batch, and prepares its daily decisions.

Determinism without a cross-topic merge. Events are applied in the order they arrive, which Kafka fixes per
topic-partition only. Everything that depends on order is therefore judged within one topic: its event-time
watermark, lateness (more than ``grace`` behind that topic's watermark) and duplicates (a repeated event id
of the same key and topic). What a decision reads is cut by event time, not by arrival: the demand and clicks
of closed days (sums, which do not care about order) and the stock left by inventory events of earlier
windows, folded in (window, offset) order (``streams.inventory``). A decision for window ``w`` is taken only
once every input topic of the partition has passed the boundary plus grace (``streams.pacing`` says which
topics count), so every event it needs has been applied and none it must not see has been folded. Replays
with any batch size therefore give the same commands, and the same stored bytes.

Writes: each touched shard once per batch, plus the history blocks a decision closes days into, plus the
partition meta, in that order (a record in the changelog implies the ones written before it are there too).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from schemas import ClickEvent, DlqReason, InventoryEvent, OrderEvent
from streams.errors import ConfigurationError
from streams.history import PartitionHistory
from streams.inventory import deferred_row, deferred_rows, fold_before
from streams.settings import DAY_SECONDS, Settings
from streams.shard_state import ShardState
from streams.state_codec import (
    DIGEST_ROW,
    HISTORY_BLOCK_DAYS,
    I64_MAX,
    I64_MIN,
    N_CHANNELS,
    N_TOPICS,
    NO_WINDOW,
    Channel,
    PartitionMeta,
    ShardRecord,
    Topic,
    meta_key,
    new_key_rows,
    shard_key,
    shard_of,
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


@dataclass(slots=True)
class InputEvent:
    """A decoded, valid event with its origin; ``ref`` is the transport's handle (for the DLQ)."""

    topic: Topic
    offset: int
    key: bytes
    time_ms: int
    event: Event
    ref: Any = None


@dataclass(slots=True)
class Rejected:
    item: InputEvent
    reason: DlqReason
    detail: str


@dataclass
class ApplyResult:
    """What one call to :meth:`PartitionProcessor.apply` did with its events."""

    rejected: list[Rejected] = field(default_factory=list)
    accepted: int = 0
    applied_before: list[int] = field(default_factory=lambda: [0] * N_TOPICS)  # per topic: already in state


@dataclass(frozen=True)
class DecisionRows:
    """The keys a decision covers, as stored: shard and row of each, their key rows and closed buckets."""

    keys: list[bytes]
    shard: npt.NDArray[np.int64]
    row: npt.NDArray[np.int64]
    header: npt.NDArray[np.void]  # [n] KEY_ROW
    buckets: npt.NDArray[np.float64]  # [n, history buckets, C], oldest first
    first_bucket: int  # bucket number of column 0


def window_of(time_ms: int, decision_offset_s: int) -> int:
    """The decision window (a day number) whose boundary is the last one at or before ``time_ms``."""
    return (time_ms // 1000 - decision_offset_s) // DAY_SECONDS


def boundary_ms(window: int, decision_offset_s: int) -> int:
    return (window * DAY_SECONDS + decision_offset_s) * 1000


def event_digest(topic: int, key: bytes, event_id: str) -> int:
    """A stable 64-bit id of (topic, key, event id) for duplicate detection (``hash`` is salted per process)."""
    text = b"%d|%b|%b" % (topic, key, event_id.encode())
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")


class PartitionProcessor:
    """State transitions of one partition; I/O goes through a :class:`PartitionStore`."""

    def __init__(self, store: PartitionStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.partition = store.partition
        self.shard_count = settings.state_shards
        self.bucket_ms = settings.bucket_seconds * 1000
        self.per_day = DAY_SECONDS // settings.bucket_seconds
        self.grace_ms = settings.grace_seconds * 1000
        self.horizon_ms = settings.dedup_horizon_seconds * 1000
        self.offset_s = settings.decision_offset_seconds
        self.history_buckets = settings.history_days * self.per_day
        raw = store.get(meta_key(self.partition))
        self.meta = PartitionMeta.decode(raw) if raw is not None else PartitionMeta(self.shard_count)
        if self.meta.shards != self.shard_count:
            raise ConfigurationError(
                f"partition {self.partition} was built with state_shards={self.meta.shards}, the settings say "
                f"{self.shard_count}; keep the old value or rebuild state into a fresh app id"
            )
        self.shards: dict[int, ShardState] = {}
        self.slots: dict[bytes, tuple[ShardState, int]] = {}
        self.history = PartitionHistory(store, self.shard_count, HISTORY_BLOCK_DAYS * self.per_day,
                                        self.history_buckets)  # fmt: skip
        self.offsets = np.full((self.shard_count, N_TOPICS), -1, np.int64)  # last applied, per shard and topic
        self.written_meta = raw

    # --- progress -------------------------------------------------------------------------------
    @property
    def watermarks(self) -> npt.NDArray[np.int64]:
        """Per input topic, the largest event time seen (``I64_MIN`` before the first event)."""
        return self.meta.watermarks

    @property
    def last_window(self) -> int:
        return self.meta.last_window

    def note_finished(self, topic: int, offset: int) -> None:
        """A message of ``topic`` was handled outside :meth:`apply` (dead-lettered at decode)."""
        self.meta.finished[topic] = max(int(self.meta.finished[topic]), offset)

    def finished_before(self, topic: int, offset: int) -> bool:
        """Whether a redelivered message was already handled (so its dead letter is not sent twice)."""
        return offset <= int(self.meta.finished[topic])

    # --- applying events -------------------------------------------------------------------------
    def apply(self, items: list[InputEvent]) -> ApplyResult:
        """Apply a batch of valid events of this partition, in arrival order; reject late and repeated ones."""
        result = ApplyResult()
        n = len(items)
        if not n:
            return result
        slots = self.slots
        missing = [key for key in dict.fromkeys(item.key for item in items) if key not in slots]
        if missing:
            self._add_slots(missing)
        shard_list: list[ShardState] = []
        columns: list[tuple[int, int, int, int, int]] = []
        for item in items:
            shard, row = slots[item.key]
            shard_list.append(shard)
            columns.append((shard.index, row, item.topic, item.offset, item.time_ms))
        shard_ix, rows, topics, offsets, times = np.array(columns, np.int64).T

        handled = offsets > self.offsets[shard_ix, topics]
        result.applied_before = np.bincount(topics[~handled], minlength=N_TOPICS).tolist()
        late = self._advance_watermarks(topics, times) | self._in_decided_day(topics, times)
        candidates = np.flatnonzero(handled & ~late)
        duplicate = self._duplicates(items, candidates, shard_list, rows)
        accepted = candidates[~duplicate]
        for i in np.flatnonzero(handled & late).tolist():
            result.rejected.append(Rejected(items[i], DlqReason.LATE, self._late_detail(items[i])))
        for i in candidates[duplicate].tolist():
            result.rejected.append(Rejected(items[i], DlqReason.DUPLICATE, self._duplicate_detail(items[i])))
        result.rejected.sort(key=lambda r: (r.item.topic, r.item.offset))
        result.accepted = len(accepted)

        np.maximum.at(self.offsets, (shard_ix[handled], topics[handled]), offsets[handled])
        np.maximum.at(self.meta.finished, topics, offsets)
        for index in np.unique(shard_ix[handled]).tolist():
            self.shards[index].dirty = True
        if len(accepted):
            self._apply_accepted(items, accepted, shard_list, shard_ix, rows, topics, times)
        return result

    def _add_slots(self, keys: list[bytes]) -> None:
        """Find or create the rows of keys not seen by this processor yet (new keys in one append per shard)."""
        new: dict[int, list[bytes]] = {}
        for key in keys:
            shard = self._shard(shard_of(key, self.shard_count))
            if key not in self.slots:
                new.setdefault(shard.index, []).append(key)
        for index, added in new.items():
            shard = self.shards[index]
            shard.add_keys(added)
            for key in added:
                self.slots[key] = (shard, shard.slot[key])

    def _shard(self, index: int) -> ShardState:
        shard = self.shards.get(index)
        if shard is None:
            raw = self.store.get(shard_key(self.partition, index))
            shard = self.shards[index] = ShardState(index, ShardRecord.decode(raw) if raw is not None else None)
            self.offsets[index] = shard.offsets
            shard.offsets = self.offsets[index]  # a view: the batch updates all shards' offsets at once
            for row, key in enumerate(shard.keys):
                self.slots[key] = (shard, row)
        return shard

    def _advance_watermarks(self, topics: npt.NDArray[np.int64], times: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        """Per topic, in arrival order: the running event-time maximum, and which events fall behind it by
        more than the grace period. Redelivered events take part, so the verdicts repeat exactly."""
        late = np.zeros(len(topics), np.bool_)
        meta = self.meta
        for topic in range(N_TOPICS):
            idx = np.flatnonzero(topics == topic)
            if not len(idx):
                continue
            t = times[idx]
            running = np.maximum.accumulate(np.concatenate([[meta.watermarks[topic]], t]))
            behind = running[:-1]
            late[idx] = (behind != I64_MIN) & (t < behind - self.grace_ms)
            meta.watermarks[topic] = running[-1]
            if meta.first_ms[topic] == I64_MAX:
                meta.first_ms[topic] = t[0]
        return late

    def _in_decided_day(self, topics: npt.NDArray[np.int64], times: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        """Demand and clicks of a day a decision already closed (one released by the idle rule before this
        topic had passed it): counting them now would change a decided history, so they are late. Inventory is
        not: it is folded into the stock of the next decision."""
        if self.meta.last_window == NO_WINDOW:
            return np.zeros(len(topics), np.bool_)
        closed: npt.NDArray[np.bool_] = (topics != Topic.INVENTORY) & (
            times < boundary_ms(self.meta.last_window, self.offset_s)
        )
        return closed

    def _duplicates(
        self, items: list[InputEvent], candidates: npt.NDArray[np.int64], shard_list: list[ShardState],
        rows: npt.NDArray[np.int64],
    ) -> npt.NDArray[np.bool_]:  # fmt: skip
        """Which candidates repeat an event id already accepted for their key and topic within the horizon."""
        duplicate = np.zeros(len(candidates), np.bool_)
        if not len(candidates):
            return duplicate
        digests = np.fromiter(
            (event_digest(items[i].topic, items[i].key, items[i].event.event_id) for i in candidates.tolist()),
            np.uint64,
            len(candidates),
        )
        times = np.fromiter((items[i].time_ms for i in candidates.tolist()), np.int64, len(candidates))
        touched = {shard_list[i].index: shard_list[i] for i in candidates.tolist()}
        stored = np.concatenate([s.digests["digest"] for s in touched.values()])
        suspects = set(np.flatnonzero(np.isin(digests, stored)).tolist())
        _, first, counts = np.unique(digests, return_index=True, return_counts=True)
        repeated = set(np.flatnonzero(np.isin(digests, digests[first[counts > 1]])).tolist())
        kept: dict[int, list[int]] = {}
        for j in sorted(suspects | repeated):
            digest, t = int(digests[j]), int(times[j])
            shard = shard_list[int(candidates[j])]
            same = shard.digests[shard.digests["digest"] == digest] if j in suspects else shard.digests[:0]
            earlier = kept.setdefault(digest, [])
            if np.any(np.abs(same["time"] - t) <= self.horizon_ms) or any(abs(e - t) <= self.horizon_ms
                                                                          for e in earlier):  # fmt: skip
                duplicate[j] = True
            else:
                earlier.append(t)
        accepted = np.flatnonzero(~duplicate)
        new = np.zeros(len(accepted), DIGEST_ROW)
        new["digest"], new["time"] = digests[accepted], times[accepted]
        new["row"] = rows[candidates[accepted]]
        new["topic"] = [items[i].topic for i in candidates[accepted].tolist()]
        owner = np.fromiter((shard_list[i].index for i in candidates[accepted].tolist()), np.int64, len(accepted))
        for index, shard in touched.items():
            shard.add_digests(new[owner == index])
        return duplicate

    def _apply_accepted(
        self, items: list[InputEvent], accepted: npt.NDArray[np.int64], shard_list: list[ShardState],
        shard_ix: npt.NDArray[np.int64], rows: npt.NDArray[np.int64], topics: npt.NDArray[np.int64],
        times: npt.NDArray[np.int64],
    ) -> None:  # fmt: skip
        a_shard, a_row, a_topic, a_time = shard_ix[accepted], rows[accepted], topics[accepted], times[accepted]
        windows = (a_time // 1000 - self.offset_s) // DAY_SECONDS
        buckets = a_time // self.bucket_ms
        for index in np.unique(a_shard).tolist():
            mine = a_shard == index
            header = self.shards[index].rows
            r = a_row[mine]
            np.maximum.at(header["latest_ms"], (r, a_topic[mine]), a_time[mine])
            np.maximum.at(header["last_event_ms"], r, a_time[mine])
            np.minimum.at(header["first_window"], r, windows[mine].astype(np.int32))
            np.minimum.at(header["first_bucket"], r, buckets[mine])

        count_at: list[int] = []
        channels: list[int] = []
        values: list[float] = []
        deferred: dict[int, list[tuple[object, ...]]] = {}
        for j, i in enumerate(accepted.tolist()):
            event = items[i].event
            if isinstance(event, OrderEvent):
                sign = _ORDER_SIGN[event.line_type]
                if sign:
                    count_at += (j, j)
                    channels += (Channel.DEMAND, Channel.REVENUE)
                    values += (sign * event.quantity, sign * round(event.quantity * event.unit_price * 100))
                if sign > 0:
                    shard_list[i].rows["unit_price"][rows[i]] = event.unit_price
            elif isinstance(event, ClickEvent):
                count_at.append(j)
                channels.append(_CLICK_CHANNEL[event.action])
                values.append(1.0)
            else:
                deferred.setdefault(int(shard_ix[i]), []).append(
                    deferred_row(event, int(rows[i]), int(windows[j]), int(a_time[j]))
                )
        for index, records in deferred.items():
            self.shards[index].add_deferred(deferred_rows(records))
        if count_at:
            at = np.asarray(count_at, np.int64)
            self._add_counts(a_shard[at], buckets[at], a_row[at], np.asarray(channels), np.asarray(values))

    def _add_counts(
        self, shard_ix: npt.NDArray[np.int64], buckets: npt.NDArray[np.int64], rows: npt.NDArray[np.int64],
        channels: npt.NDArray[np.int64], values: npt.NDArray[np.float64],
    ) -> None:  # fmt: skip
        groups, inverse = np.unique(np.stack([shard_ix, buckets], axis=1), axis=0, return_inverse=True)
        inverse = inverse.ravel()
        order = np.argsort(inverse, kind="stable")
        bounds = np.searchsorted(inverse[order], np.arange(len(groups) + 1))
        for g, (index, bucket) in enumerate(groups.tolist()):
            sel = order[bounds[g] : bounds[g + 1]]
            np.add.at(self.shards[index].bucket(bucket), (rows[sel], channels[sel]), values[sel])

    # --- decisions -------------------------------------------------------------------------------
    def due_window(self, gate_ms: int | None) -> int | None:
        """The next undecided window whose boundary plus grace ``gate_ms`` has passed, if any.

        ``gate_ms`` is the event time every input topic has reached (``streams.pacing``). The window of the
        partition's first event gets no decision: nothing was known at its boundary.
        """
        if gate_ms is None:
            return None
        window = self.next_window()
        if window is None:
            return None
        return window if self.due_ms(window) <= gate_ms else None

    def next_window(self) -> int | None:
        """The first undecided window, once any event is known."""
        meta = self.meta
        if meta.last_window == NO_WINDOW:
            seen = meta.first_ms[meta.first_ms != I64_MAX]
            if not len(seen):
                return None
            meta.last_window = window_of(int(seen.min()), self.offset_s)
        return meta.last_window + 1

    def due_ms(self, window: int) -> int:
        """The event time every input topic must reach before ``window`` is decided without the idle rule."""
        return boundary_ms(window, self.offset_s) + self.grace_ms

    def next_offsets(self) -> list[int]:
        """Per input topic, the first offset not handled yet (what a decision cut records)."""
        return [int(f) + 1 for f in self.meta.finished]

    def prepare_decision(self, window: int) -> DecisionRows:
        """Fold inventory and close buckets up to ``window``'s boundary; return the keys it decides on.

        Shards that already took part in this window's decision (a crash between their write and the meta
        write) are left out: their commands were delivered before they were written.
        """
        close_before = window * self.per_day
        for index in range(self.shard_count):
            shard = self._stored_shard(index)
            if shard is None or shard.decided_window >= window:
                continue
            fold_before(shard, window, self.bucket_ms)
            self.history.close(shard, close_before, window)
            shard.dirty = True
        self.history.expire(self.meta.last_window * self.per_day, close_before)
        return self._decision_rows(window, close_before)

    def record_decision(self, window: int, ordered: list[tuple[int, int, float, int, str]]) -> None:
        """Mark ``window`` decided; note each order (shard, row, quantity, need-by day, command id) as pending."""
        for index, row, quantity, need_by_day, command_id in ordered:
            header = self.shards[index].rows
            header["pending_qty"][row] = quantity
            header["pending_need_by_day"][row] = need_by_day
            header["pending_window"][row] = window
            header["pending_id"][row] = command_id.encode()
        for shard in self.shards.values():
            if shard.decided_window < window:
                shard.decided_window = window
                shard.dirty = True
        self.meta.last_window = window

    def _stored_shard(self, index: int) -> ShardState | None:
        if index in self.shards or self.store.get(shard_key(self.partition, index)) is not None:
            return self._shard(index)
        return None

    def _decision_rows(self, window: int, close_before: int) -> DecisionRows:
        keys: list[bytes] = []
        shard_parts, row_parts, headers, buckets = [], [], [], []
        for index in sorted(self.shards):
            shard = self.shards[index]
            member = np.flatnonzero(shard.rows["first_window"] < window)
            if shard.decided_window >= window or not len(member):
                continue
            keys += [shard.keys[r] for r in member.tolist()]
            shard_parts.append(np.full(len(member), index, np.int64))
            row_parts.append(member)
            headers.append(shard.rows[member])
            buckets.append(self.history.read(shard, close_before)[member])
        first = close_before - self.history_buckets
        if not keys:
            empty = np.zeros((0, self.history_buckets, N_CHANNELS))
            return DecisionRows([], np.zeros(0, np.int64), np.zeros(0, np.int64), new_key_rows(0), empty, first)
        return DecisionRows(
            keys, np.concatenate(shard_parts), np.concatenate(row_parts), np.concatenate(headers),
            np.concatenate(buckets), first,
        )  # fmt: skip

    # --- writing -----------------------------------------------------------------------------------
    def flush(self) -> int:
        """Write changed blocks, then changed shards, then the meta; return the number of records written."""
        written = self.history.flush()
        keep_after_ms = self.grace_ms + self.horizon_ms
        for index in sorted(self.shards):
            shard = self.shards[index]
            if shard.dirty:
                self.store.put(shard_key(self.partition, index), shard.encode(keep_after_ms))
                shard.dirty = False
                written += 1
        meta = self.meta.encode()
        if meta != self.written_meta:
            self.store.put(meta_key(self.partition), meta)
            self.written_meta = meta
            written += 1
        return written

    # --- dead-letter details -----------------------------------------------------------------------
    def _late_detail(self, item: InputEvent) -> str:
        name = Topic(item.topic).name.lower()
        decided = boundary_ms(self.meta.last_window, self.offset_s) if self.meta.last_window != NO_WINDOW else I64_MIN
        if item.topic != Topic.INVENTORY and item.time_ms < decided:
            return (
                f"event_time is before the decision boundary of window {self.meta.last_window}, already decided "
                f"while the {name} topic of this partition was idle; re-publish it with a current event_time if it "
                "must count, or raise RESTOCK_TOPIC_IDLE_S if the producer is routinely this slow"
            )
        behind = (int(self.meta.watermarks[item.topic]) - item.time_ms) / 1000
        return (
            f"event_time is {behind:.0f} s or more behind the {name} topic's event time in this partition, more "
            f"than the grace period of {self.grace_ms // 1000} s; its bucket may be closed: re-publish it with a "
            "current event_time if it must count, or raise RESTOCK_GRACE_SECONDS"
        )

    def _duplicate_detail(self, item: InputEvent) -> str:
        return (
            f"event_id {item.event.event_id!r} was already accepted for {item.key.decode(errors='replace')} on "
            f"this topic within the duplicate horizon of {self.horizon_ms // 1000} s; nothing to do if it is a "
            "retry, else give the event a new id"
        )
