"""The rolling-origin backtest: origins, what each model sees, the scores, the ensemble and the report files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from forecasting import DemandHistory, MovingAverageForecaster
from forecasting.backtest import EnsembleOf, Model, cut, run_backtest
from forecasting.backtest_report import per_series_frame, plot_fans, table
from forecasting.baselines import SeasonalNaiveForecaster
from forecasting.metrics import MetricError


def _history(days: int = 150, n: int = 12) -> DemandHistory:
    rng = np.random.default_rng(0)
    week = np.array([1, 1, 1, 2, 4, 6, 3], float)
    y = rng.poisson(rng.uniform(1, 4, n)[:, None] * week[(np.arange(days) + 3) % 7][None, :]).astype(np.float32)
    price = np.full(y.shape, 2.0, np.float32)
    ids = np.array([f"s{i}" for i in range(n)], dtype=object)
    return DemandHistory(ids, y, 19_000, np.ones(y.shape, bool), price=price)


def test_cut_keeps_the_first_days() -> None:
    h = _history()
    c = cut(h, 100)
    assert c.days == 100 and c.end_day == h.start_day + 99 and np.array_equal(c.demand, h.demand[:, :100])


def test_each_origin_trains_only_on_days_before_it() -> None:
    h = _history()
    seen: list[int] = []

    def fit(train: DemandHistory) -> MovingAverageForecaster:
        seen.append(train.days)
        return MovingAverageForecaster(window=28, min_history=7)

    result = run_backtest(h, {"ma": fit}, origins=3, horizon=28)
    assert seen == [150 - 84, 150 - 56, 150 - 28]
    assert [s.origin_day for s in result.scores] == [h.start_day + d for d in seen]
    assert np.array_equal(result.last_actual, h.demand[:, -28:])


def test_scores_rank_a_weekly_model_above_a_flat_one_and_the_report_writes(tmp_path: Path) -> None:
    models: dict[str, Model] = {
        "ma": lambda _: MovingAverageForecaster(window=28, min_history=7),
        "snaive": lambda _: SeasonalNaiveForecaster(),
        "mix": EnsembleOf(("ma", "snaive")),
    }
    result = run_backtest(_history(), models, origins=2, horizon=28)
    summary = result.summary()
    assert set(summary) == {"ma", "snaive", "mix"}
    assert all(np.isfinite(v) for scores in summary.values() for v in scores.values())
    assert 0 <= summary["ma"]["p90_coverage"] <= 1
    mix, ma, snaive = (result.last_forecasts[m] for m in ("mix", "ma", "snaive"))
    assert np.allclose(mix.mean, (ma.mean + snaive.mean) / 2) and mix.model_version.startswith("mix(")
    assert [s.fit_seconds for s in result.scores if s.model == "mix"] == [
        a.fit_seconds + b.fit_seconds
        for a, b in zip(*([s for s in result.scores if s.model == m] for m in ("ma", "snaive")), strict=True)
    ]
    frame = per_series_frame(result)
    assert len(frame) == 3 * 2 * 12 and {"id", "model", "origin_day", "rmsse", "spl", "weight"} <= set(frame)
    text = table(result)
    assert text.splitlines()[0].startswith("model") and "snaive" in text
    png = plot_fans(result, "ma", tmp_path / "fans.png", series=3)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_ensemble_needs_its_members_first() -> None:
    with pytest.raises(MetricError, match="must come before"):
        run_backtest(_history(), {"mix": EnsembleOf(("ma",)), "ma": lambda _: MovingAverageForecaster()}, 1, 28)


def test_too_short_a_history_is_refused_with_what_to_change() -> None:
    with pytest.raises(MetricError, match="fewer origins"):
        run_backtest(_history(days=100), {"ma": lambda _: MovingAverageForecaster()}, origins=3, horizon=28)


def test_hindsight_references_score_the_actual_levels_by_hand() -> None:
    """Two series over 14 training days and a 7-day horizon: the flat reference is each series' actual mean; the
    shaped one multiplies it by the training weekday profile of all series (here: Mondays twice the rest)."""
    from forecasting import metrics
    from forecasting.backtest import hindsight_wrmsse

    end = 19_001
    assert (end - 13 + 3) % 7 == 0, "the training days start on a Monday"
    week = np.array([2, 1, 1, 1, 1, 1, 1], float)
    train_y = np.stack([np.tile(week, 2), np.tile(week * 3, 2)]).astype(np.float32)
    train = DemandHistory(np.array(["a", "b"], dtype=object), train_y, end, np.ones(train_y.shape, bool))
    actual = np.array([[4.0, 0, 0, 2, 0, 0, 1], [0, 0, 7, 0, 0, 0, 0]])
    scales = metrics.naive_scales(train_y)
    weights = np.array([0.25, 0.75])
    got = hindsight_wrmsse(train, actual, scales, weights)
    level = actual.mean(axis=1, keepdims=True)
    profile = week / week.mean()  # the forecast days start on a Monday too
    by_hand = {
        "future_mean": np.sqrt(((actual - level) ** 2).mean(axis=1) / scales.squared) @ weights,
        "future_mean_weekday": np.sqrt(((actual - level * profile) ** 2).mean(axis=1) / scales.squared) @ weights,
    }
    assert got == pytest.approx(by_hand)


def test_backtest_reports_hindsight_per_origin_and_in_the_table() -> None:
    result = run_backtest(_history(), {"ma": lambda _: MovingAverageForecaster(window=28, min_history=7)}, 2, 28)
    assert len(result.hindsight) == 2
    summary = result.hindsight_summary()
    # the weekly history makes the shaped reference better than the flat one, and both beat a forecast
    assert summary["future_mean_weekday"] < summary["future_mean"] < result.summary()["ma"]["wrmsse"]
    assert "hindsight" in table(result)
