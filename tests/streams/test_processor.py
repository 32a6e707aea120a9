from __future__ import annotations

import random
from datetime import date, time

import numpy as np
import pandas as pd
import pytest

from forecasting.calendar import CalendarError
from schemas import DlqReason, decode_command
from streams.decision import DecisionEngine, demand_history
from streams.event_batch import EventBatch, InputEvent
from streams.processor import PartitionProcessor, boundary_ms
from streams.settings import Settings
from streams.state_codec import I64_MIN, Topic
from streams.store import MemoryPartitionStore

from .conftest import DAY_MS, click_payload, inventory_payload, order_payload

DAY0 = 20_000  # a day number; events start at its midnight
T0 = DAY0 * DAY_MS


class Run:
    """Feeds a processor batch by batch the way the worker does, gating decisions on the topics present."""

    def __init__(self, settings: Settings, store: MemoryPartitionStore, topics: set[Topic]) -> None:
        self.settings = settings
        self.store = store
        self.topics = sorted(topics)
        self.processor = PartitionProcessor(store, settings)
        self.engine = DecisionEngine(settings)
        self.commands: list[bytes] = []

    def gate(self) -> int | None:
        marks = [int(self.processor.watermarks[t]) for t in self.topics]
        return None if I64_MIN in marks else min(marks)

    def batch(self, items: list[InputEvent], gate: int | None = None):
        result = self.processor.apply(EventBatch.of(items))
        self.advance(self.gate() if gate is None else gate)
        return result

    def advance(self, gate: int | None) -> None:
        window = self.processor.due_window(gate)
        while window is not None:
            rows = self.processor.prepare_decision(window)
            due = boundary_ms(window, self.settings.decision_offset_seconds) + self.settings.grace_seconds * 1000
            outcome = self.engine.decide(rows, window, due)
            self.commands += [payload for _, payload in outcome.payloads]
            self.processor.record_decision(window, outcome.ordered)
            window = self.processor.due_window(gate)
        self.processor.flush()

    def feed(self, items: list[InputEvent], size: int) -> Run:
        for start in range(0, len(items), size):
            self.batch(items[start : start + size])
        return self


def history(make_input, days: int = 30, clicks: bool = False) -> list[InputEvent]:
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
            t = T0 + d * DAY_MS + 3_600_000 * (8 + j)
            items.append(make_input(Topic.ORDERS, order_payload(f"o{d}-{j}", t, qty=1)))
            if clicks:
                items.append(make_input(Topic.CLICKS, click_payload(f"c{d}-{j}", t - 60_000)))
        items.append(
            make_input(
                Topic.INVENTORY, inventory_payload(f"s{d}", T0 + d * DAY_MS + 20 * 3_600_000, kind="shipment", delta=4)
            )
        )
    return items


def interleaved(items: list[InputEvent], seed: int) -> list[InputEvent]:
    """The same per-topic sequences, merged in a random order (Kafka orders only within a topic)."""
    queues = {topic: [i for i in items if i.topic == topic] for topic in Topic}
    rng = random.Random(seed)
    out: list[InputEvent] = []
    while any(queues.values()):
        topic = rng.choice([t for t, q in queues.items() if q])
        take = rng.randint(1, 40)
        out += queues[topic][:take]
        queues[topic] = queues[topic][take:]
    return out


def test_sku_below_reorder_point_gets_exactly_one_command(make_input) -> None:
    settings = Settings(grace_seconds=3600)
    run = Run(settings, MemoryPartitionStore(), {Topic.ORDERS, Topic.INVENTORY}).feed(history(make_input), 50)
    assert len(run.commands) == 1, [decode_command(c).decision_window for c in run.commands]
    command = decode_command(run.commands[0])
    # 4 units a day without variance; lead time 3 + review 1: reorder point s = 16, order-up-to S = 16 + 4 = 20.
    # The decision at 06:00 of day D sees the shipments of days before D: on hand 100 - 4 D first drops below
    # 16 on day 22 (100 - 88 = 12): S - 12 = 8, raised to the MOQ of 12, already a multiple of the pack of 6.
    assert (command.decision_window - date(1970, 1, 1)).days == DAY0 + 22
    assert (command.on_hand, command.inventory_position) == (12, 12)
    assert (command.reorder_point, command.order_up_to, command.safety_stock) == (16.0, 20.0, 0.0)
    assert (command.quantity, command.rule) == (12, "raised_to_moq")
    assert command.forecast.daily_mean == 4.0 and command.forecast.method == "moving_average"


