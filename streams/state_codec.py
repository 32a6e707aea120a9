"""Binary layout of the per-``sku|location`` state records kept in the RocksDB table.

Two records per key, so that a busy key rewrites only a small record per batch:
- the *hot* record (table key ``sku|location``): inventory, item master, restock's own pending order, the
  buckets that are still open (event time has not passed them by more than the grace period), recent
  event-id hashes for duplicate detection and the last applied offset of each input topic (so a batch
  replayed after a crash is applied once);
- the *history* record (table key ``sku|location#h``): a ring buffer of closed buckets ``[H, C]``, rewritten
  only when a bucket closes, i.e. about once per bucket per active key.

Fixed-width headers are numpy structured dtypes, so a decision pass decodes thousands of headers in one
``np.frombuffer`` call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from streams.errors import StateCorruptError

HOT_VERSION = 1
HISTORY_VERSION = 1
HISTORY_SUFFIX = b"#h"
META_PREFIX = b"\x00meta|"


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


class Topic(IntEnum):
    ORDERS = 0
    INVENTORY = 1
    CLICKS = 2


# Item master fields an InventoryEvent may carry; NaN in the hot record means "not known yet".
ITEM_MASTER_FIELDS = ("lead_time_days", "lead_time_std_days", "case_pack", "moq", "unit_cost", "shelf_capacity")

HOT_HEADER = np.dtype(
    [
        ("version", "u1"),
        ("n_open", "<u2"),
        ("n_dedup", "<u2"),
        ("on_hand", "<f8"),
        ("on_order", "<f8"),
        ("backorders", "<f8"),
        ("snapshot_ms", "<i8"),
        ("last_event_ms", "<i8"),
        ("first_bucket", "<i8"),
        ("lead_time_days", "<f4"),
        ("lead_time_std_days", "<f4"),
        ("case_pack", "<f4"),
        ("moq", "<f4"),
        ("unit_cost", "<f4"),
        ("shelf_capacity", "<f4"),
        ("unit_price", "<f4"),
        ("pending_qty", "<f8"),
        ("pending_need_by_day", "<i4"),
        ("pending_window", "<i4"),
        ("pending_id", "S32"),
        ("offsets", "<i8", (3,)),
    ]
)
HISTORY_HEADER = np.dtype([("version", "u1"), ("through_bucket", "<i8")])
META = np.dtype([("version", "u1"), ("watermark_ms", "<i8"), ("last_window", "<i4")])

_NAN32 = np.float32(np.nan)
VALUE_DTYPE = np.dtype("<f8")  # counts are whole numbers: exact in float64 whatever the order of addition


def empty_open_values(n: int) -> npt.NDArray[np.float64]:
    values = np.zeros((n, N_CHANNELS), dtype=VALUE_DTYPE)
    values[:, Channel.ON_HAND_END] = np.nan
    return values


@dataclass
class HotRecord:
    """Decoded hot record: ``header`` is a 0-d structured array, the rest are small arrays."""

    header: np.void
    open_buckets: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    open_values: npt.NDArray[np.float64] = field(default_factory=lambda: empty_open_values(0))
    dedup_hashes: npt.NDArray[np.uint64] = field(default_factory=lambda: np.zeros(0, np.uint64))
    dedup_times: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))

    @classmethod
    def new(cls) -> HotRecord:
        header = np.zeros((), dtype=HOT_HEADER)
        header["version"] = HOT_VERSION
        header["first_bucket"] = -1
        header["snapshot_ms"] = np.iinfo(np.int64).min
        header["pending_need_by_day"] = -1
        header["pending_window"] = -1
        header["offsets"] = -1
        for name in ITEM_MASTER_FIELDS:
            header[name] = _NAN32
        header["unit_price"] = _NAN32
        return cls(header=np.frombuffer(header.tobytes(), HOT_HEADER, 1)[0].copy())

    def encode(self) -> bytes:
        header = self.header.copy()
        header["n_open"] = len(self.open_buckets)
        header["n_dedup"] = len(self.dedup_hashes)
        return b"".join(
            (
                header.tobytes(),
                self.open_buckets.astype("<i8", copy=False).tobytes(),
                self.open_values.astype(VALUE_DTYPE, copy=False).tobytes(),
                self.dedup_hashes.astype("<u8", copy=False).tobytes(),
                self.dedup_times.astype("<i8", copy=False).tobytes(),
            )
        )

    @classmethod
    def decode(cls, raw: bytes) -> HotRecord:
        size = HOT_HEADER.itemsize
        if len(raw) < size or raw[0] != HOT_VERSION:
            raise StateCorruptError(
                f"hot state record of {len(raw)} bytes has version {raw[:1]!r}, expected {HOT_VERSION}; "
                "rebuild state by replaying the input topics into a fresh app id"
            )
        header = np.frombuffer(raw, dtype=HOT_HEADER, count=1)[0].copy()
        n_open, n_dedup = int(header["n_open"]), int(header["n_dedup"])
        expected = size + n_open * (8 + VALUE_DTYPE.itemsize * N_CHANNELS) + n_dedup * 16
        if len(raw) != expected:
            raise StateCorruptError(f"hot state record is {len(raw)} bytes, its header implies {expected}")
        pos = size
        buckets = np.frombuffer(raw, "<i8", n_open, pos).copy()
        pos += 8 * n_open
        values = np.frombuffer(raw, VALUE_DTYPE, n_open * N_CHANNELS, pos).reshape(n_open, N_CHANNELS).copy()
        pos += VALUE_DTYPE.itemsize * N_CHANNELS * n_open
        hashes = np.frombuffer(raw, "<u8", n_dedup, pos).copy()
        pos += 8 * n_dedup
        times = np.frombuffer(raw, "<i8", n_dedup, pos).copy()
        return cls(header, buckets, values, hashes, times)


@dataclass
class HistoryRecord:
    """Ring buffer of closed buckets: row ``b % H`` holds bucket ``b`` for ``through - H < b <= through``."""

    through_bucket: int
    values: npt.NDArray[np.float64]

    @classmethod
    def new(cls, length: int) -> HistoryRecord:
        return cls(through_bucket=-1, values=empty_open_values(length))

    def encode(self) -> bytes:
        header = np.zeros((), dtype=HISTORY_HEADER)
        header["version"] = HISTORY_VERSION
        header["through_bucket"] = self.through_bucket
        return header.tobytes() + self.values.astype(VALUE_DTYPE, copy=False).tobytes()

    @classmethod
    def decode(cls, raw: bytes, length: int) -> HistoryRecord:
        size = HISTORY_HEADER.itemsize
        if len(raw) != size + VALUE_DTYPE.itemsize * N_CHANNELS * length or raw[0] != HISTORY_VERSION:
            raise StateCorruptError(
                f"history record of {len(raw)} bytes does not hold {length} buckets of version "
                f"{HISTORY_VERSION}; history_days must not change without rebuilding state"
            )
        through = int(np.frombuffer(raw, HISTORY_HEADER, 1)[0]["through_bucket"])
        values = np.frombuffer(raw, VALUE_DTYPE, length * N_CHANNELS, size).reshape(length, N_CHANNELS).copy()
        return cls(through, values)

    def append(self, buckets: npt.NDArray[np.int64], values: npt.NDArray[np.float64]) -> None:
        """Write closed buckets (ascending, all newer than ``through_bucket``), zeroing skipped rows."""
        if len(buckets) == 0:
            return
        length = len(self.values)
        newest = int(buckets[-1])
        start = max(self.through_bucket + 1, newest - length + 1)
        gap = np.arange(start, newest + 1) % length
        self.values[gap] = empty_open_values(len(gap))
        keep = buckets > newest - length
        self.values[buckets[keep] % length] = values[keep]
        self.through_bucket = newest


@dataclass(frozen=True)
class PartitionMeta:
    """Per-partition progress, written last in each batch so it never runs ahead of the keys' records."""

    watermark_ms: int
    last_window: int

    def encode(self) -> bytes:
        meta = np.zeros((), dtype=META)
        meta["version"] = 1
        meta["watermark_ms"] = self.watermark_ms
        meta["last_window"] = self.last_window
        return meta.tobytes()

    @classmethod
    def decode(cls, raw: bytes | None) -> PartitionMeta | None:
        if raw is None:
            return None
        meta = np.frombuffer(raw, META, 1)[0]
        return cls(int(meta["watermark_ms"]), int(meta["last_window"]))


def meta_key(partition: int) -> bytes:
    return META_PREFIX + str(partition).encode()


def history_key(key: bytes) -> bytes:
    return key + HISTORY_SUFFIX
