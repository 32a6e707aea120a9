"""Event and SNAP days: the calendar table, its errors, the M5 file, and an LSTM that learns from the flags."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting import DemandHistory
from forecasting.calendar import CalendarError, EventCalendar, calendar_from_frame, read_calendar
from forecasting.long_table import read_long_table
from forecasting.lstm.estimator import LSTMConfig, LSTMEstimator
from forecasting.lstm.network import NetworkConfig
from forecasting.lstm.training import TrainingConfig

M5_CALENDAR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "m5" / "calendar.parquet"
_EPOCH = np.datetime64("1970-01-01", "D")


def day(text: str) -> int:
    return int((np.datetime64(text, "D") - _EPOCH).astype(int))


def test_events_and_snap_days_by_hand_with_gaps_and_regions() -> None:
    frame = pd.DataFrame(
        {
            "date": ["2024-01-01", "2024-01-02", "2024-01-04"],  # 01-03 missing: no event, no SNAP
            "event_name_1": ["NewYear", None, ""],
            "event_name_2": [None, None, "Other"],
            "snap_CA": [1, 0, 1],
            "weekday": ["Mon", "Tue", "Thu"],  # ignored
        }
    )
    cal = calendar_from_frame(frame)
    days = np.array([day("2023-12-31"), day("2024-01-01"), day("2024-01-02"), day("2024-01-03"), day("2024-01-04")])
    assert cal.events_on(days).tolist() == [0, 1, 0, 0, 1]
    assert cal.region_of("CA") == "CA" and cal.region_of("CA_1") == "CA" and cal.region_of("TX_2") is None
    snap = cal.snap_on(np.array(["CA_1", "TX_1"], dtype=object), np.stack([days, days]))
    assert snap.tolist() == [[0, 1, 0, 0, 1], [0, 0, 0, 0, 0]]
    assert EventCalendar(0, np.zeros(0, bool)).events_on(days).tolist() == [0] * 5


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"day": ["2024-01-01"]}), "no 'date' column"),
        (pd.DataFrame({"date": ["2024-01-01", "not a date"]}), "unparseable date in rows \\[1\\]"),
        (pd.DataFrame({"date": ["2024-01-01", "2024-01-01"]}), "appears twice"),
        (pd.DataFrame({"date": ["2024-01-01"], "snap_CA": [2]}), "snap_CA must be 0 or 1"),
    ],
)
def test_a_malformed_calendar_says_what_is_wrong(frame: pd.DataFrame, message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        calendar_from_frame(frame)


def test_the_m5_calendar_reads_as_is() -> None:
    if not M5_CALENDAR.is_file():
        pytest.skip(f"M5 calendar not found at {M5_CALENDAR} (needs ../shared/data next to the repo)")
    cal = read_calendar(M5_CALENDAR)
    assert cal.first_day == day("2011-01-29") and len(cal.event) == 1969 and set(cal.snap) == {"CA", "TX", "WI"}
    assert cal.events_on(np.array([day("2011-02-06"), day("2011-02-07")])).tolist() == [1, 0]  # Super Bowl
    february = np.arange(day("2011-02-01"), day("2011-02-13"))
    assert cal.snap_on(np.array(["CA_1"], dtype=object), february[None, :])[0].tolist() == [1] * 10 + [0, 0]


def test_read_long_table_carries_the_calendar(tmp_path: Path) -> None:
    pd.DataFrame({"id": ["a", "a"], "date": ["2024-01-01", "2024-01-03"], "quantity": [1, 2]}).to_csv(
        tmp_path / "sales.csv", index=False
    )
    pd.DataFrame({"date": ["2024-01-02"], "event": ["Sale"]}).to_csv(tmp_path / "calendar.csv", index=False)
    assert read_long_table(tmp_path / "sales.csv").history.calendar is None
    history = read_long_table(tmp_path / "sales.csv", tmp_path / "calendar.csv").history
    assert history.calendar is not None and history.calendar.events_on(history.day_numbers()).tolist() == [0, 1, 0]
    with pytest.raises(CalendarError, match="no such calendar file"):
        read_long_table(tmp_path / "sales.csv", tmp_path / "missing.csv")


def test_the_lstm_learns_event_days_from_the_flags() -> None:
    """Demand four times as high on event days (about one in eight, past and future): with the calendar the
    forecast of a future event day is well above its ordinary days; the same model without it cannot tell."""
    rng = np.random.default_rng(5)
    days_total, n = 210, 80
    end_day = 19_000
    first = end_day - (days_total - 28) + 1
    event = rng.random(days_total) < 0.125
    level = rng.uniform(1, 4, n)
    y = rng.poisson(level[:, None] * np.where(event, 4.0, 1.0)[None, :]).astype(np.float32)
    cal = EventCalendar(first, event)
    ids = np.array([f"s{i}|L" for i in range(n)], dtype=object)
    train = DemandHistory(ids, y[:, :-28], end_day, np.ones((n, days_total - 28), bool), calendar=cal)
    tiny = NetworkConfig(hidden=16, id_buckets=64, id_dim=4, location_buckets=8, category_buckets=8, small_dim=2)
    config = LSTMConfig(tiny, TrainingConfig(windows_per_epoch=4096, max_epochs=12, batch_size=128, seed=1))
    model = LSTMEstimator(config).fit(train, device="cpu")
    assert model.facts["event_calendar"] is True
    future_event = event[-28:]
    assert future_event.any() and (~future_event).any()
    with_flags = model.predict(train, 28).mean
    ratio = with_flags[:, future_event].mean() / with_flags[:, ~future_event].mean()
    blind = model.predict(DemandHistory(ids, train.demand, end_day, train.observed), 28).mean
    blind_ratio = blind[:, future_event].mean() / blind[:, ~future_event].mean()
    assert ratio > 2.0 and blind_ratio < 1.5, (ratio, blind_ratio)
