"""A :class:`~streams.store.PartitionStore` over a Faust RocksDB table, routed to one partition.

Faust sends a table write to the changelog partition, and stores it in the RocksDB partition, of the
*current event* (``faust.streams.current_event()``, a context variable). In a batch that is whichever event
came last, so this wrapper makes an event of the wanted partition current around every access (the
``take()`` caveat in the broker notes).

Only the context variable is set, never ``Stream.current_event``: the take buffer's processor reads that
attribute after an ``await`` to learn which event it is buffering, so changing it while a batch is handled
makes the buffer hold the routing event a second time in place of the one that arrived (a duplicate plus a
lost event; seen as "input offsets repeated/skipped" pairs). The context variable is private to the task
that sets it. ``_current_event`` is private Faust API; this module is the only place that touches it.
"""

from __future__ import annotations

import weakref
from typing import Any

from faust.streams import _current_event


class FaustPartitionStore:
    def __init__(self, table: Any, anchor: Any, partition: int) -> None:
        self.table = table
        self.partition = partition
        self._anchor: Any = None
        self.anchor = anchor

    @property
    def anchor(self) -> Any:
        return self._anchor

    @anchor.setter
    def anchor(self, event: Any) -> None:
        """Any event of this partition: the table routes writes by it (a strong reference is kept here)."""
        if event.message.partition != self.partition:
            raise ValueError(f"anchor event is from partition {event.message.partition}, not {self.partition}")
        self._anchor = event

    def _route(self) -> None:
        _current_event.set(weakref.ref(self._anchor))

    def get(self, key: bytes) -> bytes | None:
        self._route()
        value: bytes | None = self.table.get(key)
        return value

    def put(self, key: bytes, value: bytes) -> None:
        self._route()
        self.table[key] = value

    def delete(self, key: bytes) -> None:
        self._route()
        del self.table[key]
