"""A partition's closed buckets in history blocks: merging closed days in, deleting old blocks, reading the ring.

A block holds ``HISTORY_BLOCK_DAYS`` days of buckets for every key of one shard (``streams.state_codec``). A
decision closes the days before its boundary into their blocks; a complete block is never written again, and
blocks older than the history are deleted. Changed blocks are kept here until the processor writes them, before
its shard records, so a shard whose open days were dropped implies the blocks holding them are stored.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from streams.shard_state import ShardState
from streams.state_codec import N_CHANNELS, HistoryBlock, block_key, empty_bucket_values, merge_buckets
from streams.store import PartitionStore


class PartitionHistory:
    def __init__(self, store: PartitionStore, shard_count: int, block_buckets: int, history_buckets: int) -> None:
        self.store = store
        self.shard_count = shard_count
        self.block_buckets = block_buckets
        self.history_buckets = history_buckets
        self.blocks: dict[tuple[int, int], HistoryBlock] = {}
        self.dirty: set[tuple[int, int]] = set()

    def block(self, shard: int, block: int) -> HistoryBlock | None:
        found = self.blocks.get((shard, block))
        if found is None:
            raw = self.store.get(block_key(self.store.partition, shard, block))
            if raw is None:
                return None
            found = self.blocks[(shard, block)] = HistoryBlock.decode(raw, self.block_buckets)
        return found

    def close(self, shard: ShardState, close_before: int, window: int) -> None:
        """Merge the shard's open buckets before ``close_before`` into their blocks, for decision ``window``.

        A block already merged by this window's decision (before a crash) is left as it is.
        """
        oldest = close_before - self.history_buckets
        by_block: dict[int, list[tuple[int, npt.NDArray[np.float64]]]] = {}
        for bucket, values in shard.pop_buckets_before(close_before).items():
            if bucket >= oldest:
                by_block.setdefault(bucket // self.block_buckets, []).append((bucket, values))
        for block_no, closing in sorted(by_block.items()):
            block = self.block(shard.index, block_no) or HistoryBlock.new(shard.n, self.block_buckets)
            if block.written_window >= window:
                continue
            block = block.with_rows(shard.n)
            for bucket, values in closing:
                merge_buckets(block.values[:, bucket % self.block_buckets], values)
            block.written_window = window
            self.blocks[(shard.index, block_no)] = block
            self.dirty.add((shard.index, block_no))

    def expire(self, previous_close: int, close_before: int) -> None:
        """Delete blocks that fell out of the history between two decisions.

        The previous decision deleted every block up to its own newest expired one, and no block older than a
        decision's history is ever written, so only this range can hold blocks to delete.
        """

        def newest_expired(close: int) -> int:
            return (close - self.history_buckets) // self.block_buckets - 1

        for index in range(self.shard_count):
            for block_no in range(newest_expired(previous_close) + 1, newest_expired(close_before) + 1):
                key = block_key(self.store.partition, index, block_no)
                self.blocks.pop((index, block_no), None)
                self.dirty.discard((index, block_no))
                if self.store.get(key) is not None:
                    self.store.delete(key)

    def read(self, shard: ShardState, close_before: int) -> npt.NDArray[np.float64]:
        """``[shard.n, history_buckets, C]``: the closed buckets before ``close_before``, oldest first."""
        first = close_before - self.history_buckets
        first_block, last_block = first // self.block_buckets, (close_before - 1) // self.block_buckets
        width = (last_block - first_block + 1) * self.block_buckets
        span = empty_bucket_values(shard.n * width).reshape(shard.n, width, N_CHANNELS)
        for block_no in range(first_block, last_block + 1):
            block = self.block(shard.index, block_no)
            if block is not None:
                at = (block_no - first_block) * self.block_buckets
                span[: len(block.values), at : at + self.block_buckets] = block.values
        skip = first - first_block * self.block_buckets
        return span[:, skip : skip + self.history_buckets]

    def flush(self) -> int:
        """Write the changed blocks; return how many."""
        for shard, block_no in sorted(self.dirty):
            self.store.put(block_key(self.store.partition, shard, block_no), self.blocks[(shard, block_no)].encode())
        written = len(self.dirty)
        self.dirty.clear()
        self.blocks.clear()
        return written
