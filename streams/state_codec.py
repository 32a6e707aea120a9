"""Binary layout of the state table: shard records, history blocks and partition progress.

Why shards: every state write is a changelog record, so one record per ``sku|location`` per batch would
cost more than everything else together. The keys of a partition are spread over ``state_shards`` shards by a
stable hash and a batch rewrites each touched shard once: the changelog carries at most
``partitions x state_shards`` records per batch, whatever the number of keys.

Table keys (bytes):
- ``s|<partition>|<shard>``: the shard's *hot* record, columnar: its keys, one fixed-width row per key
  (inventory, item master, restock's own pending order, first/last event times), the open buckets of demand
  and clicks (sparse rows), recent event-id digests for duplicate detection, the inventory events not yet
  folded (see ``streams.processor``) and the last applied offset of each input topic;
- ``h|<partition>|<shard>|<block>``: closed buckets of one block of ``HISTORY_BLOCK_DAYS`` days for every key of
  the shard, written when a decision closes days, never while days stay closed; together the last blocks are
  the ring of ``history_days`` a decision reads, and older ones are deleted;
- ``m|<partition>``: the partition's progress (per-topic event-time watermarks, last decided window).

Fixed-width parts are numpy structured dtypes, so a record decodes with a handful of ``np.frombuffer`` calls.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from streams.errors import StateCorruptError

SHARD_VERSION = 2
BLOCK_VERSION = 2
META_VERSION = 2
HISTORY_BLOCK_DAYS = 7

I32_MAX = np.iinfo(np.int32).max
I64_MIN = np.iinfo(np.int64).min
I64_MAX = np.iinfo(np.int64).max


class Channel(IntEnum):
    """Columns of a bucket: what is counted per key and bucket."""

    DEMAND = 0  # units sold, net of cancellations
    REVENUE = 1  # units x unit price in cents (whole numbers, so sums do not depend on summation order)
    VIEW = 2
    ADD_TO_CART = 3
    REMOVE_FROM_CART = 4
    PURCHASE_CLICK = 5
    STOCKOUT = 6  # 1 when an inventory event left on hand <= 0 in the bucket
    ON_HAND_END = 7  # on hand after the bucket's last inventory event; NaN when it had none


N_CHANNELS = len(Channel)
CLICK_CHANNELS = (Channel.VIEW, Channel.ADD_TO_CART, Channel.REMOVE_FROM_CART, Channel.PURCHASE_CLICK)
COUNT_CHANNELS = (Channel.DEMAND, Channel.REVENUE, *CLICK_CHANNELS)


class Topic(IntEnum):
    ORDERS = 0
    INVENTORY = 1
    CLICKS = 2


N_TOPICS = len(Topic)

# Item master fields an InventoryEvent may carry; NaN in a key row means "not known yet".
ITEM_MASTER_FIELDS = ("lead_time_days", "lead_time_std_days", "case_pack", "moq", "unit_cost", "shelf_capacity")

KEY_ROW = np.dtype(
    [
        ("on_hand", "<f8"),
        ("on_order", "<f8"),
        ("backorders", "<f8"),
        ("snapshot_ms", "<i8"),  # event time of the snapshot on hand comes from (older ones are ignored)
        ("first_window", "<i4"),  # first decision window with an accepted event: the key exists from then on
        ("first_bucket", "<i8"),  # first bucket with an accepted event: earlier days are unobserved
        ("last_event_ms", "<i8"),
        ("latest_ms", "<i8", (N_TOPICS,)),  # latest accepted event time per topic (prunes the digests)
        *((name, "<f4") for name in ITEM_MASTER_FIELDS),
        ("unit_price", "<f4"),  # of the last sale line, in offset order
        ("pending_qty", "<f8"),
        ("pending_need_by_day", "<i4"),
        ("pending_window", "<i4"),
        ("pending_id", "S32"),
    ]
)

OPEN_ROW = np.dtype([("bucket", "<i8"), ("row", "<u4"), ("values", "<f8", (N_CHANNELS,))])
DIGEST_ROW = np.dtype([("digest", "<u8"), ("time", "<i8"), ("row", "<u4"), ("topic", "u1")])


class InventoryKind(IntEnum):
    SNAPSHOT = 0
    RECEIPT = 1
    ADJUSTMENT = 2
    SHIPMENT = 3


# One inventory event waiting to be folded into its key's row; NaN (or b"") where the event had no value.
DEFERRED_ROW = np.dtype(
    [
        ("row", "<u4"),
        ("window", "<i4"),
        ("time", "<i8"),
        ("kind", "u1"),
        ("on_hand", "<f8"),
        ("delta", "<f8"),
        ("on_order", "<f8"),
        ("backorders", "<f8"),
        ("master", "<f4", (len(ITEM_MASTER_FIELDS),)),
        ("command_id", "S32"),
    ]
)

SHARD_HEADER = np.dtype(
    [
        ("version", "u1"),
        ("n_keys", "<u4"),
        ("key_bytes", "<u4"),
        ("n_open", "<u4"),
        ("n_digests", "<u4"),
        ("n_deferred", "<u4"),
        ("decided_window", "<i4"),
        ("offsets", "<i8", (N_TOPICS,)),
    ]
)
BLOCK_HEADER = np.dtype([("version", "u1"), ("n_rows", "<u4"), ("n_buckets", "<u4"), ("written_window", "<i4")])
META = np.dtype(
    [
        ("version", "u1"),
        ("shards", "<u2"),
        ("last_window", "<i4"),
        ("watermarks", "<i8", (N_TOPICS,)),
        ("first_ms", "<i8", (N_TOPICS,)),
        ("finished", "<i8", (N_TOPICS,)),  # last offset handled per topic, dead letters included
    ]
)
NO_WINDOW = -(2**31)


def new_key_rows(n: int) -> npt.NDArray[np.void]:
    rows = np.zeros(n, KEY_ROW)
    rows["snapshot_ms"] = I64_MIN
    rows["first_window"] = I32_MAX
    rows["first_bucket"] = I64_MAX
    rows["last_event_ms"] = I64_MIN
    rows["latest_ms"] = I64_MIN
    for name in ITEM_MASTER_FIELDS:
        rows[name] = np.nan
    rows["unit_price"] = np.nan
    rows["pending_need_by_day"] = -1
    rows["pending_window"] = -1
    return rows


def empty_bucket_values(n: int) -> npt.NDArray[np.float64]:
    values = np.zeros((n, N_CHANNELS), np.float64)
    values[:, Channel.ON_HAND_END] = np.nan
    return values


def merge_buckets(target: npt.NDArray[np.float64], values: npt.NDArray[np.float64]) -> None:
    """Merge ``values`` into ``target`` (both ``[..., C]``) in place: counts add up, a stockout in either
    stays, and on hand is the later one where it is known."""
    counts = list(COUNT_CHANNELS)
    target[..., counts] += values[..., counts]
    np.maximum(target[..., Channel.STOCKOUT], values[..., Channel.STOCKOUT], out=target[..., Channel.STOCKOUT])
    known = ~np.isnan(values[..., Channel.ON_HAND_END])
    target[..., Channel.ON_HAND_END][known] = values[..., Channel.ON_HAND_END][known]


def shard_of(key: bytes, shards: int) -> int:
    """Stable across processes and versions (Python's ``hash`` is salted), so a key always finds its shard."""
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "little") % shards


