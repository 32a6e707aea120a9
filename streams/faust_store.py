"""A :class:`~streams.store.PartitionStore` over a Faust RocksDB table, routed to one partition.

Faust sends a table write to the changelog partition, and stores it in the RocksDB partition, of the
*current event*. In a batch that is whichever event came last, so this wrapper sets an event of the wanted
partition as current around every access (the ``take()`` caveat in the broker notes). ``_set_current_event``
is private Faust API; this module is the only place that touches it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

FAUST_OFFSET_KEY = b"__faust\0offset__"


class FaustPartitionStore:
    def __init__(self, table: Any, stream: Any, anchor: Any, partition: int) -> None:
        if anchor.message.partition != partition:
            raise ValueError(f"anchor event is from partition {anchor.message.partition}, not {partition}")
        self.table = table
        self.stream = stream
        self.anchor = anchor
        self.partition = partition

    def get(self, key: bytes) -> bytes | None:
        self.stream._set_current_event(self.anchor)
        value: bytes | None = self.table.get(key)
        return value

    def put(self, key: bytes, value: bytes) -> None:
        self.stream._set_current_event(self.anchor)
        self.table[key] = value

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """Every key of this partition straight from RocksDB (sorted by key, as RocksDB iterates)."""
        db = self.table.data._db_for_partition(self.partition)
        for key, value in db.items():
            if key != FAUST_OFFSET_KEY:
                yield key, value
