"""The state export: the worker's table (built in-process, and read back from a real worker's changelog) as
the long table ``forecasting.long_table`` reads."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecasting.long_table import read_long_table
from streams import state_export
from streams.cli import app
from streams.decision import demand_history
from streams.embedded_broker import EmbeddedBroker
from streams.settings import Settings
from streams.state import encode_group, new_group_ids
from streams.state_codec import HISTORY_BLOCK_DAYS, Topic
from streams.state_export import (
    COLUMNS,
    export_table,
    long_table,
    read_export_metadata,
    settled_table,
)
from streams.state_view import parse_table
from streams.store import MemoryPartitionStore

from .conftest import DAY_MS, click_payload, inventory_payload, order_payload
from .harness import new_deployment, wait_until_settled
from .test_processor import DAY0, T0, CrashingStore, Run, history, interleaved
from .test_worker import message

H = 3_600_000
DATES = [str(np.datetime64(DAY0 + d, "D")) for d in range(7)]
TOPICS = {Topic.ORDERS, Topic.INVENTORY, Topic.CLICKS}


def events(make_input) -> list:
    """Three keys over six days; A|L1 sells out on day 1 and is restocked on day 3."""
    o, i, c = Topic.ORDERS, Topic.INVENTORY, Topic.CLICKS
    b = {"sku": "B", "location": "web"}
    return [
        make_input(i, inventory_payload("a-inv0", T0 + H // 2, kind="snapshot", on_hand=6, lead_time_days=2.0)),
        make_input(o, order_payload("a0", T0 + 8 * H, qty=2)),
        make_input(o, order_payload("a1", T0 + 9 * H, qty=1, unit_price=5.0)),
        make_input(c, click_payload("b-v0", T0 + DAY_MS + 7 * H, **b)),
        make_input(c, click_payload("b-v1", T0 + DAY_MS + 7 * H + 60_000, **b)),
        make_input(c, click_payload("b-a0", T0 + DAY_MS + 7 * H + 120_000, **b, action="add_to_cart")),
        make_input(c, click_payload("b-p0", T0 + DAY_MS + 8 * H, **b, action="purchase")),
        make_input(o, order_payload("a2", T0 + DAY_MS + 10 * H, qty=3)),
        make_input(i, inventory_payload("c-inv0", T0 + DAY_MS + 11 * H, sku="C", kind="snapshot", on_hand=5)),
        make_input(i, inventory_payload("a-out", T0 + DAY_MS + 20 * H, kind="shipment", delta=6)),  # on hand 0
        make_input(c, click_payload("a-v0", T0 + 2 * DAY_MS + 9 * H)),  # still out of stock (carried over)
        make_input(i, inventory_payload("a-in", T0 + 3 * DAY_MS + 8 * H, kind="receipt", delta=20)),
        make_input(o, order_payload("a3", T0 + 3 * DAY_MS + 12 * H, qty=1)),
        make_input(o, order_payload("b0", T0 + 4 * DAY_MS + 9 * H, **b, qty=3, unit_price=2.0)),
        make_input(
            o,
            order_payload(
                "b1",
                T0 + 4 * DAY_MS + 10 * H,
                **b,
                qty=1,
                unit_price=2.0,
                line_type="cancellation",
                original_order_id="o-b0",
            ),
        ),
        # day 5 on every topic: decisions close days 0..4, day 5 stays open with a waiting snapshot
        make_input(o, order_payload("a4", T0 + 5 * DAY_MS + 12 * H, qty=1)),
        make_input(i, inventory_payload("a-inv5", T0 + 5 * DAY_MS + 12 * H, kind="snapshot", on_hand=0)),
        make_input(c, click_payload("b-v5", T0 + 5 * DAY_MS + 12 * H, **b)),
    ]


# id, day, quantity, price, clicks (view, add, remove, purchase), observed
EXPECTED = [
    ("A|L1", 0, 3, round((2 * 453 + 500) / 300, 6), (0, 0, 0, 0), True),
    ("A|L1", 1, 3, 4.53, (0, 0, 0, 0), False),  # sold out that evening
    ("A|L1", 2, 0, None, (1, 0, 0, 0), False),  # no inventory event: on hand 0 carried over
    ("A|L1", 3, 1, 4.53, (0, 0, 0, 0), True),  # restocked; day 4 has no row (no sales, 20 on hand)
    ("A|L1", 5, 1, 4.53, (0, 0, 0, 0), False),  # the waiting snapshot of 0, folded by the export
    ("B|web", 1, 0, None, (2, 1, 0, 1), True),
    ("B|web", 4, 2, 2.0, (0, 0, 0, 0), True),  # 3 sold, 1 cancelled
    ("B|web", 5, 0, None, (1, 0, 0, 0), True),
    ("C|L1", 1, 0, None, (0, 0, 0, 0), True),  # only a snapshot: its first day
]


def rows(frame: pd.DataFrame) -> list[tuple]:
    out = []
    for r in frame.itertuples(index=False):
        price = None if math.isnan(r.price) else r.price
        clicks = (r.clicks_view, r.clicks_add_to_cart, r.clicks_remove_from_cart, r.clicks_purchase)
        out.append((r.id, DATES.index(r.date), r.quantity, price, clicks, bool(r.observed)))
    return out


@pytest.mark.parametrize("bucket_seconds", [86_400, 3_600])
def test_export_rows_match_the_events_and_the_next_decisions_view(make_input, tmp_path: Path, bucket_seconds) -> None:
    settings = Settings(bucket_seconds=bucket_seconds, state_shards=2)
    run = Run(settings, MemoryPartitionStore(), TOPICS).feed(events(make_input), 4)
    assert run.processor.last_window == DAY0 + 5
    out = tmp_path / "state.parquet"
    meta = export_table(run.store.data, settings, out, "test")

    frame = pd.read_parquet(out)
    assert tuple(frame.columns) == COLUMNS
    assert rows(frame) == EXPECTED
    assert frame["location"].tolist() == ["L1"] * 5 + ["web"] * 3 + ["L1"]
    assert read_export_metadata(out) == meta
    assert {k: meta[k] for k in ("format_version", "keys", "rows", "first_date", "last_date", "closed_through")} == {
        "format_version": 1, "keys": 3, "rows": 9, "first_date": DATES[0], "last_date": DATES[5],
        "closed_through": DATES[4],
    }  # fmt: skip

    # the long-table reader sees what the worker's next decision sees, day by day
    table = read_long_table(out)
    history = table.history
    assert history.series_ids.tolist() == ["A|L1", "B|web", "C|L1"]
    assert (history.start_day, history.end_day) == (DAY0, DAY0 + 5)
    assert history.observed[0].tolist() == [True, False, False, True, True, False]
    assert table.location.tolist() == ["L1", "web", "L1"]
    decision = demand_history(run.processor.prepare_decision(DAY0 + 6), DAY0 + 6, settings)
    order = np.argsort(decision.series_ids)
    np.testing.assert_array_equal(decision.demand[order][:, -6:], history.demand)
    np.testing.assert_array_equal(decision.observed[order][:, -6:], history.observed)
    assert history.clicks is not None and decision.clicks is not None
    np.testing.assert_array_equal(decision.clicks[order][:, -6:], history.clicks)


@pytest.mark.parametrize("fraction", [0.2, 0.6])
def test_a_decision_cut_off_mid_flush_counts_each_day_once(make_input, fraction: float) -> None:
    """Blocks written, the shard that still holds the same days open not: the export drops those open days,
    as the restarted worker does (cf. test_processor's crash test)."""
    settings = Settings(state_shards=4)
    items = []
    for k in range(12):
        items += [
            type(i)(i.topic, i.offset * 10 + k, f"S{k}|L".encode(), i.time_ms,
                    i.event.model_copy(update={"sku": f"S{k}", "location": "L"}))
            for i in history(make_input, 24)
        ]  # fmt: skip
    items.sort(key=lambda i: (i.topic, i.offset))
    items = interleaved(items, 4)
    batches = [items[s : s + 40] for s in range(0, len(items), 40)]
    topics = {Topic.ORDERS, Topic.INVENTORY}
    reference = Run(settings, MemoryPartitionStore(), topics)
    writes = []
    for batch in batches:
        before = reference.store.writes
        reference.batch(batch)
        writes.append(reference.store.writes - before)
    crash_at = max(range(1, len(batches)), key=lambda i: (writes[i], -i))
    store = CrashingStore()
    run = Run(settings, store, topics)
    for batch in batches[:crash_at]:
        run.batch(batch)
    store.allowed = int(fraction * writes[crash_at])
    with pytest.raises(RuntimeError, match="killed"):
        run.batch(batches[crash_at])

    naive = long_table(parse_table(store.data, HISTORY_BLOCK_DAYS), settings.bucket_seconds)
    assert naive["quantity"].max() == 8, "the crash should leave days both in a block and open"
    exported = long_table(parse_table(settled_table(store.data, settings), HISTORY_BLOCK_DAYS), settings.bucket_seconds)
    assert set(exported["quantity"]) == {4}  # the history sells 4 units every day
    assert exported[["id", "date"]].equals(naive[["id", "date"]])  # and no day is lost
    assert exported["observed"].all()


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory):
    with EmbeddedBroker(tmp_path_factory.mktemp("broker") / "broker.log") as running:
        yield running