def shard_key(partition: int, shard: int) -> bytes:
    return b"s|%d|%d" % (partition, shard)


def block_key(partition: int, shard: int, block: int) -> bytes:
    return b"h|%d|%d|%d" % (partition, shard, block)


def meta_key(partition: int) -> bytes:
    return b"m|%d" % partition


def _take(raw: bytes, dtype: np.dtype, count: int, pos: int) -> tuple[npt.NDArray[np.void], int]:
    end = pos + dtype.itemsize * count
    if end > len(raw):
        raise StateCorruptError(f"state record of {len(raw)} bytes ends before its {dtype} part ({end} bytes)")
    return np.frombuffer(raw, dtype, count, pos).copy(), end


@dataclass
class ShardRecord:
    """The stored form of one shard's hot state (``streams.shard_state`` holds the working form)."""

    keys: list[bytes]
    rows: npt.NDArray[np.void]  # [n] KEY_ROW
    open_rows: npt.NDArray[np.void]  # OPEN_ROW, sorted by (bucket, row)
    digests: npt.NDArray[np.void]  # DIGEST_ROW, sorted by (digest, time)
    deferred: npt.NDArray[np.void]  # DEFERRED_ROW, in arrival (offset) order
    decided_window: int = NO_WINDOW
    offsets: npt.NDArray[np.int64] = field(default_factory=lambda: np.full(N_TOPICS, -1, np.int64))

    def encode(self) -> bytes:
        header = np.zeros((), SHARD_HEADER)
        key_blob = b"".join(self.keys)
        header["version"] = SHARD_VERSION
        header["n_keys"] = len(self.keys)
        header["key_bytes"] = len(key_blob)
        header["n_open"] = len(self.open_rows)
        header["n_digests"] = len(self.digests)
        header["n_deferred"] = len(self.deferred)
        header["decided_window"] = self.decided_window
        header["offsets"] = self.offsets
        lengths = np.fromiter((len(k) for k in self.keys), "<u2", len(self.keys))
        return b"".join(
            (
                header.tobytes(),
                lengths.tobytes(),
                key_blob,
                self.rows.astype(KEY_ROW, copy=False).tobytes(),
                self.open_rows.tobytes(),
                self.digests.tobytes(),
                self.deferred.tobytes(),
            )
        )

    @classmethod
    def decode(cls, raw: bytes) -> ShardRecord:
        if len(raw) < SHARD_HEADER.itemsize or raw[0] != SHARD_VERSION:
            raise StateCorruptError(
                f"shard record of {len(raw)} bytes has version {raw[:1]!r}, expected {SHARD_VERSION}; "
                "rebuild state by replaying the input topics into a fresh app id"
            )
        header = np.frombuffer(raw, SHARD_HEADER, 1)[0]
        pos = SHARD_HEADER.itemsize
        n = int(header["n_keys"])
        lengths, pos = _take(raw, np.dtype("<u2"), n, pos)
        blob, pos = raw[pos : pos + int(header["key_bytes"])], pos + int(header["key_bytes"])
        bounds = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
        keys = [blob[bounds[i] : bounds[i + 1]] for i in range(n)]
        rows, pos = _take(raw, KEY_ROW, n, pos)
        open_rows, pos = _take(raw, OPEN_ROW, int(header["n_open"]), pos)
        digests, pos = _take(raw, DIGEST_ROW, int(header["n_digests"]), pos)
        deferred, pos = _take(raw, DEFERRED_ROW, int(header["n_deferred"]), pos)
        if pos != len(raw):
            raise StateCorruptError(f"shard record is {len(raw)} bytes, its header implies {pos}")
        return cls(
            keys, rows, open_rows, digests, deferred, int(header["decided_window"]), header["offsets"].astype(np.int64)
        )


