from __future__ import annotations

import random
import struct
from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.errors import StateCorruptError
from streams.state import MARKER_KEY, CompletedGroup, GroupAssembler, encode_group, new_group_ids

Writes = list[tuple[bytes, bytes | None]]
Record = tuple[bytes, bytes]
KEY = b"p003/s0012"
ROOM = 60_000 - 1 - len(KEY) - 21  # the most value bytes a put record for KEY carries at the default limit
PART = ROOM - 8  # the bytes of one part


def feed(assembler: GroupAssembler, records: Iterable[Record], start: int = 0) -> list[CompletedGroup]:
    completed = [assembler.feed(offset, key, value) for offset, (key, value) in enumerate(records, start)]
    return [group for group in completed if group is not None]


def value_of(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def header(tag: bytes, group_id: bytes, seq: int) -> bytes:
    """The documented 21-byte header, built independently of the codec."""
    return tag + group_id + struct.pack(">I", seq)


GID = bytes(range(16))


def test_the_record_format_is_the_documented_one() -> None:
    records = encode_group(GID, [(b"k1", b"v"), (b"k2", None), (b"k3", b"abcdefghij")], max_record_bytes=43)
    # k3: 43 - 1 - 2 - 21 = 19 bytes of payload: 8 for the part index and count, 11 for the value; 10 fit in one put
    assert records == [
        (b"k1", header(b"P", GID, 0) + b"v"),
        (b"k2", header(b"D", GID, 1)),
        (b"k3", header(b"P", GID, 2) + b"abcdefghij"),
        (MARKER_KEY, header(b"C", GID, 3)),
    ]
    split = encode_group(GID, [(b"k3", b"abcdefghijklmnopqrstuvw")], max_record_bytes=42)  # parts of 10 bytes
    assert split == [
        (b"k3", header(b"S", GID, 0) + struct.pack(">II", 0, 3) + b"abcdefghij"),
        (b"k3", header(b"S", GID, 1) + struct.pack(">II", 1, 3) + b"klmnopqrst"),
        (b"k3", header(b"S", GID, 2) + struct.pack(">II", 2, 3) + b"uvw"),
        (MARKER_KEY, header(b"C", GID, 3)),
    ]


@pytest.mark.parametrize(
    ("size", "records"),
    [(0, 1), (ROOM, 1), (ROOM + 1, 2), (2 * PART, 2), (2 * PART + 1, 3), (3_000_000, -(-3_000_000 // PART))],
)
def test_values_at_the_part_boundaries_round_trip_in_records_below_the_limit(size: int, records: int) -> None:
    value = value_of(size, size)
    encoded = encode_group(GID, [(KEY, value)])
    assert len(encoded) == records + 1
    assert max(len(key) + len(value) for key, value in encoded) < 60_000
    assert feed(GroupAssembler(), encoded) == [CompletedGroup([(KEY, value)], records)]


KEYS = st.builds(lambda p, s: b"p%03d/s%04d" % (p, s), st.integers(0, 2), st.integers(0, 20))
LARGE = st.builds(value_of, st.one_of(st.integers(0, 2_000), st.integers(0, 3_000_000)), st.integers(0, 2**32))
SMALL = st.builds(value_of, st.integers(0, 20_000), st.integers(0, 2**32))


def groups(values: st.SearchStrategy[bytes], max_writes: int) -> st.SearchStrategy[list[Writes]]:
    group = st.lists(st.tuples(KEYS, st.one_of(st.none(), values)), max_size=max_writes)
    return st.lists(group, max_size=3)


@settings(max_examples=60, deadline=None)
@given(
    before=groups(LARGE, 4),
    unfinished=groups(LARGE, 4).map(lambda gs: [w for g in gs for w in g]),
    after=groups(LARGE, 4),
    cut=st.integers(0, 1000),
)
def test_groups_round_trip_and_a_dead_writers_unfinished_group_is_never_applied(
    before: list[Writes], unfinished: Writes, after: list[Writes], cut: int
) -> None:
    dead, live = new_group_ids(), new_group_ids()
    stream = [record for writes in before for record in encode_group(next(dead), writes)]
    leftover = encode_group(next(dead), unfinished)[:-1]  # the writer died before its marker
    leftover = leftover[: cut % (len(leftover) + 1)]
    stream += leftover
    stream += [record for writes in after for record in encode_group(next(live), writes)]
    assert all(len(key) + len(value) < 60_000 for key, value in stream)

    assembler = GroupAssembler()
    completed = feed(assembler, stream)
    assert [group.writes for group in completed] == before + after
    assert [group.marker_offset for group in completed] == [i for i, (k, _) in enumerate(stream) if k == MARKER_KEY]
    assert assembler.pending_records == 0 if after else assembler.pending_records == len(leftover)
    assert assembler.discarded_records == (len(leftover) if after else 0)


@settings(max_examples=60, deadline=None)
@given(group=groups(SMALL, 8), limit=st.integers(64, 5_000))
def test_any_record_limit_is_kept_and_round_trips(group: list[Writes], limit: int) -> None:
    ids = new_group_ids()
    stream = [record for writes in group for record in encode_group(next(ids), writes, limit)]
    assert all(len(key) + len(value) < limit for key, value in stream)
    assert [completed.writes for completed in feed(GroupAssembler(), stream)] == group


def test_an_empty_group_completes_with_no_writes() -> None:
    assert feed(GroupAssembler(), encode_group(GID, [])) == [CompletedGroup([], 0)]


def test_group_ids_are_16_bytes_and_never_repeat_across_writers() -> None:
    first, second = new_group_ids(), new_group_ids()
    ids = [next(first) for _ in range(1000)] + [next(second) for _ in range(1000)]
    assert {len(group_id) for group_id in ids} == {16}
    assert len(set(ids)) == 2000


@pytest.mark.parametrize("key", [b"", b"\x00", b"\x00p003", MARKER_KEY])
def test_a_state_key_in_the_reserved_form_is_refused(key: bytes) -> None:
    with pytest.raises(ValueError, match="reserves for its commit marker"):
        encode_group(GID, [(KEY, b"v"), (key, b"v")])


def test_a_key_too_long_for_any_record_is_refused() -> None:
    with pytest.raises(ValueError, match="shorten the key or raise the limit"):
        encode_group(GID, [(b"k" * 59_970, None)])
    encode_group(GID, [(b"k" * 59_969, b"still fits, one byte a part")])


def test_a_group_id_of_the_wrong_size_is_refused() -> None:
    with pytest.raises(ValueError, match="not 16"):
        encode_group(b"short", [])


def three_parts_and_a_put() -> list[Record]:
    return encode_group(GID, [(KEY, value_of(3 * PART, 1)), (b"p003/s0013", b"v")])


def test_a_missing_part_is_an_error_naming_the_offset() -> None:
    records = three_parts_and_a_put()
    with pytest.raises(StateCorruptError, match=r"offset 12: group .* jumps from record 0 to 2"):
        feed(GroupAssembler(), records[:1] + records[2:], start=11)


def test_a_part_out_of_sequence_is_an_error_even_with_its_record_in_sequence() -> None:
    records = three_parts_and_a_put()
    key, value = records[1]
    records[1] = (key, value[:21] + struct.pack(">II", 2, 3) + value[29:])
    with pytest.raises(ValueError, match=r"offset 1: part 2 of 3 for b'p003/s0012' where part 1 of 3"):
        feed(GroupAssembler(), records)


def test_a_put_between_the_parts_of_a_value_is_an_error() -> None:
    records = three_parts_and_a_put()
    records[1] = (b"p003/s0013", header(b"P", GID, 1) + b"v")
    with pytest.raises(ValueError, match="offset 1: a b'P' record for b'p003/s0013' cuts into the parts"):
        feed(GroupAssembler(), records)


def test_a_marker_counting_more_records_than_were_read_is_an_error() -> None:
    records = three_parts_and_a_put()
    with pytest.raises(ValueError, match=r"offset 3: the marker of group .* counts 4 records, 3 were read"):
        feed(GroupAssembler(), records[:3] + records[4:])


@pytest.mark.parametrize(
    ("key", "value", "error"),
    [
        (KEY, b"P" + GID, "shorter than the 21-byte header"),
        (KEY, header(b"X", GID, 0), "unknown tag b'X'"),
        (KEY, header(b"S", GID, 0) + b"\x00", "too short for its part index and count"),
        (KEY, header(b"D", GID, 0) + b"!", "carries 1 payload bytes"),
        (KEY, header(b"C", GID, 0), "a commit marker has the key"),
        (MARKER_KEY, header(b"P", GID, 0), "reserved key"),
    ],
)
def test_malformed_records_are_errors_naming_the_offset(key: bytes, value: bytes, error: str) -> None:
    with pytest.raises(ValueError, match=f"offset 7: .*{error}"):
        GroupAssembler().feed(7, key, value)


def test_a_producer_retrys_duplicate_is_skipped_but_a_changed_record_is_an_error() -> None:
    records = three_parts_and_a_put()
    twice = records[:2] + records[1:2] + records[2:] + records[:1]  # and the first again after the marker
    assembler = GroupAssembler()
    assert [group.writes for group in feed(assembler, twice)] == [[(KEY, value_of(3 * PART, 1)), (b"p003/s0013", b"v")]]
    assert assembler.pending_records == 1, "the late copy of record 0 waits, to be dropped at the next marker"
    key, value = records[1]
    changed = [*records[:2], (key, value[:-1] + bytes([value[-1] ^ 1]))]
    with pytest.raises(ValueError, match=r"offset 2: record 1 of group .* differs from the one read before"):
        feed(GroupAssembler(), changed)


def test_a_group_whose_start_was_not_read_is_ignored_with_its_marker() -> None:
    assembler = GroupAssembler()
    assert feed(assembler, three_parts_and_a_put()[2:]) == []
    assert assembler.pending_records == 0
