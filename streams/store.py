"""The byte-level state store one partition's processor reads and writes.

The worker's implementation is ``streams.state.PartitionState`` (RocksDB plus the changelog); the in-memory
twin runs the same processor in unit tests without a broker.
"""

from __future__ import annotations

from typing import Protocol


class PartitionStore(Protocol):
    """Key/value bytes of one partition. ``put`` order is the order in which the changelog receives writes."""

    partition: int

    def get(self, key: bytes) -> bytes | None: ...

    def put(self, key: bytes, value: bytes) -> None: ...

    def delete(self, key: bytes) -> None: ...


class MemoryPartitionStore:
    """A dict-backed :class:`PartitionStore`; keeps insertion-ordered writes for tests to inspect."""

    def __init__(self, partition: int = 0) -> None:
        self.partition = partition
        self.data: dict[bytes, bytes] = {}
        self.writes = 0

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    def put(self, key: bytes, value: bytes) -> None:
        self.data[key] = value
        self.writes += 1

    def delete(self, key: bytes) -> None:
        del self.data[key]
        self.writes += 1
