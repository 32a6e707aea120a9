"""Changelog records for one flush group of state writes, and their reassembly on restore.

Why a framing at all: the worker delivers at least once and the embedded broker has no transactions, so a writer
that dies mid-flush leaves part of a group in the changelog, followed by the groups of the writer that replaced
it; and a state value can be megabytes while every record must stay well below 64 kB. So a group ends with a
commit marker, a reader applies a group only once it has read the marker, and a large value is cut into parts.

Every record value starts with a 21-byte header: ``tag`` (1 byte), ``group id`` (16 bytes, see
:func:`new_group_ids`), ``sequence`` (uint32 big-endian: the record's position in its group, from 0). Then:

- ``P`` put. Key: the state key. Payload: the value.
- ``D`` delete. Key: the state key. No payload.
- ``S`` one part of a put too large for one record. Key: the state key. Payload: part index and part count
  (uint32 big-endian each), then the part's bytes. The parts of one value are consecutive records.
- ``C`` commit marker, always the group's last record. Key: :data:`MARKER_KEY`. No payload; its sequence is the
  number of records before it.

Record keys are the state key (parts included) so that someone reading the topic sees what each record is about.
Sequence numbers let a reader skip an at-least-once producer's retry duplicates (same number, same bytes) and
refuse lost or reordered records.

Assumptions, which the writer must keep:

- One live writer per partition. Reading a marker drops the unfinished records of every other group: they are
  a dead writer's, whose marker never came. A group first seen past its sequence 0 (its start was dropped, or
  lies before the first offset read) is ignored, marker included.
- A group's records reach the partition in order and are not re-sent after a later group (an idempotent
  producer, or one request in flight).
- The changelog is not compacted: the parts of a value share its key, and compaction would keep only the last.
- State keys are ASCII text such as ``b"p003/s0012"``. Keys that are empty or start with ``b"\\x00"`` are
  reserved for control records such as the marker, and are refused.
"""

from __future__ import annotations

import itertools
import os
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from streams.errors import StateCorruptError

GROUP_ID_BYTES = 16
MARKER_KEY = b"\x00commit"

_HEADER = struct.Struct(f">c{GROUP_ID_BYTES}sI")
_PART = struct.Struct(">II")
_PUT, _DELETE, _SPLIT, _MARKER = b"P", b"D", b"S", b"C"
_RESERVED = b"\x00"


