"""The working form of one shard: columnar arrays the processor updates in place, one encode per flush.

Open buckets are dense ``[n_keys, C]`` arrays per bucket here (so a batch adds into them with one
``np.add.at``) and sparse rows on disk. Encoding is canonical: empty bucket rows are left out, digests are
pruned by a rule that depends only on each key's own events and sorted, so the stored bytes are a function of
the events applied, not of where batches were cut.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from streams.state_codec import (
    COUNT_CHANNELS,
    DEFERRED_ROW,
    DIGEST_ROW,
    OPEN_ROW,
    Channel,
    ShardRecord,
    empty_bucket_values,
    new_key_rows,
)

_COUNTS = list(COUNT_CHANNELS)


class ShardState:
    def __init__(self, index: int, record: ShardRecord | None = None) -> None:
        self.index = index
        record = record or ShardRecord([], new_key_rows(0), np.zeros(0, OPEN_ROW), np.zeros(0, DIGEST_ROW),
                                       np.zeros(0, DEFERRED_ROW))  # fmt: skip
        self.keys: list[bytes] = record.keys
        self.slot: dict[bytes, int] = {key: i for i, key in enumerate(record.keys)}
        self.rows: npt.NDArray[np.void] = record.rows
        self.digests: npt.NDArray[np.void] = record.digests
        self.deferred: npt.NDArray[np.void] = record.deferred
        self.decided_window: int = record.decided_window
        self.offsets: npt.NDArray[np.int64] = record.offsets.copy()
        self.open: dict[int, npt.NDArray[np.float64]] = {}
        for bucket in np.unique(record.open_rows["bucket"]).tolist():
            entries = record.open_rows[record.open_rows["bucket"] == bucket]
            values = self.bucket(bucket)
            values[entries["row"].astype(np.int64)] = entries["values"]
        self.dirty = False

    @property
    def n(self) -> int:
        return len(self.keys)

    def add_keys(self, keys: list[bytes]) -> None:
        for key in keys:
            self.slot[key] = len(self.keys)
            self.keys.append(key)
        self.rows = np.concatenate([self.rows, new_key_rows(len(keys))])

    def bucket(self, bucket: int) -> npt.NDArray[np.float64]:
        """The open bucket's ``[n, C]`` values, created empty (or widened to new keys) on first use."""
        values = self.open.get(bucket)
        if values is None or len(values) < self.n:
            grown = empty_bucket_values(self.n)
            if values is not None:
                grown[: len(values)] = values
            values = self.open[bucket] = grown
        return values

    def pop_buckets_before(self, bucket: int) -> dict[int, npt.NDArray[np.float64]]:
        """Remove and return the open buckets older than ``bucket`` (they are being closed)."""
        closing: dict[int, npt.NDArray[np.float64]] = {}
        for b in sorted(b for b in self.open if b < bucket):
            closing[b] = self.bucket(b)
            del self.open[b]
        return closing

    def add_digests(self, digests: npt.NDArray[np.void]) -> None:
        self.digests = np.concatenate([self.digests, digests])

    def add_deferred(self, deferred: npt.NDArray[np.void]) -> None:
        self.deferred = np.concatenate([self.deferred, deferred])

    def record(self, keep_after_ms: int) -> ShardRecord:
        """The canonical stored form; prunes digests older than each key's latest event per topic minus
        ``keep_after_ms`` (no event the worker can still accept could repeat them)."""
        digests = self.digests
        if len(digests):
            latest = self.rows["latest_ms"][digests["row"].astype(np.int64), digests["topic"].astype(np.int64)]
            digests = digests[digests["time"] + keep_after_ms >= latest]
            digests = digests[np.lexsort((digests["time"], digests["digest"]))]
            self.digests = digests
        parts = []
        for bucket in sorted(self.open):
            values = self.bucket(bucket)
            used = (values[:, _COUNTS] != 0).any(axis=1) | (values[:, Channel.STOCKOUT] != 0)
            used |= ~np.isnan(values[:, Channel.ON_HAND_END])
            rows = np.flatnonzero(used)
            part = np.zeros(len(rows), OPEN_ROW)
            part["bucket"], part["row"], part["values"] = bucket, rows, values[rows]
            parts.append(part)
        open_rows = np.concatenate(parts) if parts else np.zeros(0, OPEN_ROW)
        return ShardRecord(list(self.keys), self.rows, open_rows, digests, self.deferred, self.decided_window,
                           self.offsets.copy())  # fmt: skip

    def encode(self, keep_after_ms: int) -> bytes:
        return self.record(keep_after_ms).encode()
