"""The store a partition's processor reads and writes between flushes.

Writes stay pending in memory until the flush has delivered them to the changelog; only then do they reach the
local state, together with the checkpoint that names the changelog offset after them. So the local state never
holds a write the changelog lacks, and a failed delivery is undone by dropping the pending writes.
"""

from __future__ import annotations

from streams.state.local import Checkpoint, LocalState


class PartitionState:
    """A :class:`~streams.store.PartitionStore` over a :class:`LocalState`, with the writes since the last flush.

    A flush reads :meth:`pending`, sends it to the changelog, then calls :meth:`commit` (delivered) or
    :meth:`discard` (failed); the processor must not write in between, or :meth:`commit` would make durable
    writes the changelog never received.
    """

    def __init__(self, partition: int, local: LocalState) -> None:
        self.partition = partition
        self._local = local
        self._pending: dict[bytes, bytes | None] = {}  # a dict keeps each key at its first write's place

    def get(self, key: bytes) -> bytes | None:
        if key in self._pending:
            return self._pending[key]
        return self._local.get(key)

    def put(self, key: bytes, value: bytes) -> None:
        self._pending[key] = value

    def delete(self, key: bytes) -> None:
        self._pending[key] = None

    def pending(self) -> list[tuple[bytes, bytes | None]]:
        """Writes not yet durable: each key once with its last value (``None``: deleted), in first-write order."""
        return list(self._pending.items())

    def commit(self, checkpoint: Checkpoint) -> None:
        """Make the pending writes durable with ``checkpoint``; on failure they stay pending."""
        self._local.write(self.pending(), checkpoint)
        self._pending.clear()

    def discard(self) -> None:
        """Drop the pending writes: their changelog delivery failed, so the local state must not get them."""
        self._pending.clear()
