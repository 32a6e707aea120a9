"""Partition state for the Kafka worker: local RocksDB state, its changelog framing and the processor's overlay."""

from streams.state.changelog_codec import (
    GROUP_ID_BYTES,
    MARKER_KEY,
    CompletedGroup,
    GroupAssembler,
    encode_group,
    new_group_ids,
)
from streams.state.local import Checkpoint, LocalState, MemoryLocalState, RocksLocalState
from streams.state.overlay import PartitionState

__all__ = [
    "GROUP_ID_BYTES",
    "MARKER_KEY",
    "Checkpoint",
    "CompletedGroup",
    "GroupAssembler",
    "LocalState",
    "MemoryLocalState",
    "PartitionState",
    "RocksLocalState",
    "encode_group",
    "new_group_ids",
]
