from __future__ import annotations

import numpy as np
import pytest

from streams.errors import StateCorruptError
from streams.shard_state import ShardState
from streams.state_codec import (
    DEFERRED_ROW,
    DIGEST_ROW,
    Channel,
    HistoryBlock,
    PartitionMeta,
    ShardRecord,
    empty_bucket_values,
    merge_buckets,
    shard_of,
)


def filled_shard() -> ShardState:
    shard = ShardState(3)
    shard.add_keys([b"A|L1", b"B|L1", "Ä|L2".encode()])
    shard.rows["on_hand"] = [12.0, -1.0, 0.0]
    shard.bucket(100)[1, Channel.DEMAND] = 3.0
    shard.bucket(101)[2, Channel.ON_HAND_END] = 7.0
    shard.bucket(102)  # empty: not stored
    digests = np.zeros(2, DIGEST_ROW)
    digests["digest"], digests["time"], digests["row"] = [9, 4], [1000, 2000], [0, 1]
    shard.add_digests(digests)
    shard.add_deferred(np.zeros(1, DEFERRED_ROW))
    shard.offsets[:] = [5, -1, 8]
    shard.decided_window = 20_000
    return shard


def test_shard_record_round_trip_is_canonical() -> None:
    shard = filled_shard()
    raw = shard.encode(keep_after_ms=10**9)
    decoded = ShardState(3, ShardRecord.decode(raw))
    assert decoded.keys == shard.keys and decoded.offsets.tolist() == [5, -1, 8]
    assert decoded.bucket(100)[1, Channel.DEMAND] == 3.0 and decoded.bucket(101)[2, Channel.ON_HAND_END] == 7.0
    assert sorted(decoded.open) == [100, 101], "an empty bucket is not stored"
    assert decoded.digests["digest"].tolist() == [4, 9], "digests are stored sorted"
    assert decoded.encode(keep_after_ms=10**9) == raw


def test_digests_are_pruned_by_each_keys_own_latest_event() -> None:
    shard = filled_shard()
    shard.rows["latest_ms"][0, 0] = 1000 + 500  # key 0's newest order is 500 ms after its digest
    shard.rows["latest_ms"][1, 0] = 2000 + 5000
    kept = ShardRecord.decode(shard.encode(keep_after_ms=1000)).digests
    assert kept["row"].tolist() == [0]


def test_truncated_or_foreign_bytes_are_refused() -> None:
    raw = filled_shard().encode(keep_after_ms=0)
    with pytest.raises(StateCorruptError, match="bytes"):
        ShardRecord.decode(raw[:-1])
    with pytest.raises(StateCorruptError, match="version"):
        ShardRecord.decode(b"\x07" + raw[1:])
    block = HistoryBlock.new(2, 7).encode()
    with pytest.raises(StateCorruptError, match="bucket_seconds"):
        HistoryBlock.decode(block, 14)
    with pytest.raises(StateCorruptError, match="version"):
        PartitionMeta.decode(b"\x09" + PartitionMeta(16).encode()[1:])


def test_history_block_round_trip_and_widening() -> None:
    block = HistoryBlock.new(2, 7)
    block.values[1, 3, Channel.DEMAND] = 4.0
    block.written_window = 99
    decoded = HistoryBlock.decode(block.encode(), 7)
    assert decoded.written_window == 99 and decoded.values[1, 3, Channel.DEMAND] == 4.0
    wide = decoded.with_rows(5)
    assert wide.values.shape == (5, 7, len(Channel)) and np.isnan(wide.values[4, 0, Channel.ON_HAND_END])


def test_merge_adds_counts_keeps_stockouts_and_takes_the_later_on_hand() -> None:
    target, later = empty_bucket_values(2), empty_bucket_values(2)
    target[:, Channel.DEMAND] = [1.0, 2.0]
    target[0, Channel.ON_HAND_END] = 5.0
    target[1, Channel.STOCKOUT] = 1.0
    later[:, Channel.DEMAND] = [3.0, 0.0]
    later[1, Channel.ON_HAND_END] = 0.0
    merge_buckets(target, later)
    assert target[:, Channel.DEMAND].tolist() == [4.0, 2.0]
    assert target[:, Channel.ON_HAND_END].tolist() == [5.0, 0.0] and target[:, Channel.STOCKOUT].tolist() == [0, 1]


def test_partition_meta_round_trip() -> None:
    meta = PartitionMeta(16, last_window=7)
    meta.watermarks[:] = [1, 2, 3]
    decoded = PartitionMeta.decode(meta.encode())
    assert (decoded.shards, decoded.last_window, decoded.watermarks.tolist()) == (16, 7, [1, 2, 3])


def test_shard_of_is_stable_and_spreads_keys() -> None:
    assert shard_of(b"SKU-1|LON", 16) == shard_of(b"SKU-1|LON", 16)
    counts = np.bincount([shard_of(f"SKU-{i}|L".encode(), 16) for i in range(1600)], minlength=16)
    assert counts.min() > 50
