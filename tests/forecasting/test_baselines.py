from __future__ import annotations

import numpy as np
import pytest

from forecasting import DemandHistory, Forecaster
from forecasting.baselines import (
    BaselineError,
    ExponentialSmoothingForecaster,
    IntermittentForecaster,
    SeasonalNaiveForecaster,
)
from forecasting.count_quantiles import count_quantiles


def history(demand: list[list[float]], observed: list[list[bool]] | None = None) -> DemandHistory:
    y = np.asarray(demand, np.float32)
    seen = np.ones(y.shape, bool) if observed is None else np.asarray(observed)
    return DemandHistory(np.array([f"s{i}" for i in range(len(y))], dtype=object), y, 20_000, seen)


WEEK = [1, 1, 2, 2, 3, 8, 9]


def test_every_baseline_is_a_forecaster() -> None:
    for model in (SeasonalNaiveForecaster(), ExponentialSmoothingForecaster(), IntermittentForecaster()):
        assert isinstance(model, Forecaster) and model.name in model.version


def test_seasonal_naive_repeats_the_last_week() -> None:
    forecast = SeasonalNaiveForecaster().predict(history([WEEK * 4]), 10)
    assert forecast.mean[0].tolist() == (WEEK + WEEK[:3])
    assert forecast.variance[0, 0] == 0.0


def test_exponential_smoothing_follows_a_level_shift_and_keeps_a_flat_level() -> None:
    shifted = [2.0] * 30 + [10.0] * 10
    forecast = ExponentialSmoothingForecaster().predict(history([shifted, [5.0] * 40]), 3)
    assert forecast.mean[0, 0] > 9.0, "the largest alpha tracks the shift"
    assert forecast.mean[1].tolist() == [5.0, 5.0, 5.0] and forecast.variance[1, 0] == 0.0
    assert forecast.variance[0, 2] > forecast.variance[0, 0], "uncertainty grows with the horizon"


def test_intermittent_methods_on_a_sale_every_fourth_day() -> None:
    lumpy = [[0, 0, 0, 4] * 25]
    croston = IntermittentForecaster("croston", alpha=0.1).predict(history(lumpy), 1)
    assert croston.mean[0, 0] == pytest.approx(0.95 * 4 / 4)  # (1 - alpha/2) z / q with z = q = 4
    tsb = IntermittentForecaster("tsb", alpha=0.1, beta=0.1).predict(history(lumpy), 1)
    assert 0.8 < tsb.mean[0, 0] < 1.2  # p near 1/4 (just after a sale: a little above) times size 4
    assert tsb.variance[0, 0] > 0


def test_unobserved_days_do_not_update_the_state() -> None:
    demand = [[3.0] * 10 + [0.0] * 10]
    censored = [[True] * 10 + [False] * 10]  # out of stock: the zeros are not demand
    for model in (ExponentialSmoothingForecaster(), IntermittentForecaster("tsb")):
        assert model.predict(history(demand, censored), 1).mean[0, 0] == pytest.approx(3.0)


def test_count_quantiles_keep_mass_at_zero_and_match_the_poisson() -> None:
    q = count_quantiles([0.0, 2.0, 0.3], [0.0, 2.0, 1.5], (0.05, 0.5, 0.95))
    assert q[0].tolist() == [0, 0, 0] and q[1].tolist() == [0, 2, 5]  # Poisson(2)
    assert q[2, 0] == 0 and q[2, 2] >= 1  # overdispersed: a long right tail above a zero median
    large = count_quantiles([1000.0], [1000.0], (0.5,))
    assert large[0, 0] == pytest.approx(1000, abs=1)
    with pytest.raises(BaselineError):
        IntermittentForecaster("ets")


def test_count_quantiles_are_the_smallest_counts_whose_cdf_reaches_the_level() -> None:
    """By definition, from log-space pmfs, on cells whose tails end at very different steps (so the loop's
    compaction of finished cells is exercised)."""
    from math import lgamma, log

    rng = np.random.default_rng(4)
    mean = np.concatenate([rng.lognormal(0.0, 1.3, 400), [0.0, 150.0, 199.0]])
    variance = mean * rng.choice([0.7, 1.0, 1.5, 4.0, 20.0], mean.size)
    levels = (0.005, 0.165, 0.5, 0.835, 0.995)
    got = count_quantiles(mean, variance, levels)
    ks = np.arange(2000)
    for i, (m, v) in enumerate(zip(mean, variance, strict=True)):
        if m == 0:
            expected = np.zeros(len(levels))
        else:
            if v > m:
                r, q = m * m / (v - m), 1 - m / v
                log_pmf = [lgamma(k + r) - lgamma(r) - lgamma(k + 1) + r * log(1 - q) + k * log(q) for k in ks]
            else:
                log_pmf = [k * log(m) - m - lgamma(k + 1) for k in ks]
            cdf = np.cumsum(np.exp(log_pmf))
            expected = np.array([np.argmax(cdf >= u - 1e-12) for u in levels], float)
        np.testing.assert_array_equal(got[i], expected, err_msg=f"mean {m}, variance {v}")
