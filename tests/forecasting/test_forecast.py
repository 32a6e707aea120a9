from __future__ import annotations

import numpy as np
import pytest

from forecasting import DemandForecast, DemandForecastError


def moments_forecast() -> DemandForecast:
    # Two series, horizon 3. Series 0: means 1, 2, 3, variances 0.5, 1, 2. Series 1 flat 10 / 4.
    return DemandForecast(
        mean=np.array([[1.0, 2.0, 3.0], [10.0, 10.0, 10.0]]),
        variance=np.array([[0.5, 1.0, 2.0], [4.0, 4.0, 4.0]]),
        method=np.array(["a", "b"]),
        model_version="test-1",
    )


def test_integer_days_sum_independent_moments() -> None:
    period = moments_forecast().over_period(np.array([2.0, 3.0]))
    # series 0: 1 + 2 = 3, var 0.5 + 1 = 1.5; series 1: 30, var 12.
    np.testing.assert_allclose(period.mean, [3.0, 30.0])
    np.testing.assert_allclose(period.std, np.sqrt([1.5, 12.0]))
    assert period.samples is None


def test_fractional_days_prorate_the_last_partial_day() -> None:
    period = moments_forecast().over_period(np.array([1.5, 0.25]))
    # series 0: 1 + 0.5 * 2 = 2, var 0.5 + 0.5 * 1 = 1; series 1: 2.5, var 1.
    np.testing.assert_allclose(period.mean, [2.0, 2.5])
    np.testing.assert_allclose(period.std, [1.0, 1.0])


def test_days_beyond_horizon_repeat_the_last_day() -> None:
    period = moments_forecast().over_period(np.array([5.5, 7.0]))
    # series 0: 1 + 2 + 3 * 3.5 = 13.5, var 0.5 + 1 + 2 * 3.5 = 8.5; series 1: 70, var 28.
    np.testing.assert_allclose(period.mean, [13.5, 70.0])
    np.testing.assert_allclose(period.std, np.sqrt([8.5, 28.0]))


def test_zero_days_and_scalar_broadcast() -> None:
    np.testing.assert_allclose(moments_forecast().over_period(0.0).mean, [0.0, 0.0])
    np.testing.assert_allclose(moments_forecast().over_period(3).mean, [6.0, 30.0])


@pytest.mark.parametrize("days", [[-1.0, 1.0], [np.nan, 1.0], [np.inf, 1.0], [1.0, 2.0, 3.0]])
def test_over_period_rejects_bad_days(days: list[float]) -> None:
    with pytest.raises(DemandForecastError, match=r"^days:"):
        moments_forecast().over_period(np.array(days))


def sample_forecast() -> DemandForecast:
    # One series, S = 3 paths, H = 2 days.
    samples = np.array([[[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]]])
    return DemandForecast(
        mean=samples.mean(axis=1),
        variance=samples.var(axis=1),
        method=np.array(["paths"]),
        model_version="paths-1",
        samples=samples,
    )


def test_samples_sum_paths_within_horizon() -> None:
    period = sample_forecast().over_period(np.array([1.5]))
    # path totals: 1 + 5 = 6, 2 + 10 = 12, 3 + 15 = 18.
    assert period.samples is not None
    np.testing.assert_allclose(period.samples, [[6.0, 12.0, 18.0]])
    np.testing.assert_allclose(period.mean, [12.0])
    np.testing.assert_allclose(period.std, [np.std([6.0, 12.0, 18.0])])
    np.testing.assert_allclose(period.quantile([0.5]), [[12.0]])


def test_samples_extend_beyond_horizon_with_shifted_last_day() -> None:
    period = sample_forecast().over_period(np.array([4.5]))
    # In-horizon totals 11, 22, 33; 2.5 extra days, last-day values [10, 20, 30]:
    # path 0 takes paths 1, 2 and half of path 0 -> 20 + 30 + 5 = 55, path 1: 30 + 10 + 10 = 50,
    # path 2: 10 + 20 + 15 = 45.
    assert period.samples is not None
    np.testing.assert_allclose(period.samples, [[66.0, 72.0, 78.0]])
    # The mean matches the moment path: 1*mean1 + 3.5*mean2 = 2 + 70 = 72.
    np.testing.assert_allclose(period.mean, [72.0])


def test_samples_extension_with_whole_cycles() -> None:
    period = sample_forecast().over_period(np.array([2.0 + 7.0]))
    # 7 extra days = 2 full cycles (2 * 60) + 1 shifted day.
    assert period.samples is not None
    np.testing.assert_allclose(period.samples, [[11 + 120 + 20, 22 + 120 + 30, 33 + 120 + 10]])


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"mean": np.zeros(3)}, "mean"),
        ({"mean": np.zeros((2, 0)), "variance": np.zeros((2, 0))}, "mean"),
        ({"variance": np.zeros((2, 4))}, "variance"),
        ({"variance": -np.ones((2, 3))}, "variance"),
        ({"method": np.array(["a"])}, "method"),
        ({"method": np.array([1, 2])}, "method"),
        ({"model_version": ""}, "model_version"),
        ({"samples": np.zeros((2, 5, 2))}, "samples"),
        ({"samples": np.zeros((2, 0, 3))}, "samples"),
    ],
)
def test_rejects_bad_fields(kwargs: dict[str, object], name: str) -> None:
    fields: dict[str, object] = {
        "mean": np.zeros((2, 3)),
        "variance": np.zeros((2, 3)),
        "method": np.array(["a", "b"]),
        "model_version": "v",
    }
    fields.update(kwargs)
    with pytest.raises(DemandForecastError, match=rf"^{name}:"):
        DemandForecast(**fields)  # type: ignore[arg-type]
