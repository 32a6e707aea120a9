from __future__ import annotations

from datetime import date, time

import numpy as np

from schemas import DlqReason, decode_command
from streams.decision import DecisionEngine, read_partition
from streams.processor import PartitionProcessor, boundary_ms
from streams.settings import Settings
from streams.state_codec import Topic
from streams.store import MemoryPartitionStore

from .conftest import DAY_MS, inventory_payload, order_payload

DAY0 = 20_000  # a day number; events start at its midnight
T0 = DAY0 * DAY_MS


def run(processor: PartitionProcessor, engine: DecisionEngine, items: list, batch: int) -> list[bytes]:
    """Feed items in batches of ``batch`` the way the worker does; return the commands' bytes."""
    commands: list[bytes] = []
    for start in range(0, len(items), batch):
        pending = items[start : start + batch]
        while pending:
            step = processor.apply_until_decision(pending)
            pending = pending[step.consumed :]
            if step.decision_window is not None:
                wm = max(processor.watermark_ms or 0, boundary_ms(step.decision_window, 6 * 3600))
                outcome = engine.decide(list(processor.store.items()), step.decision_window, wm)
                commands += [payload for _, payload in outcome.payloads]
                processor.record_decision(step.decision_window, outcome.pending)
        processor.write_meta()
    return commands


def history(make_input, days: int = 30) -> list:
    items = [
        make_input(
            Topic.INVENTORY,
            inventory_payload(
                "inv0", T0, kind="snapshot", on_hand=100, on_order=0, lead_time_days=3.0, case_pack=6, moq=12
            ),
        )
    ]
    for d in range(days):
        for j in range(4):
            items.append(
                make_input(Topic.ORDERS, order_payload(f"o{d}-{j}", T0 + d * DAY_MS + 3_600_000 * (8 + j), qty=1))
            )
        items.append(
            make_input(
                Topic.INVENTORY, inventory_payload(f"s{d}", T0 + d * DAY_MS + 20 * 3_600_000, kind="shipment", delta=4)
            )
        )
    return items


def test_sku_below_reorder_point_gets_exactly_one_command(make_input) -> None:
    settings = Settings(grace_seconds=3600)
    processor = PartitionProcessor(MemoryPartitionStore(), settings)
    commands = run(processor, DecisionEngine(settings), history(make_input), batch=50)
    assert len(commands) == 1, [decode_command(c).decision_window for c in commands]
    command = decode_command(commands[0])
    # 4 units a day without variance; lead time 3 + review 1: reorder point s = 16, order-up-to S = 16 + 4 = 20.
    # On hand falls by 4 a day from 100 and first drops below 16 at the decision of day 22 (100 - 88 = 12):
    # S - 12 = 8, raised to the MOQ of 12, which is already a multiple of the case pack of 6.
    assert (command.decision_window - date(1970, 1, 1)).days == DAY0 + 22
    assert (command.on_hand, command.inventory_position) == (12, 12)
    assert (command.reorder_point, command.order_up_to, command.safety_stock) == (16.0, 20.0, 0.0)
    assert (command.quantity, command.rule) == (12, "raised_to_moq")
    assert command.forecast.daily_mean == 4.0 and command.forecast.method == "moving_average"


def test_replay_with_other_batch_size_is_byte_identical(make_input) -> None:
    settings = Settings()
    items = history(make_input)
    small, large = MemoryPartitionStore(), MemoryPartitionStore()
    a = run(PartitionProcessor(small, settings), DecisionEngine(settings), items, batch=7)
    b = run(PartitionProcessor(large, settings), DecisionEngine(settings), items, batch=1000)
    assert a == b and a
    assert small.data == large.data, "stored state must not depend on where batches were cut"


def test_late_duplicate_and_redelivered_events(make_input) -> None:
    settings = Settings(grace_seconds=3600, decision_time=time(23, 0))
    store = MemoryPartitionStore()
    processor = PartitionProcessor(store, settings)
    first = make_input(Topic.ORDERS, order_payload("x", T0 + 5 * 3_600_000))
    again = make_input(Topic.ORDERS, order_payload("x", T0 + 5 * 3_600_000))
    later = make_input(Topic.ORDERS, order_payload("y", T0 + 10 * 3_600_000))
    late = make_input(Topic.ORDERS, order_payload("z", T0 + 1 * 3_600_000))
    step = processor.apply_until_decision([first, again, later, late])
    assert [r.reason for r in step.rejected] == [DlqReason.DUPLICATE, DlqReason.LATE]
    assert step.accepted == 2
    redelivered = processor.apply_until_decision([first])
    assert redelivered.redelivered == 1 and redelivered.accepted == 0


def test_decision_batch_reads_open_and_closed_buckets(make_input) -> None:
    settings = Settings()
    processor = PartitionProcessor(MemoryPartitionStore(), settings)
    items = history(make_input, days=20)
    run(processor, DecisionEngine(settings), items, batch=13)
    batch = read_partition(list(processor.store.items()), DAY0 + 20, settings)
    demand = batch.history.demand[0]
    observed = batch.history.observed[0]
    assert observed.sum() == 20
    np.testing.assert_array_equal(demand[observed], np.full(20, 4.0, np.float32))


def test_idle_partition_reaches_its_decision_by_wall_clock(make_input) -> None:
    settings = Settings(grace_seconds=3600)
    processor = PartitionProcessor(MemoryPartitionStore(), settings)
    processor.apply_until_decision([make_input(Topic.ORDERS, order_payload("a", T0 + 10 * 3_600_000))])
    # nothing arrives any more; the timer moves event time on by the idle wall-clock time
    assert processor.advance_idle(T0 + 20 * 3_600_000) is None  # before the next boundary + grace
    assert processor.advance_idle(T0 + DAY_MS + 7 * 3_600_000) == DAY0 + 1  # 06:00 boundary + 1 h grace passed
    processor.record_decision(DAY0 + 1, {})
    assert processor.advance_idle(T0 + DAY_MS + 8 * 3_600_000) is None