@pytest.mark.parametrize(("seed", "size"), [(1, 7), (2, 1000), (3, 33)])
def test_other_interleaving_and_batch_size_give_identical_commands_and_state(make_input, seed: int, size: int) -> None:
    settings = Settings()
    items = history(make_input, clicks=True)
    topics = {Topic.ORDERS, Topic.INVENTORY, Topic.CLICKS}
    reference = Run(settings, MemoryPartitionStore(), topics).feed(items, 50)
    other = Run(settings, MemoryPartitionStore(), topics).feed(interleaved(items, seed), size)
    assert other.commands == reference.commands and reference.commands
    assert other.store.data == reference.store.data, "stored state must not depend on arrival order or batches"


def test_late_and_duplicate_are_judged_per_topic_and_redelivery_is_skipped(make_input) -> None:
    settings = Settings(grace_seconds=3600, decision_time=time(23, 0))
    processor = PartitionProcessor(MemoryPartitionStore(), settings)
    first = make_input(Topic.ORDERS, order_payload("x", T0 + 5 * 3_600_000))
    again = make_input(Topic.ORDERS, order_payload("x", T0 + 5 * 3_600_000 + 60_000))
    later = make_input(Topic.ORDERS, order_payload("y", T0 + 10 * 3_600_000))
    late = make_input(Topic.ORDERS, order_payload("z", T0 + 1 * 3_600_000))
    # 9 h behind the orders' event time, but the first inventory event: not late on its own topic
    stock = make_input(Topic.INVENTORY, inventory_payload("x", T0 + 1 * 3_600_000, kind="snapshot", on_hand=5))
    batch = [first, again, later, late, stock]
    result = processor.apply(EventBatch.of(batch))
    assert [(batch[r.row].event.event_id, r.reason) for r in result.rejected] == [
        ("x", DlqReason.DUPLICATE),
        ("z", DlqReason.LATE),
    ]
    assert result.accepted == 3
    redelivered = processor.apply(EventBatch.of([first, stock]))
    assert redelivered.applied_before == [1, 1, 0] and redelivered.accepted == 0 and not redelivered.rejected


def test_duplicate_horizon_is_event_time_distance(make_input) -> None:
    settings = Settings(dedup_horizon_seconds=600, grace_seconds=7200)
    processor = PartitionProcessor(MemoryPartitionStore(), settings)
    a = make_input(Topic.CLICKS, click_payload("k", T0))
    b = make_input(Topic.CLICKS, click_payload("k", T0 + 601_000))  # beyond the horizon: a new event
    c = make_input(Topic.CLICKS, click_payload("k", T0 + 700_000))  # within 10 min of b
    d = make_input(Topic.ORDERS, order_payload("k", T0 + 1000))  # same id on another topic: not a repeat
    batch = [a, b, c, d]
    result = processor.apply(EventBatch.of(batch))
    assert [batch[r.row].offset for r in result.rejected] == [c.offset] and result.accepted == 3


def test_decision_reads_closed_days_and_marks_days_before_the_first_event_unobserved(make_input) -> None:
    settings = Settings()
    run = Run(settings, MemoryPartitionStore(), {Topic.ORDERS, Topic.INVENTORY}).feed(history(make_input, 20), 13)
    assert run.processor.last_window == DAY0 + 19
    rows = run.processor.prepare_decision(DAY0 + 20)
    history_ = demand_history(rows, DAY0 + 20, settings)
    assert history_.observed[0].sum() == 20
    np.testing.assert_array_equal(history_.demand[0][history_.observed[0]], np.full(20, 4.0, np.float32))
    assert float(rows.header["on_hand"][0]) == 100 - 4 * 20


