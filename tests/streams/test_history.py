from __future__ import annotations

from streams.history import PartitionHistory
from streams.shard_state import ShardState
from streams.state_codec import Channel, block_key
from streams.store import MemoryPartitionStore


def shard_with_demand(buckets: dict[int, float]) -> ShardState:
    shard = ShardState(0)
    shard.add_keys([b"A|L1"])
    for bucket, units in buckets.items():
        shard.bucket(bucket)[0, Channel.DEMAND] = units
    return shard


def test_closed_days_are_read_back_in_order_and_a_rerun_does_not_add_them_twice() -> None:
    store = MemoryPartitionStore()
    history = PartitionHistory(store, shard_count=1, block_buckets=7, history_buckets=14)
    shard = shard_with_demand({100: 1.0, 103: 2.0, 109: 3.0, 110: 9.0})
    history.close(shard, close_before=110, window=110)
    assert sorted(shard.open) == [110], "the day of the decision stays open"
    assert history.flush() == 2  # blocks 14 (days 98-104) and 15 (105-111)
    again = shard_with_demand({100: 1.0})
    reader = PartitionHistory(store, 1, 7, 14)
    reader.close(again, close_before=110, window=110)  # the same decision re-run after a crash
    demand = reader.read(again, close_before=110)[0, :, Channel.DEMAND]
    assert demand.tolist() == [0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 0, 0, 0, 3]  # days 96..109


def test_blocks_older_than_the_history_are_deleted() -> None:
    store = MemoryPartitionStore()
    history = PartitionHistory(store, shard_count=1, block_buckets=7, history_buckets=14)
    history.close(shard_with_demand({100: 1.0}), close_before=105, window=105)
    history.flush()
    assert block_key(0, 0, 14) in store.data
    history.expire(previous_close=105, close_before=130)
    assert block_key(0, 0, 14) not in store.data
    assert history.read(ShardState(0), close_before=130).shape == (0, 14, len(Channel))