def new_group_ids() -> Iterator[bytes]:
    """Group ids for one writer: a random writer id, so no other or later writer repeats them, then a counter."""
    writer = os.urandom(GROUP_ID_BYTES // 2)
    for counter in itertools.count():
        yield writer + counter.to_bytes(GROUP_ID_BYTES // 2, "big")


def _payload_room(key: bytes, max_record_bytes: int) -> int:
    """Bytes left for a payload in a record for ``key`` that stays below ``max_record_bytes``."""
    if not key or key.startswith(_RESERVED):
        raise ValueError(
            f"state key {key!r} is empty or starts with b'\\x00', the form the changelog reserves for its commit "
            "marker; state keys are ASCII text such as b'p003/s0012'"
        )
    room = max_record_bytes - 1 - len(key) - _HEADER.size
    if room <= _PART.size:
        raise ValueError(
            f"state key {key[:40]!r}... is {len(key)} bytes: no room left for its value in a changelog record "
            f"below max_record_bytes={max_record_bytes}; shorten the key or raise the limit"
        )
    return room


def encode_group(
    group_id: bytes, writes: Sequence[tuple[bytes, bytes | None]], max_record_bytes: int = 60_000
) -> list[tuple[bytes, bytes]]:
    """The changelog ``(key, value)`` records of ``writes`` (puts, deletes, parts of large puts), marker last.

    Each record's key and value together are shorter than ``max_record_bytes``.
    """
    if len(group_id) != GROUP_ID_BYTES:
        raise ValueError(f"group id is {len(group_id)} bytes, not {GROUP_ID_BYTES}: take ids from new_group_ids()")
    if len(MARKER_KEY) + _HEADER.size >= max_record_bytes:
        raise ValueError(f"max_record_bytes={max_record_bytes} is too small for even the commit marker")
    records: list[tuple[bytes, bytes]] = []
    for key, value in writes:
        room = _payload_room(key, max_record_bytes)
        if value is None:
            records.append((key, _HEADER.pack(_DELETE, group_id, len(records))))
        elif len(value) <= room:
            records.append((key, _HEADER.pack(_PUT, group_id, len(records)) + value))
        else:
            size = room - _PART.size
            count = -(-len(value) // size)
            for index in range(count):
                head = _HEADER.pack(_SPLIT, group_id, len(records)) + _PART.pack(index, count)
                records.append((key, head + value[index * size : (index + 1) * size]))
    records.append((MARKER_KEY, _HEADER.pack(_MARKER, group_id, len(records))))
    return records


@dataclass(frozen=True)
class CompletedGroup:
    writes: list[tuple[bytes, bytes | None]]
    """In the order written, large values reassembled."""
    marker_offset: int
    """The changelog offset of the group's marker: a checkpoint after this group is ``marker_offset + 1``."""


@dataclass
class _Group:
    records: list[tuple[bytes, bytes]] = field(default_factory=list)
    """Raw ``(key, value)`` records, by sequence number."""
    split: tuple[bytes, int, int] | None = None
    """Key, next part index and part count of a value whose parts are being read."""


def _corrupt(offset: int, detail: str) -> StateCorruptError:
    return StateCorruptError(
        f"changelog record at offset {offset}: {detail}. The restore cannot go past it; check that the changelog "
        "topic is not compacted and that its producer keeps order (enable.idempotence)"
    )


class GroupAssembler:
    """Reads one partition's changelog in offset order and hands back each group once its marker is read."""

    def __init__(self) -> None:
        self._groups: dict[bytes, _Group] = {}
        self._discarded = 0

    @property
    def pending_records(self) -> int:
        """Records held for groups whose marker has not been read yet."""
        return sum(len(group.records) for group in self._groups.values())

    @property
    def discarded_records(self) -> int:
        """Records dropped so far as a dead writer's unfinished groups: worth a log line after a restore."""
        return self._discarded

    def feed(self, offset: int, key: bytes, value: bytes) -> CompletedGroup | None:
        """The group whose marker this record is, complete; ``None`` for any other record."""
        if len(value) < _HEADER.size:
            raise _corrupt(offset, f"its value is {len(value)} bytes, shorter than the {_HEADER.size}-byte header")
        tag, group_id, seq = _HEADER.unpack_from(value)
        if tag not in (_PUT, _DELETE, _SPLIT, _MARKER):
            raise _corrupt(offset, f"unknown tag {tag!r}")
        if tag in (_DELETE, _MARKER) and len(value) != _HEADER.size:
            raise _corrupt(offset, f"a {tag!r} record carries {len(value) - _HEADER.size} payload bytes, it has none")
        if tag == _SPLIT and len(value) < _HEADER.size + _PART.size:
            raise _corrupt(offset, f"a part record of {len(value)} bytes is too short for its part index and count")
        if tag == _MARKER:
            if key != MARKER_KEY:
                raise _corrupt(offset, f"a commit marker has the key {key!r}, not {MARKER_KEY!r}")
            return self._complete(offset, group_id, seq)
        if not key or key.startswith(_RESERVED):
            raise _corrupt(offset, f"a {tag!r} record has the reserved key {key!r}")
        group = self._groups.get(group_id)
        if group is None:
            if seq:
                return None  # the group began before the first offset read or was dropped: it can never complete
            group = self._groups[group_id] = _Group()
        held = len(group.records)
        if seq < held:
            if group.records[seq] != (key, value):
                raise _corrupt(offset, f"record {seq} of group {group_id.hex()} differs from the one read before")
            return None  # a producer retry wrote it twice
        if seq > held:
            raise _corrupt(offset, f"group {group_id.hex()} jumps from record {held - 1} to {seq}: records are missing")
        self._check_part(offset, group, key, tag, value)
        group.records.append((key, value))
        return None

    @staticmethod
    def _check_part(offset: int, group: _Group, key: bytes, tag: bytes, value: bytes) -> None:
        """Refuse a part out of sequence, or a put or delete between the parts of one value."""
        split = group.split
        if tag != _SPLIT:
            if split is not None:
                raise _corrupt(offset, f"a {tag!r} record for {key!r} cuts into the parts of {split[0]!r}")
            return
        index, count = _PART.unpack_from(value, _HEADER.size)
        if split is None:
            due = "part 0 of a new value"
            fits = index == 0 < count
        else:
            due = f"part {split[1]} of {split[2]} for {split[0]!r}"
            fits = (key, index, count) == split
        if not fits:
            raise _corrupt(offset, f"part {index} of {count} for {key!r} where {due} was due")
        group.split = None if index + 1 == count else (key, index + 1, count)

    def _complete(self, offset: int, group_id: bytes, count: int) -> CompletedGroup | None:
        group = self._groups.pop(group_id, None)
        self._discarded += self.pending_records
        self._groups.clear()
        if group is None:
            # Either an empty group or one whose start was never read (see the module docstring).
            return CompletedGroup([], offset) if count == 0 else None
        if count != len(group.records):
            read = len(group.records)
            raise _corrupt(offset, f"the marker of group {group_id.hex()} counts {count} records, {read} were read")
        if group.split is not None:
            raise _corrupt(offset, f"the marker of group {group_id.hex()} cuts into the parts of {group.split[0]!r}")
        return CompletedGroup(_writes(group.records), offset)


def _writes(records: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes | None]]:
    writes: list[tuple[bytes, bytes | None]] = []
    parts: list[bytes] = []
    for key, value in records:
        tag = value[:1]
        if tag == _PUT:
            writes.append((key, value[_HEADER.size :]))
        elif tag == _DELETE:
            writes.append((key, None))
        else:
            index, count = _PART.unpack_from(value, _HEADER.size)
            parts.append(value[_HEADER.size + _PART.size :])
            if index + 1 == count:
                writes.append((key, b"".join(parts)))
                parts.clear()
    return writes