@dataclass
class HistoryBlock:
    """Closed buckets ``[n_rows, n_buckets, C]`` of one block; rows are the shard's first ``n_rows`` keys.

    ``written_window`` is the decision that last merged buckets into it: a decision re-run after a crash
    finds its own merge already done and does not add the buckets twice.
    """

    values: npt.NDArray[np.float64]
    written_window: int = NO_WINDOW

    @classmethod
    def new(cls, n_rows: int, n_buckets: int) -> HistoryBlock:
        return cls(empty_bucket_values(n_rows * n_buckets).reshape(n_rows, n_buckets, N_CHANNELS))

    def with_rows(self, n_rows: int) -> HistoryBlock:
        """The block widened to ``n_rows`` keys (keys added since it was written have no history in it)."""
        have, n_buckets = self.values.shape[:2]
        if n_rows <= have:
            return self
        extra = empty_bucket_values((n_rows - have) * n_buckets).reshape(n_rows - have, n_buckets, N_CHANNELS)
        return HistoryBlock(np.concatenate([self.values, extra]), self.written_window)

    def encode(self) -> bytes:
        header = np.zeros((), BLOCK_HEADER)
        header["version"] = BLOCK_VERSION
        header["n_rows"], header["n_buckets"] = self.values.shape[:2]
        header["written_window"] = self.written_window
        return header.tobytes() + self.values.astype("<f8", copy=False).tobytes()

    @classmethod
    def decode(cls, raw: bytes, n_buckets: int) -> HistoryBlock:
        if len(raw) < BLOCK_HEADER.itemsize or raw[0] != BLOCK_VERSION:
            raise StateCorruptError(f"history block of {len(raw)} bytes is not version {BLOCK_VERSION}")
        header = np.frombuffer(raw, BLOCK_HEADER, 1)[0]
        n_rows = int(header["n_rows"])
        if int(header["n_buckets"]) != n_buckets:
            raise StateCorruptError(
                f"history block holds {int(header['n_buckets'])} buckets, this worker expects {n_buckets}; "
                "bucket_seconds must not change without rebuilding state"
            )
        end = BLOCK_HEADER.itemsize + 8 * n_rows * n_buckets * N_CHANNELS
        if end != len(raw):
            raise StateCorruptError(f"history block is {len(raw)} bytes, its header implies {end}")
        values = np.frombuffer(raw, "<f8", n_rows * n_buckets * N_CHANNELS, BLOCK_HEADER.itemsize).copy()
        return cls(values.reshape(n_rows, n_buckets, N_CHANNELS), int(header["written_window"]))


@dataclass
class PartitionMeta:
    """Per-partition progress; written after the partition's shard records in every flush."""

    shards: int
    last_window: int = NO_WINDOW
    watermarks: npt.NDArray[np.int64] = field(default_factory=lambda: np.full(N_TOPICS, I64_MIN, np.int64))
    first_ms: npt.NDArray[np.int64] = field(default_factory=lambda: np.full(N_TOPICS, I64_MAX, np.int64))
    finished: npt.NDArray[np.int64] = field(default_factory=lambda: np.full(N_TOPICS, -1, np.int64))

    def encode(self) -> bytes:
        meta = np.zeros((), META)
        meta["version"] = META_VERSION
        meta["shards"] = self.shards
        meta["last_window"] = self.last_window
        meta["watermarks"] = self.watermarks
        meta["first_ms"] = self.first_ms
        meta["finished"] = self.finished
        return meta.tobytes()

    @classmethod
    def decode(cls, raw: bytes) -> PartitionMeta:
        if len(raw) != META.itemsize or raw[0] != META_VERSION:
            raise StateCorruptError(f"partition meta of {len(raw)} bytes is not version {META_VERSION}")
        meta = np.frombuffer(raw, META, 1)[0]
        return cls(
            int(meta["shards"]),
            int(meta["last_window"]),
            meta["watermarks"].astype(np.int64),
            meta["first_ms"].astype(np.int64),
            meta["finished"].astype(np.int64),
        )
