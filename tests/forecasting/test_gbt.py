"""The LightGBM baseline: its features at an origin, learning a pattern, and its count variance."""

from __future__ import annotations

import numpy as np
import pytest

from forecasting import DemandHistory, MovingAverageForecaster
from forecasting.gbt import FEATURES, GradientBoostedForecaster, features_at
from forecasting.metrics import naive_scales, rmsse


def _history(y: np.ndarray, end_day: int = 19_000) -> DemandHistory:
    ids = np.array([f"s{i}|L" for i in range(len(y))], dtype=object)
    return DemandHistory(ids, y.astype(np.float32), end_day, np.ones(y.shape, bool))


def test_features_at_an_origin_use_only_days_before_it() -> None:
    y = np.array([[0, 0, 3, 0, 1, 0, 0, 2, 0, 0]], float)
    h = _history(y, end_day=9)  # day numbers 0..9; day 0 = 1970-01-01, a Thursday
    rows = features_at(h, origin=8, horizon=2)
    assert rows.shape == (2, len(FEATURES))
    col = {name: rows[:, i] for i, name in enumerate(FEATURES)}
    assert col["last"].tolist() == [2, 2]
    assert col["mean7"] == pytest.approx([6 / 7] * 2)
    assert col["days_since_sale"].tolist() == [1, 1]
    assert col["step"].tolist() == [1, 2]
    assert col["weekday"].tolist() == [(8 + 3) % 7, (9 + 3) % 7]
    changed = y.copy()
    changed[0, 8:] = 100  # the future must not leak into the features
    assert np.array_equal(features_at(_history(changed, end_day=9), 8, 2), rows)


def test_learns_a_weekly_pattern_better_than_the_moving_average() -> None:
    rng = np.random.default_rng(1)
    week = np.array([1, 1, 1, 2, 4, 6, 3], float)
    level = rng.uniform(0.5, 5, 200)
    y = rng.poisson(level[:, None] * week[(np.arange(252) + 3) % 7][None, :]).astype(float)
    train, actual = _history(y[:, :-28], end_day=223), y[:, -28:]
    model = GradientBoostedForecaster(rounds=60, train_days=140, seed=0).fit(train)
    forecast = model.predict(train, 28)
    scales = naive_scales(train.demand)
    baseline = MovingAverageForecaster(window=28, min_history=7).predict(train, 28)
    assert rmsse(actual, forecast.mean, scales).mean() < 0.8 * rmsse(actual, baseline.mean, scales).mean()
    assert np.all(forecast.variance >= forecast.mean) and model.dispersion >= 0
    assert forecast.method.tolist() == ["lightgbm"] * 200


def test_predict_before_fit_says_what_to_do() -> None:
    with pytest.raises(ValueError, match="call fit"):
        GradientBoostedForecaster().predict(_history(np.ones((1, 60))), 28)


def test_the_month_is_used_only_with_two_years_of_history(tmp_path) -> None:
    y = np.random.default_rng(2).poisson(2.0, (30, 800)).astype(float)
    long = _history(y, end_day=19_000)
    short = _history(y[:, -400:], end_day=19_000)
    month = FEATURES.index("month")
    assert features_at(short, 400, 28, yearly=False)[:, month].max() == 0
    assert features_at(short, 400, 28)[:, month].max() > 0
    fast = {"rounds": 5, "train_days": 56}
    short_model = GradientBoostedForecaster(**fast).fit(short)
    long_model = GradientBoostedForecaster(**fast).fit(long)
    assert (short_model.yearly, long_model.yearly) == (False, True)
    loaded = GradientBoostedForecaster.load(short_model.save(tmp_path / "short"))
    assert loaded.yearly is False and loaded.version == short_model.version
    np.testing.assert_array_equal(loaded.predict(short, 28).mean, short_model.predict(short, 28).mean)
