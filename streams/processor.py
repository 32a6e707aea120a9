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

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from schemas import DlqReason
from streams.errors import ConfigurationError
from streams.event_batch import CLICK_ACTIONS, LINE_TYPES, EventBatch
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

_CLICK_CHANNEL = {
    "view": Channel.VIEW,
    "add_to_cart": Channel.ADD_TO_CART,
    "remove_from_cart": Channel.REMOVE_FROM_CART,
    "purchase": Channel.PURCHASE_CLICK,
}
_ORDER_SIGN = {"sale": 1.0, "cancellation": -1.0, "return": 0.0}
CHANNEL_OF_ACTION = np.array([_CLICK_CHANNEL[action] for action in CLICK_ACTIONS], np.int64)
SIGN_OF_LINE_TYPE = np.array([_ORDER_SIGN[line_type] for line_type in LINE_TYPES])
_DIGEST_MIX = np.uint64(0x9E3779B97F4A7C15)


@dataclass(slots=True)
class Rejected:
    """Row ``row`` of the applied :class:`EventBatch` was refused."""

    row: int
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


def key_hashes(keys: npt.NDArray[np.object_]) -> npt.NDArray[np.uint64]:
    """Stable 64-bit hashes of keys: pandas' ``hash_array`` is SipHash with a fixed key, so they are the same
    in every process (``hash`` is salted per process)."""
    hashes: npt.NDArray[np.uint64] = pd.util.hash_array(keys, categorize=False)
    return hashes