def test_decision_waits_for_the_slowest_topic(make_input) -> None:
    settings = Settings()
    run = Run(settings, MemoryPartitionStore(), {Topic.ORDERS, Topic.INVENTORY})
    items = history(make_input, 10)
    orders = [i for i in items if i.topic is Topic.ORDERS]
    run.batch(orders)  # ten days of orders, no inventory yet: inventory has not started
    assert run.processor.last_window < DAY0 and not run.commands
    run.batch([i for i in items if i.topic is Topic.INVENTORY])
    assert run.processor.last_window == DAY0 + 9


class CrashingStore(MemoryPartitionStore):
    """Dies after ``allowed`` more writes: what a changelog holds when a worker is killed mid-flush."""

    def __init__(self) -> None:
        super().__init__()
        self.allowed: int | None = None

    def put(self, key: bytes, value: bytes) -> None:
        if self.allowed is not None:
            if self.allowed == 0:
                raise RuntimeError("killed")
            self.allowed -= 1
        super().put(key, value)


@pytest.mark.parametrize("fraction", [0.0, 0.2, 0.4, 0.6, 0.8, 0.99])
def test_crash_mid_flush_then_redelivery_converges_on_the_same_state(make_input, fraction: float) -> None:
    settings = Settings(state_shards=4)
    items = []
    for k in range(12):
        items += [
            InputEvent(i.topic, i.offset * 10 + k, f"S{k}|L".encode(), i.time_ms, i.event.model_copy(
                update={"sku": f"S{k}", "location": "L"}))
            for i in history(make_input, 24)
        ]  # fmt: skip
    items.sort(key=lambda i: (i.topic, i.offset))
    items = interleaved(items, 4)
    topics = {Topic.ORDERS, Topic.INVENTORY}
    batches = [items[s : s + 40] for s in range(0, len(items), 40)]
    reference = Run(settings, MemoryPartitionStore(), topics)
    writes = []
    for b in batches:
        before = reference.store.writes
        reference.batch(b)
        writes.append(reference.store.writes - before)
    # the batch whose flush writes most (it takes decisions), killed after ``fraction`` of its writes
    crash_at = max(range(1, len(batches)), key=lambda i: (writes[i], -i))
    fail_after = int(fraction * writes[crash_at])
    assert writes[crash_at] >= 6
    store = CrashingStore()
    run = Run(settings, store, topics)
    for b in batches[:crash_at]:
        run.batch(b)
    store.allowed = fail_after
    with pytest.raises(RuntimeError, match="killed"):
        run.batch(batches[crash_at])
    store.allowed = None
    restarted = Run(settings, store, topics)  # a fresh worker recovers from what reached the changelog
    restarted.commands = run.commands
    for b in batches[crash_at:]:
        restarted.batch(b)
    by_id = {decode_command(c).command_id: c for c in restarted.commands}
    assert sorted(by_id.values()) == sorted(reference.commands)
    assert store.data == reference.store.data


def test_dead_letters_at_decode_are_remembered_so_a_redelivery_is_not_dead_lettered_again(make_input) -> None:
    store = MemoryPartitionStore()
    processor = PartitionProcessor(store, Settings())
    processor.note_finished(Topic.CLICKS, 41)  # a malformed click at offset 41 went to the DLQ
    processor.apply(EventBatch.of([make_input(Topic.ORDERS, order_payload("a", T0), offset=7)]))
    processor.flush()
    restarted = PartitionProcessor(store, Settings())
    assert restarted.finished_before(Topic.CLICKS, 41) and not restarted.finished_before(Topic.CLICKS, 42)
    assert restarted.finished_before(Topic.ORDERS, 7)


def shifting_history(make_input, skus: int = 8, days: int = 120, drop_day: int = 60) -> list[InputEvent]:
    """Overdispersed daily sales of several SKUs whose demand falls from 8 to 1 a day on ``drop_day``: the moving
    average then runs high, and a calibrated low target would want its level below the forecast mean."""
    rng = np.random.default_rng(4)
    items = [make_input(Topic.INVENTORY, inventory_payload(f"inv{k}", T0, sku=f"S{k}", kind="snapshot",
                                                           on_hand=480 + 8 * k, on_order=0, lead_time_days=3.0))
             for k in range(skus)]  # staggered: the SKUs reorder on different days, some after the drop  # fmt: skip
    for d in range(days):
        mean = 8.0 if d < drop_day else 1.0
        for k in range(skus):
            qty = int(rng.negative_binomial(0.5, 0.5 / (0.5 + mean)))
            if qty:  # the sale, and the warehouse shipping it in the evening
                items.append(make_input(Topic.ORDERS, order_payload(f"o{d}-{k}", T0 + d * DAY_MS + 36_000_000,
                                                                    sku=f"S{k}", qty=qty)))  # fmt: skip
                items.append(make_input(Topic.INVENTORY, inventory_payload(
                    f"s{d}-{k}", T0 + d * DAY_MS + 72_000_000, sku=f"S{k}", kind="shipment", delta=qty)))  # fmt: skip
    return items


