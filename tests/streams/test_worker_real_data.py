"""Replays real Online Retail order lines through a worker: nothing valid is lost, bad lines are explained."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from schemas import decode_dead_letter
from streams.embedded_broker import EmbeddedBroker
from streams.order_lines import ONLINE_RETAIL, order_events_from_frame, read_order_lines
from streams.state_codec import HISTORY_BLOCK_DAYS, Channel
from streams.state_view import parse_table

from .harness import new_deployment, wait_until_settled

pytestmark = [pytest.mark.integration, pytest.mark.realdata]

ORDERS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "online_retail" / "orders.parquet"


def real_lines() -> pd.DataFrame:
    """Three days around the 74,215-unit outlier and its cancellation, plus the day of the first zero-price sale."""
    if not ORDERS.is_file():
        pytest.skip(f"real data not found at {ORDERS} (the shared data folder is absent): skipping the replay")
    frame = read_order_lines(ORDERS)
    free = frame[(frame.UnitPrice == 0) & (frame.Quantity > 0) & ~frame.StockCode.isin(ONLINE_RETAIL.exclude_skus)]
    free_day = free.InvoiceDate.iloc[0].normalize()
    window = (frame.InvoiceDate >= "2011-01-17") & (frame.InvoiceDate < "2011-01-20")
    same_day = (frame.InvoiceDate >= free_day) & (frame.InvoiceDate < free_day + pd.Timedelta(days=1))
    return frame[same_day | window].reset_index(drop=True)


def net_units_in_state(state: dict[bytes, bytes]) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for name, series in parse_table(state, HISTORY_BLOCK_DAYS).items():
        totals[name] += float(sum(values[Channel.DEMAND] for values in series.buckets.values()))
    return dict(totals)


def test_real_order_lines_replay(tmp_path: Path) -> None:
    frame = real_lines()
    replay = order_events_from_frame(frame, ONLINE_RETAIL)
    summary = replay.summary
    messages = list(replay.messages)
    assert summary.cancellations > 0 and summary.absurd_quantity == 2 and summary.duplicate_rows > 0
    assert summary.zero_price > 0 and summary.skipped_write_offs > 0

    # What the worker must do, computed independently of it from the lines themselves:
    sign = np.where(frame.InvoiceNo.astype(str).str.startswith("C"), -1, 1)
    kept = (
        ~frame.StockCode.isin(ONLINE_RETAIL.exclude_skus)
        & ((frame.Quantity > 0) | (sign < 0))
        & (frame.Quantity.abs() <= ONLINE_RETAIL.max_quantity)
        & ~frame.duplicated()
    )
    expected_units = (frame.Quantity.abs() * sign)[kept].groupby(frame.StockCode[kept].astype(str) + "|UK").sum()

    with EmbeddedBroker(tmp_path / "broker.log") as broker:
        deployment = new_deployment(broker.bootstrap_servers, tmp_path)
        sent = deployment.publish(messages)
        assert sent == summary.emitted
        worker = deployment.worker("retail")
        try:
            wait_until_settled(worker, sent)
            accepted = worker.metrics()["restock_accepted_events_total{}"]
        finally:
            assert worker.stop() == 0
        letters = [decode_dead_letter(v) for v in deployment.dead_letters("retail")]
        state = deployment.table_state("retail")

    reasons = Counter(letter.reason.value for letter in letters)
    assert reasons == Counter({"absurd_quantity": summary.absurd_quantity, "duplicate": summary.duplicate_rows})
    assert accepted == summary.emitted - summary.absurd_quantity - summary.duplicate_rows == kept.sum()
    units = net_units_in_state(state)
    assert {k: v for k, v in units.items() if v} == {k: float(v) for k, v in expected_units.items() if v}