def event_digests(
    topics: npt.NDArray[np.int64], key_hash: npt.NDArray[np.uint64], event_ids: list[str]
) -> npt.NDArray[np.uint64]:
    """Stable 64-bit ids of (topic, key, event id) for duplicate detection, from each event's
    :func:`key_hashes` value. A digest is stored in state, so this must not change for the life of the state.
    """
    with np.errstate(over="ignore"):
        key_part = key_hash * _DIGEST_MIX + topics.astype(np.uint64)
        id_part = pd.util.hash_array(np.asarray(event_ids, dtype=object), categorize=False)
    digests: npt.NDArray[np.uint64] = key_part ^ id_part
    return digests


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
    def apply(self, batch: EventBatch) -> ApplyResult:
        """Apply a batch of valid events of this partition, in arrival order; reject late and repeated ones."""
        result = ApplyResult()
        if not len(batch):
            return result
        codes, uniques = pd.factorize(np.asarray(batch.keys, dtype=object), sort=False)
        slots = self.slots
        missing = [key for key in uniques.tolist() if key not in slots]
        if missing:
            self._add_slots(missing)
        places = [slots[key] for key in uniques.tolist()]
        shard_ix = np.fromiter((shard.index for shard, _ in places), np.int64, len(places))[codes]
        rows = np.fromiter((row for _, row in places), np.int64, len(places))[codes]
        topics, offsets, times = batch.topic, batch.offset, batch.time_ms

        handled = offsets > self.offsets[shard_ix, topics]
        result.applied_before = np.bincount(topics[~handled], minlength=N_TOPICS).tolist()
        late = self._advance_watermarks(topics, times) | self._in_decided_day(topics, times)
        candidates = np.flatnonzero(handled & ~late)
        digests = event_digests(
            topics[candidates],
            key_hashes(uniques)[codes[candidates]],
            [batch.event_ids[i] for i in candidates.tolist()],
        )
        duplicate = self._duplicates(
            digests, times[candidates], shard_ix[candidates], rows[candidates], topics[candidates]
        )
        accepted = candidates[~duplicate]
        for i in np.flatnonzero(handled & late).tolist():
            result.rejected.append(Rejected(i, DlqReason.LATE, self._late_detail(int(topics[i]), int(times[i]))))
        for i in candidates[duplicate].tolist():
            result.rejected.append(Rejected(i, DlqReason.DUPLICATE, self._duplicate_detail(batch, i)))
        result.rejected.sort(key=lambda r: (int(topics[r.row]), int(offsets[r.row])))
        result.accepted = len(accepted)

        np.maximum.at(self.offsets, (shard_ix[handled], topics[handled]), offsets[handled])
        np.maximum.at(self.meta.finished, topics, offsets)
        for index in np.unique(shard_ix[handled]).tolist():
            self.shards[index].dirty = True
        if len(accepted):
            self._apply_accepted(batch, accepted, shard_ix, rows)
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
        self, digests: npt.NDArray[np.uint64], times: npt.NDArray[np.int64], shard_ix: npt.NDArray[np.int64],
        rows: npt.NDArray[np.int64], topics: npt.NDArray[np.int64],
    ) -> npt.NDArray[np.bool_]:  # fmt: skip
        """Which candidates repeat an event id already accepted for their key and topic within the horizon;
        the others' digests are remembered."""
        duplicate = np.zeros(len(digests), np.bool_)
        if not len(digests):
            return duplicate
        touched = np.unique(shard_ix).tolist()
        stored = np.concatenate([self.shards[index].digests["digest"] for index in touched])
        suspects = set(np.flatnonzero(np.isin(digests, stored)).tolist())
        _, first, counts = np.unique(digests, return_index=True, return_counts=True)
        repeated = set(np.flatnonzero(np.isin(digests, digests[first[counts > 1]])).tolist())
        kept: dict[int, list[int]] = {}
        for j in sorted(suspects | repeated):  # rare: the per-event loop only over possible repeats
            digest, t = int(digests[j]), int(times[j])
            shard = self.shards[int(shard_ix[j])]
            same = shard.digests[shard.digests["digest"] == digest] if j in suspects else shard.digests[:0]
            earlier = kept.setdefault(digest, [])
            if np.any(np.abs(same["time"] - t) <= self.horizon_ms) or any(abs(e - t) <= self.horizon_ms
                                                                          for e in earlier):  # fmt: skip
                duplicate[j] = True
            else:
                earlier.append(t)
        keep = ~duplicate
        new = np.zeros(int(keep.sum()), DIGEST_ROW)
        new["digest"], new["time"], new["row"], new["topic"] = digests[keep], times[keep], rows[keep], topics[keep]
        owner = shard_ix[keep]
        for index in touched:
            self.shards[index].add_digests(new[owner == index])
        return duplicate

    def _apply_accepted(
        self, batch: EventBatch, accepted: npt.NDArray[np.int64], shard_ix: npt.NDArray[np.int64],
        rows: npt.NDArray[np.int64],
    ) -> None:  # fmt: skip
        a_shard, a_row = shard_ix[accepted], rows[accepted]
        a_topic, a_time = batch.topic[accepted], batch.time_ms[accepted]
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

        orders = np.flatnonzero(a_topic == Topic.ORDERS)
        sign = SIGN_OF_LINE_TYPE[batch.line_type[accepted[orders]]]
        counted = orders[sign != 0]
        sign = sign[sign != 0]
        quantity, price = batch.quantity[accepted[counted]], batch.unit_price[accepted[counted]]
        clicks = np.flatnonzero(a_topic == Topic.CLICKS)
        at = np.concatenate([counted, counted, clicks])
        channels = np.concatenate([np.full(len(counted), Channel.DEMAND), np.full(len(counted), Channel.REVENUE),
                                   CHANNEL_OF_ACTION[batch.action[accepted[clicks]]]])  # fmt: skip
        values = np.concatenate([sign * quantity, sign * np.rint(quantity * price * 100), np.ones(len(clicks))])
        if len(at):
            self._add_counts(a_shard[at], buckets[at], a_row[at], channels, values)
        self._set_prices(a_shard[counted[sign > 0]], a_row[counted[sign > 0]], price[sign > 0])

        deferred: dict[int, list[tuple[object, ...]]] = {}
        for j in np.flatnonzero(a_topic == Topic.INVENTORY).tolist():
            event = batch.inventory[int(accepted[j])]
            deferred.setdefault(int(a_shard[j]), []).append(
                deferred_row(event, int(a_row[j]), int(windows[j]), int(a_time[j]))
            )
        for index, records in deferred.items():
            self.shards[index].add_deferred(deferred_rows(records))

    def _set_prices(
        self, shard_ix: npt.NDArray[np.int64], rows: npt.NDArray[np.int64], prices: npt.NDArray[np.float64]
    ) -> None:
        """Each key's unit price becomes that of its last sale in the batch (arrival order)."""
        for index in np.unique(shard_ix).tolist():
            mine = np.flatnonzero(shard_ix == index)
            r = rows[mine][::-1]
            _, last = np.unique(r, return_index=True)  # first in reverse = last in arrival order
            self.shards[index].rows["unit_price"][r[last]] = prices[mine][::-1][last]

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
    def _late_detail(self, topic: int, time_ms: int) -> str:
        name = Topic(topic).name.lower()
        decided = boundary_ms(self.meta.last_window, self.offset_s) if self.meta.last_window != NO_WINDOW else I64_MIN
        if topic != Topic.INVENTORY and time_ms < decided:
            return (
                f"event_time is before the decision boundary of window {self.meta.last_window}, already decided "
                f"while the {name} topic of this partition was idle; re-publish it with a current event_time if it "
                "must count, or raise RESTOCK_TOPIC_IDLE_S if the producer is routinely this slow"
            )
        behind = (int(self.meta.watermarks[topic]) - time_ms) / 1000
        return (
            f"event_time is {behind:.0f} s or more behind the {name} topic's event time in this partition, more "
            f"than the grace period of {self.grace_ms // 1000} s; its bucket may be closed: re-publish it with a "
            "current event_time if it must count, or raise RESTOCK_GRACE_SECONDS"
        )

    def _duplicate_detail(self, batch: EventBatch, row: int) -> str:
        return (
            f"event_id {batch.event_ids[row]!r} was already accepted for {batch.keys[row].decode(errors='replace')} "
            f"on this topic within the duplicate horizon of {self.horizon_ms // 1000} s; nothing to do if it is a "
            "retry, else give the event a new id"
        )
