"""Reads a copy of the state table (a changelog read back, or a RocksDB dump) as per-key arrays.

For operators and tests: what the worker holds for each ``sku|location``, without a running worker. The
table's keys and records are described in ``streams.state_codec``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from streams.state_codec import (
    COUNT_CHANNELS,
    Channel,
    HistoryBlock,
    PartitionMeta,
    ShardRecord,
    empty_bucket_values,
    merge_buckets,
)


@dataclass(frozen=True)
class SeriesState:
    """One key: its stored row (``KEY_ROW``), and every stored bucket, open and closed, by bucket number."""

    key: str
    row: np.void
    buckets: dict[int, npt.NDArray[np.float64]]  # bucket -> [C]
    waiting_inventory_events: int

    def canonical(self) -> bytes:
        """The key's state as bytes, independent of where it sits in its shard (arrival order decides that)
        and of empty buckets; two workers that applied the same events give the same bytes."""
        used = [
            b.to_bytes(8, "little", signed=True) + values.tobytes()
            for b, values in sorted(self.buckets.items())
            if values[list(COUNT_CHANNELS)].any()
            or values[Channel.STOCKOUT]
            or not np.isnan(values[Channel.ON_HAND_END])
        ]
        return b"".join([self.row.tobytes(), self.waiting_inventory_events.to_bytes(4, "little"), *used])


def parse_table(table: Mapping[bytes, bytes], block_buckets: int) -> dict[str, SeriesState]:
    """Every key of every partition in ``table`` (history blocks widened to their shard's keys)."""
    shards: dict[tuple[int, int], ShardRecord] = {}
    blocks: dict[tuple[int, int], list[tuple[int, HistoryBlock]]] = {}
    for key, value in table.items():
        kind, *parts = key.split(b"|")
        if kind == b"s":
            shards[(int(parts[0]), int(parts[1]))] = ShardRecord.decode(value)
        elif kind == b"h":
            partition, shard, number = (int(p) for p in parts)
            blocks.setdefault((partition, shard), []).append((number, HistoryBlock.decode(value, block_buckets)))
        elif kind == b"m":
            PartitionMeta.decode(value)  # validates it
    out: dict[str, SeriesState] = {}
    for place, record in sorted(shards.items()):
        for i, name in enumerate(record.keys):
            buckets: dict[int, npt.NDArray[np.float64]] = {}
            for block_no, history in sorted(blocks.get(place, []), key=lambda pair: pair[0]):
                if i < len(history.values):
                    for offset in range(block_buckets):
                        buckets[block_no * block_buckets + offset] = history.values[i, offset].copy()
            for entry in record.open_rows[record.open_rows["row"] == i]:
                bucket = int(entry["bucket"])
                merge_buckets(buckets.setdefault(bucket, empty_bucket_values(1)[0]), entry["values"])
            waiting = int((record.deferred["row"] == i).sum())
            out[name.decode()] = SeriesState(name.decode(), record.rows[i], buckets, waiting)
    return out
