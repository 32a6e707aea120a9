from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from forecasting import (
    FALLBACK_METHOD,
    METHOD,
    DemandHistory,
    MovingAverageError,
    MovingAverageForecaster,
)

from .conftest import make_history


def test_equals_hand_computation_over_last_window_days() -> None:
    # window 4: last four days 2, 4, 6, 8 -> mean 5, sample variance ((9 + 1 + 1 + 9) / 3) = 20 / 3.
    history = make_history([[100, 100, 2, 4, 6, 8]])
    forecast = MovingAverageForecaster(window=4, min_history=3).predict(history, horizon=7)
    assert forecast.mean.shape == (1, 7)
    assert forecast.variance.shape == (1, 7)
    np.testing.assert_allclose(forecast.mean, 5.0)
    np.testing.assert_allclose(forecast.variance, 20.0 / 3.0)
    assert forecast.method.tolist() == [METHOD]
    assert forecast.model_version == "moving_average-1(window=4,min_history=3)"


def test_censored_days_are_skipped_and_window_counts_observed_days() -> None:
    # The stockout days (0 sold, censored) at the end are skipped; the window of 3 observed days
    # reaches back to 3, 6, 9: mean 6, variance (9 + 0 + 9) / 2 = 9.
    history = make_history(
        [[50, 3, 6, 9, 0, 0]],
        observed=[[True, True, True, True, False, False]],
    )
    forecast = MovingAverageForecaster(window=3, min_history=2).predict(history, horizon=2)
    np.testing.assert_allclose(forecast.mean, 6.0)
    np.testing.assert_allclose(forecast.variance, 9.0)


def test_censored_values_do_not_matter() -> None:
    base = [[4.0, 5.0, 6.0, 7.0]]
    mask = [[True, False, True, True]]
    one = MovingAverageForecaster(window=4, min_history=2).predict(make_history(base, mask), 1)
    other = MovingAverageForecaster(window=4, min_history=2).predict(make_history([[4.0, 9999.0, 6.0, 7.0]], mask), 1)
    np.testing.assert_array_equal(one.mean, other.mean)
    np.testing.assert_array_equal(one.variance, other.variance)


def test_short_history_falls_back_with_poisson_floor_and_label() -> None:
    # Row 0: two observed days (1, 3): mean 2, sample variance 2, floor max(2, 2) = 2.
    # Row 1: two observed days (10, 10): mean 10, sample variance 0 -> floor 10.
    # Row 2: one observed day 7: mean 7, variance 7. Row 3: nothing observed: 0, 0.
    # Row 4: four observed days: plain moving average.
    history = make_history(
        [[0, 0, 1, 3], [0, 0, 10, 10], [0, 0, 0, 7], [0, 0, 0, 0], [1, 2, 3, 4]],
        observed=[
            [False, False, True, True],
            [False, False, True, True],
            [False, False, False, True],
            [False, False, False, False],
            [True, True, True, True],
        ],
    )
    forecast = MovingAverageForecaster(window=4, min_history=3).predict(history, horizon=3)
    np.testing.assert_allclose(forecast.mean[:, 0], [2.0, 10.0, 7.0, 0.0, 2.5])
    np.testing.assert_allclose(forecast.variance[:, 0], [2.0, 10.0, 7.0, 0.0, 5.0 / 3.0])
    assert forecast.method.tolist() == [FALLBACK_METHOD] * 4 + [METHOD]


def test_row_order_and_batch_independence() -> None:
    rng = np.random.default_rng(7)
    demand = rng.poisson(3.0, size=(50, 40)).astype(np.float32)
    observed = rng.random((50, 40)) > 0.3
    model = MovingAverageForecaster(window=10, min_history=5)
    whole = model.predict(make_history(demand.tolist(), observed.tolist()), 4)
    part = model.predict(make_history(demand[20:30].tolist(), observed[20:30].tolist()), 4)
    np.testing.assert_array_equal(whole.mean[20:30], part.mean)
    np.testing.assert_array_equal(whole.variance[20:30], part.variance)


@settings(max_examples=60, deadline=None)
@given(
    demand=hnp.arrays(np.float32, (6, 12), elements=st.floats(0, 100, width=32)),
    observed=hnp.arrays(np.bool_, (6, 12)),
    window=st.integers(2, 12),
)
def test_matches_a_per_series_reference(demand: np.ndarray, observed: np.ndarray, window: int) -> None:
    min_history = max(2, window // 2)
    history = DemandHistory(
        series_ids=np.array([str(i) for i in range(6)]), demand=demand, end_day=1, observed=observed
    )
    forecast = MovingAverageForecaster(window=window, min_history=min_history).predict(history, 2)
    for i in range(6):
        values = demand[i][observed[i]].astype(np.float64)[-window:]
        mean = values.mean() if values.size else 0.0
        variance = values.var(ddof=1) if values.size >= 2 else 0.0
        if values.size < min_history:
            variance = max(variance, mean)
        assert forecast.mean[i, 0] == pytest.approx(mean, rel=1e-9, abs=1e-9)
        assert forecast.variance[i, 1] == pytest.approx(variance, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"window": 1}, "window"),
        ({"window": 2.5}, "window"),
        ({"window": True}, "window"),
        ({"min_history": 1}, "min_history"),
        ({"window": 5, "min_history": 6}, "min_history"),
    ],
)
def test_rejects_bad_parameters(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(MovingAverageError, match=rf"^{name}:"):
        MovingAverageForecaster(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("horizon", [0, -1, 1.0])
def test_rejects_bad_horizon(horizon: object) -> None:
    with pytest.raises(MovingAverageError, match=r"^horizon:"):
        MovingAverageForecaster().predict(make_history([[1.0]]), horizon)  # type: ignore[arg-type]


def test_empty_batch() -> None:
    history = DemandHistory(
        series_ids=np.array([]),
        demand=np.zeros((0, 5), dtype=np.float32),
        end_day=3,
        observed=np.zeros((0, 5), dtype=bool),
    )
    forecast = MovingAverageForecaster().predict(history, 4)
    assert forecast.mean.shape == (0, 4)
    assert forecast.over_period(np.zeros(0)).mean.shape == (0,)