@pytest.mark.integration
def test_export_of_a_real_workers_changelog(broker, tmp_path: Path) -> None:
    deployment = new_deployment(broker.bootstrap_servers, tmp_path)
    payloads = [
        ("inventory", inventory_payload("inv0", T0, kind="snapshot", on_hand=5)),
        ("orders", order_payload("o0", T0 + 9 * H, qty=2)),
        ("orders", order_payload("o1", T0 + DAY_MS + 9 * H, qty=3)),
        ("inventory", inventory_payload("out", T0 + DAY_MS + 18 * H, kind="shipment", delta=5)),  # on hand 0
        ("inventory", inventory_payload("in", T0 + 3 * DAY_MS + 8 * H, kind="receipt", delta=10)),
        ("orders", order_payload("o2", T0 + 3 * DAY_MS + 9 * H, qty=1, unit_price=6.0)),
        ("orders", order_payload("o3", T0 + 4 * DAY_MS + 9 * H, qty=1)),
    ]
    sent = deployment.publish(message(kind, payload) for kind, payload in payloads)
    worker = deployment.worker("export")
    try:
        wait_until_settled(worker, sent)
    finally:
        assert worker.stop() == 0
    out = tmp_path / "export.parquet"
    result = CliRunner().invoke(
        app,
        ["state", "export", "--out", str(out), "--app-id", "export", "--bootstrap-servers", broker.bootstrap_servers],
    )
    assert result.exit_code == 0, result.output
    assert "wrote 5 rows of 1 keys" in result.output
    assert rows(pd.read_parquet(out)) == [
        ("A|L1", 0, 2, 4.53, (0, 0, 0, 0), True),
        ("A|L1", 1, 3, 4.53, (0, 0, 0, 0), False),  # sold out that evening
        ("A|L1", 2, 0, None, (0, 0, 0, 0), False),  # still out of stock
        ("A|L1", 3, 1, 6.0, (0, 0, 0, 0), True),  # restocked in the morning
        ("A|L1", 4, 1, 4.53, (0, 0, 0, 0), True),
    ]
    history = read_long_table(out).history
    assert history.demand.tolist() == [[2, 3, 0, 1, 1]]
    assert history.observed.tolist() == [[True, False, False, True, True]]
    metadata = read_export_metadata(out)
    assert metadata["source"] == f"kafka changelog export.state-changelog at {broker.bootstrap_servers}"
    assert (metadata["keys"], metadata["first_date"], metadata["last_date"]) == (1, DATES[0], DATES[4])
    # the compacted changelog is the table the test harness reads back with streams.topic_reader.read_topic
    changelog = state_export.read_changelog(broker.bootstrap_servers, "export.state-changelog", quiet_s=1.5)
    assert changelog == deployment.table_state("export")


def test_the_changelog_keeps_the_last_complete_group_and_deletes(monkeypatch: pytest.MonkeyPatch) -> None:
    ids = new_group_ids()
    p0 = [*encode_group(next(ids), [(b"h|0|0|1", b"old"), (b"h|0|0|0", b"y")]),
          *encode_group(next(ids), [(b"h|0|0|1", b"new"), (b"h|0|0|0", None)]),
          *encode_group(next(ids), [(b"h|0|0|1", b"torn")])[:-1]]  # fmt: skip  # no marker: never committed
    p1 = encode_group(next(ids), [(b"s|1|0", b"x")])
    records = [(0, offset, key, value) for offset, (key, value) in enumerate(p0)]
    records += [(1, offset, key, value) for offset, (key, value) in enumerate(p1)] + [(1, len(p1), None, b"no key")]
    monkeypatch.setattr(state_export, "iter_topic", lambda *args, **kwargs: iter(records))
    assert state_export.read_changelog("kafka:9092", "app.state-changelog") == {b"h|0|0|1": b"new", b"s|1|0": b"x"}
    assert Settings(app_id="app").topic_changelog == "app.state-changelog"
