from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from streams.event_batch import EventBatch, InputEvent
from streams.processor import PartitionProcessor
from streams.settings import Settings
from streams.state import Checkpoint, GroupAssembler, MemoryLocalState, PartitionState, encode_group, new_group_ids
from streams.state_codec import Topic
from streams.store import MemoryPartitionStore, PartitionStore

from ..conftest import DAY_MS, inventory_payload, order_payload


def overlay(data: dict[bytes, bytes] | None = None) -> tuple[PartitionState, MemoryLocalState]:
    local = MemoryLocalState()
    local.write(list((data or {}).items()), Checkpoint(0))
    return PartitionState(3, local), local


def test_pending_writes_shadow_the_local_state() -> None:
    state, _ = overlay({b"a": b"1", b"b": b"2"})
    assert (state.get(b"a"), state.get(b"b"), state.get(b"c")) == (b"1", b"2", None)
    state.put(b"a", b"10")
    state.delete(b"b")
    state.put(b"c", b"30")
    assert (state.get(b"a"), state.get(b"b"), state.get(b"c")) == (b"10", None, b"30")
    assert state.partition == 3


def test_pending_lists_each_key_once_with_its_last_value_in_first_write_order() -> None:
    state, _ = overlay({b"z": b"old"})
    state.put(b"m", b"1")
    state.put(b"z", b"2")
    state.delete(b"m")
    state.put(b"a", b"3")
    state.put(b"m", b"4")
    state.delete(b"z")
    assert state.pending() == [(b"m", b"4"), (b"z", None), (b"a", b"3")]


def test_commit_makes_the_pending_writes_durable_with_the_checkpoint() -> None:
    state, local = overlay({b"a": b"1", b"b": b"2"})
    state.put(b"a", b"10")
    state.delete(b"b")
    state.commit(Checkpoint(41))
    assert list(local.items()) == [(b"a", b"10")] and local.checkpoint() == Checkpoint(41)
    assert state.pending() == []
    state.put(b"c", b"3")
    assert state.pending() == [(b"c", b"3")], "pending starts afresh after a commit"


def test_discard_drops_the_pending_writes_and_reads_fall_back_to_the_local_state() -> None:
    state, local = overlay({b"a": b"1"})
    state.put(b"a", b"10")
    state.put(b"new", b"x")
    state.discard()
    assert state.pending() == [] and (state.get(b"a"), state.get(b"new")) == (b"1", None)
    assert list(local.items()) == [(b"a", b"1")] and local.checkpoint() == Checkpoint(0)


class FailingLocal(MemoryLocalState):
    def write(self, writes: Sequence[tuple[bytes, bytes | None]], checkpoint: Checkpoint) -> None:
        raise OSError("disk full")


def test_a_failed_commit_keeps_the_writes_pending() -> None:
    state = PartitionState(0, FailingLocal())
    state.put(b"a", b"1")
    with pytest.raises(OSError, match="disk full"):
        state.commit(Checkpoint(1))
    assert state.pending() == [(b"a", b"1")] and state.get(b"a") == b"1"


def events(make_input: Callable[..., InputEvent], days: int) -> list[InputEvent]:
    t0 = 20_000 * DAY_MS
    snapshot = inventory_payload("inv0", t0, kind="snapshot", on_hand=100, on_order=0, lead_time_days=3.0)
    items = [make_input(Topic.INVENTORY, snapshot)]
    for day in range(days):
        for sku in "ABC":
            t = t0 + day * DAY_MS + 9 * 3_600_000
            items.append(make_input(Topic.ORDERS, order_payload(f"{sku}{day}", t, sku=sku, qty=day % 3 + 1)))
    return items


def test_the_processor_runs_on_it_unchanged_and_the_changelog_rebuilds_the_same_state(
    make_input: Callable[..., InputEvent],
) -> None:
    settings = Settings()
    reference = MemoryPartitionStore()
    reference_processor = PartitionProcessor(reference, settings)
    local = MemoryLocalState()
    state = PartitionState(0, local)
    store: PartitionStore = state
    processor = PartitionProcessor(store, settings)
    changelog: list[tuple[bytes, bytes]] = []
    ids = new_group_ids()
    items = events(make_input, 20)
    for start in range(0, len(items), 7):
        batch = items[start : start + 7]
        for each in (reference_processor, processor):
            each.apply(EventBatch.of(batch))
            each.flush()
        changelog += encode_group(next(ids), state.pending())
        state.commit(Checkpoint(len(changelog)))
    assert list(local.items()) == sorted(reference.data.items()) and reference.data

    rebuilt = MemoryLocalState()
    assembler = GroupAssembler()
    for offset, (key, value) in enumerate(changelog):
        group = assembler.feed(offset, key, value)
        if group is not None:
            rebuilt.write(group.writes, Checkpoint(group.marker_offset + 1))
    assert list(rebuilt.items()) == list(local.items()) and rebuilt.checkpoint() == local.checkpoint()

    restarted = PartitionProcessor(PartitionState(0, rebuilt), settings)
    assert restarted.watermarks.tolist() == processor.watermarks.tolist()
