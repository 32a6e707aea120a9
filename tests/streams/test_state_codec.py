from __future__ import annotations

import numpy as np
import pytest

from streams.errors import StateCorruptError
from streams.state_codec import Channel, HistoryRecord, HotRecord, PartitionMeta, empty_open_values


def test_hot_record_round_trip() -> None:
    record = HotRecord.new()
    record.header["on_hand"] = 12.0
    record.open_buckets = np.array([5, 6], np.int64)
    record.open_values = empty_open_values(2)
    record.open_values[1, Channel.DEMAND] = 3.0
    record.dedup_hashes = np.array([1, 2, 3], np.uint64)
    record.dedup_times = np.array([10, 20, 30], np.int64)
    decoded = HotRecord.decode(record.encode())
    assert decoded.encode() == record.encode()
    assert float(decoded.header["on_hand"]) == 12.0 and decoded.open_values[1, Channel.DEMAND] == 3.0


def test_truncated_or_foreign_bytes_are_refused() -> None:
    raw = HotRecord.new().encode()
    with pytest.raises(StateCorruptError, match="bytes"):
        HotRecord.decode(raw[:-1])
    with pytest.raises(StateCorruptError, match="version"):
        HotRecord.decode(b"\x07" + raw[1:])
    with pytest.raises(StateCorruptError, match="history_days"):
        HistoryRecord.decode(HistoryRecord.new(10).encode(), 20)


def test_history_ring_keeps_the_latest_buckets_and_zeroes_gaps() -> None:
    history = HistoryRecord.new(4)
    values = empty_open_values(2)
    values[:, Channel.DEMAND] = [1.0, 2.0]
    history.append(np.array([0, 1]), values)
    values[:, Channel.DEMAND] = [7.0, 9.0]
    history.append(np.array([3, 6]), values)  # skips 2, 4 and 5; 0..2 fall out of the 4-bucket window
    assert history.through_bucket == 6
    demand = history.values[:, Channel.DEMAND]
    assert demand[[3 % 4, 4 % 4, 5 % 4, 6 % 4]].tolist() == [7.0, 0.0, 0.0, 9.0]


def test_partition_meta_round_trip() -> None:
    meta = PartitionMeta(watermark_ms=123, last_window=7)
    assert PartitionMeta.decode(meta.encode()) == meta
    assert PartitionMeta.decode(None) is None
