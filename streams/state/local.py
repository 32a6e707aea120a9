"""Durable key/value state of one partition, written together with the changelog offset it reflects.

The checkpoint and the writes it covers land in one atomic write: after a crash the state is exactly the state
of some changelog offset, so a restore replays the changelog from ``checkpoint().changelog_offset`` and never
applies a write twice or misses one.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, cast

from rocksdict import Options, Rdict, WriteBatch

_OFFSET_BYTES = 8


@dataclass(frozen=True)
class Checkpoint:
    """Where in the changelog a local state stands."""

    changelog_offset: int
    """The next changelog offset a restore must read: every write before it is in this state."""

    def __post_init__(self) -> None:
        if not 0 <= self.changelog_offset < 1 << 63:
            raise ValueError(
                f"checkpoint changelog_offset {self.changelog_offset} is not a Kafka offset; pass the offset after "
                "the last changelog record this state includes (0 for an empty changelog)"
            )


class LocalState(Protocol):
    """The durable state of one partition: raw bytes keys and values, plus its checkpoint."""

    def get(self, key: bytes) -> bytes | None: ...

    def checkpoint(self) -> Checkpoint | None:
        """``None`` until the first :meth:`write`: the state was never built."""
        ...

    def write(self, writes: Sequence[tuple[bytes, bytes | None]], checkpoint: Checkpoint) -> None:
        """Apply puts (bytes) and deletes (``None``) in order and store ``checkpoint``, all or nothing."""
        ...

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """Every stored key and value (the checkpoint is not one), in key byte order."""
        ...

    def close(self) -> None: ...


def _check_types(writes: Sequence[tuple[bytes, bytes | None]]) -> None:
    """Refuse the whole write before any of it is applied, and alike in both twins, if a key or value is not bytes."""
    for key, value in writes:
        if type(key) is not bytes or not (value is None or type(value) is bytes):
            raise TypeError(
                f"state write {key!r} -> {type(value).__name__} value: keys must be bytes and values bytes or None "
                "(a delete); encode them before writing"
            )


class RocksLocalState:
    """A :class:`LocalState` in a RocksDB directory.

    Keys carry a one-byte namespace so that no user key can collide with the checkpoint: user keys are stored
    as ``b"\\x01" + key`` and the checkpoint under ``b"\\x00checkpoint"``, and iteration starts at ``b"\\x01"``.
    Keys and values are raw bytes (``raw_mode``), never pickled.

    Every :meth:`write` is one ``WriteBatch`` with RocksDB's default write options: the write-ahead log on and
    ``sync`` off. The log is written to the OS before ``write`` returns, so a process kill (``kill -9``, OOM)
    loses no acknowledged write and never exposes part of one; only power loss or a kernel crash can drop the
    last writes, and then always whole batches, which the changelog replay from the checkpoint makes good.
    """

    _USER = b"\x01"
    _CHECKPOINT_KEY = b"\x00checkpoint"

    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self._db = Rdict(str(path), Options(raw_mode=True))

    @staticmethod
    def destroy(path: Path) -> None:
        """Delete the state at ``path`` so the partition can be rebuilt from the changelog.

        RocksDB's own destroy goes first because it takes the database lock: a state still open (in this or
        another process) is refused instead of being deleted under its writer. Whatever it leaves (files
        RocksDB does not own) goes with the directory.
        """
        Rdict.destroy(str(path), Options(raw_mode=True))
        if path.exists():
            shutil.rmtree(path)

    def get(self, key: bytes) -> bytes | None:
        value: bytes | None = self._db.get(self._USER + key)
        return value

    def checkpoint(self) -> Checkpoint | None:
        raw = self._db.get(self._CHECKPOINT_KEY)
        return None if raw is None else Checkpoint(int.from_bytes(raw, "big"))

    def write(self, writes: Sequence[tuple[bytes, bytes | None]], checkpoint: Checkpoint) -> None:
        _check_types(writes)
        batch = WriteBatch(raw_mode=True)
        for key, value in writes:
            if value is None:
                batch.delete(self._USER + key)
            else:
                batch.put(self._USER + key, value)
        batch.put(self._CHECKPOINT_KEY, checkpoint.changelog_offset.to_bytes(_OFFSET_BYTES, "big"))
        self._db.write(batch)

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        entries = cast("Iterator[tuple[bytes, bytes]]", self._db.items(from_key=self._USER))  # raw mode: all bytes
        for key, value in entries:
            yield key[1:], value

    def close(self) -> None:
        self._db.close()


class MemoryLocalState:
    """The in-memory twin of :class:`RocksLocalState` for tests and throwaway runs; lost with the process."""

    def __init__(self) -> None:
        self._data: dict[bytes, bytes] = {}
        self._checkpoint: Checkpoint | None = None

    def get(self, key: bytes) -> bytes | None:
        return self._data.get(key)

    def checkpoint(self) -> Checkpoint | None:
        return self._checkpoint

    def write(self, writes: Sequence[tuple[bytes, bytes | None]], checkpoint: Checkpoint) -> None:
        _check_types(writes)
        for key, value in writes:
            if value is None:
                self._data.pop(key, None)
            else:
                self._data[key] = value
        self._checkpoint = checkpoint

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        return iter(sorted(self._data.items()))

    def close(self) -> None:
        """Nothing to release: the data lives as long as the object."""
