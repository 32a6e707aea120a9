from __future__ import annotations

import numpy as np
import pytest

from forecasting.metrics import (
    MetricError,
    coverage,
    mase,
    naive_scales,
    pinball,
    revenue_weights,
    rmsse,
    spl,
    total_bias,
    weighted,
)

HISTORY = np.array([[0, 0, 2, 4, 4, 1], [0, 0, 0, 0, 0, 0], [5, 5, 5, 5, 5, 5]], float)
ACTUAL = np.array([[3, 1], [0, 2], [5, 6]], float)
FORECAST = np.array([[2, 2], [1, 1], [5, 5]], float)


def test_scales_start_at_the_first_sale_and_skip_series_that_cannot_be_scaled() -> None:
    scales = naive_scales(HISTORY)
    # from the first sale: 2, 4, 4, 1 -> steps 2, 0, -3
    assert scales.squared[0] == pytest.approx(13 / 3) and scales.absolute[0] == pytest.approx(5 / 3)
    assert scales.usable.tolist() == [True, False, False] and scales.unusable == 2


def test_rmsse_mase_and_scaled_pinball_match_hand_computed_values() -> None:
    scales = naive_scales(HISTORY)
    assert rmsse(ACTUAL, FORECAST, scales)[0] == pytest.approx(np.sqrt(3 / 13))
    assert mase(ACTUAL, FORECAST, scales)[0] == pytest.approx(0.6)
    assert np.isnan(rmsse(ACTUAL, FORECAST, scales)[1:]).all()
    median = FORECAST[..., None]
    assert pinball(ACTUAL[:1], median[:1], (0.5,))[0, 0] == pytest.approx(0.5)
    assert spl(ACTUAL, median, scales, (0.5,))[0] == pytest.approx(0.3)
    # an upper quantile that is too low costs u per unit, one too high costs (1 - u)
    assert pinball([[10.0]], [[[8.0, 12.0]]], (0.9, 0.9))[0].tolist() == pytest.approx([1.8, 0.2])


def test_weights_follow_recent_revenue_of_scorable_series() -> None:
    scales = naive_scales(HISTORY)
    weights = revenue_weights(HISTORY, np.array([2.0, 10.0, 10.0]), scales.usable)
    assert weights.tolist() == [1.0, 0.0, 0.0]
    assert weighted([0.5, np.nan, 3.0], weights) == 0.5
    both = revenue_weights([[1, 1], [3, 1]], [[1, 1], [1, np.nan]], [True, True])
    assert both.tolist() == pytest.approx([2 / 5, 3 / 5])


def test_bias_coverage_and_bad_input() -> None:
    assert total_bias(ACTUAL, FORECAST) == pytest.approx((16 - 17) / 17)
    assert coverage([[3.0, 1.0]], [[3.0, 0.0]]) == 0.5
    with pytest.raises(MetricError, match="same shape"):
        rmsse(ACTUAL, FORECAST[:, :1], naive_scales(HISTORY))
    with pytest.raises(MetricError, match="finite"):
        naive_scales([[1.0, np.nan]])
    with pytest.raises(MetricError, match="sum to zero"):
        total_bias([[0.0]], [[1.0]])