def test_calibrated_commands_say_so_and_never_carry_a_negative_safety_stock(make_input) -> None:
    items = shifting_history(make_input)
    runs = {}
    for origins in (0, 12):
        settings = Settings(grace_seconds=3600, service_level=0.6, calibration_origins=origins,
                            calibration_min_windows=20)  # fmt: skip
        run = Run(settings, MemoryPartitionStore(), {Topic.ORDERS, Topic.INVENTORY}).feed(items, 500)
        runs[origins] = [decode_command(c) for c in run.commands]
    plain, calibrated = runs[0], runs[12]
    assert plain and calibrated
    assert not any("calibrated" in c.reason for c in plain)
    assert all("z calibrated on" in c.reason for c in calibrated)
    assert all(c.safety_stock >= 0 for c in calibrated)
    assert any(c.safety_stock == 0 for c in calibrated)  # past forecasts ran high: the floor held
    assert {(c.decision_window, c.reorder_point) for c in plain} != {(c.decision_window, c.reorder_point)
                                                                      for c in calibrated}  # fmt: skip


def test_calibration_runs_once_a_week_and_a_restart_recomputes_the_same_commands(make_input, monkeypatch) -> None:
    import streams.decision as decision

    calls: list[int] = []
    real = decision.level_residuals

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(decision, "level_residuals", counted)
    items = shifting_history(make_input)
    settings = Settings(grace_seconds=3600, service_level=0.6, calibration_min_windows=20)
    kept = Run(settings, MemoryPartitionStore(), {Topic.ORDERS, Topic.INVENTORY}).feed(items, 500)
    weeks = len(calls)
    assert 0 < weeks <= 120 // 7 + 1  # one calibration a week of windows, not one a window
    restarted = Run(settings, MemoryPartitionStore(), {Topic.ORDERS, Topic.INVENTORY})
    decide = restarted.engine.decide

    def forgetful(rows, window, due):  # type: ignore[no-untyped-def]
        restarted.engine._calibrations.clear()  # as after a restart: nothing memoised
        return decide(rows, window, due)

    restarted.engine.decide = forgetful  # type: ignore[method-assign]
    restarted.feed(items, 500)
    assert restarted.commands == kept.commands and kept.commands
    assert len(calls) > 2 * weeks  # the forgetful run recomputed at every window


def test_the_worker_history_carries_the_configured_calendar(make_input, tmp_path) -> None:
    event_date = (np.datetime64("1970-01-01", "D") + np.timedelta64(DAY0 + 3, "D")).astype(str)
    pd.DataFrame({"date": [event_date], "event": ["Launch"]}).to_csv(tmp_path / "calendar.csv", index=False)
    settings = Settings(calendar_path=tmp_path / "calendar.csv")
    engine = DecisionEngine(settings)
    run = Run(settings, MemoryPartitionStore(), {Topic.ORDERS, Topic.INVENTORY}).feed(history(make_input, 20), 13)
    rows = run.processor.prepare_decision(DAY0 + 20)
    history_ = demand_history(rows, DAY0 + 20, settings, engine.calendar)
    assert history_.calendar is not None
    flags = history_.calendar.events_on(history_.day_numbers())
    assert flags.sum() == 1 and history_.day_numbers()[flags == 1].tolist() == [DAY0 + 3]
    (tmp_path / "broken.csv").write_text("day\n2024-01-01\n")
    with pytest.raises(CalendarError, match="no 'date' column"):
        DecisionEngine(Settings(calendar_path=tmp_path / "broken.csv"))
