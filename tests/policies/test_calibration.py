"""Recalibration: the censored quantile, the residuals of past levels, and a calibrated policy meeting its target."""

from __future__ import annotations

import numpy as np
import pytest

from forecasting import DemandHistory, MovingAverageForecaster
from forecasting.period import PeriodDemand
from policies import CostParams, ItemParams, PolicyError, SimulationSetup, order_up_to, order_up_to_decider, simulate
from policies.calibration import Calibration, kaplan_meier_quantile, level_residuals


def test_kaplan_meier_without_censoring_is_the_empirical_quantile() -> None:
    values = np.random.default_rng(0).normal(size=501)
    for level in (0.1, 0.5, 0.9, 0.98):
        expected = np.quantile(values, level, method="inverted_cdf")
        assert kaplan_meier_quantile(values, np.zeros(501, dtype=bool), level) == pytest.approx(expected)


def test_kaplan_meier_by_hand() -> None:
    # 1 event (S = 3/4), 2 censored (risk set 3 -> 2), 3 event (S = 3/4 x 1/2 = 3/8), 4 event (S = 0).
    values, censored = [4.0, 2.0, 1.0, 3.0], [False, True, False, False]
    assert kaplan_meier_quantile(values, censored, 0.25) == 1.0
    assert kaplan_meier_quantile(values, censored, 0.5) == 3.0  # the naive median of the events would be 3 too,
    assert kaplan_meier_quantile(values, censored, 0.7) == 4.0  # but ignoring the censored 2 would give 3 here
    # a tie: the event counts before the censoring at the same value
    assert kaplan_meier_quantile([1.0, 1.0, 2.0], [True, False, False], 0.3) == 1.0
    # everything censored: the data only bound the quantile from below
    assert kaplan_meier_quantile([1.0, 5.0], [True, True], 0.5) == 5.0


@pytest.mark.parametrize(
    ("values", "censored", "level", "name"),
    [
        ([1.0, 2.0], [False], 0.5, "values, censored"),
        ([np.nan], [False], 0.5, "values"),
        ([1.0], [False], 1.0, "level"),
    ],
)
def test_kaplan_meier_names_what_is_wrong(values: list[float], censored: list[bool], level: float, name: str) -> None:
    with pytest.raises(PolicyError, match=rf"^{name}:"):
        kaplan_meier_quantile(values, censored, level)


def alternating_history(days: int = 60, unseen_day: int | None = None) -> DemandHistory:
    demand = np.tile(np.array([2.0, 0.0], dtype=np.float32), days // 2)[None, :]
    observed = np.ones((1, days), dtype=bool)
    if unseen_day is not None:
        observed[0, unseen_day] = False
    return DemandHistory(series_ids=np.array(["a|S1"]), demand=demand, end_day=20_000, observed=observed)


def test_level_residuals_by_hand() -> None:
    # 2, 0, 2, 0, ...: the 28-day moving average is 1 a day with variance 28/27; over P = 4 days the forecast is
    # 4 units with std sqrt(4 x 28/27), and every 4-day window holds 4 units.
    sigma = np.sqrt(4 * 28 / 27)
    history = alternating_history()
    forecaster = MovingAverageForecaster()
    r, censored = level_residuals(forecaster, history, [4.0], [0.0], [0.0], origins=5, step_days=7,
                                  history_days=120)  # fmt: skip
    np.testing.assert_allclose(r, np.zeros(5), atol=1e-5)  # 5 origins, the last ending on the last day
    assert not censored.any()
    r, _ = level_residuals(forecaster, history, [4.0], [0.0], [2.0], origins=3, step_days=7, history_days=120)
    np.testing.assert_allclose(r, np.full(3, -2.0 / sigma), rtol=1e-5)  # S = s + 2 days of mean demand
    # a stockout day inside a window censors it; origins that do not fit the history are skipped
    r, censored = level_residuals(forecaster, alternating_history(unseen_day=57), [4.0], [0.0], [0.0], origins=40,
                                  step_days=7, history_days=120)  # fmt: skip
    assert r.size == 8 and censored.tolist() == [True] + [False] * 7


def test_safety_factors_per_target_need_enough_uncensored_residuals() -> None:
    calibration = Calibration(min_samples=10)
    residuals = np.linspace(-1.0, 3.0, 401)
    none = np.zeros(401, dtype=bool)
    assert calibration.safety_factors(residuals[:9], none[:9], [0.9]) is None
    z = calibration.safety_factors(residuals, none, [0.9, 0.5, 0.9])
    assert z is not None
    expected = [kaplan_meier_quantile(residuals, none, 0.9), kaplan_meier_quantile(residuals, none, 0.5)]
    np.testing.assert_allclose(z, [expected[0], expected[1], expected[0]])
    # forecasts that ran high: the target is met below the mean, but the safety stock stays >= 0
    assert calibration.safety_factors(residuals - 5.0, none, [0.5]) == pytest.approx([0.0])
    with pytest.raises(PolicyError, match=r"calibration\.origins"):
        Calibration(origins=0)
    with pytest.raises(PolicyError, match="targets"):
        calibration.safety_factors(residuals, none, [1.0])


def test_order_up_to_takes_calibrated_safety_factors() -> None:
    protection = PeriodDemand(mean=np.array([10.0, 10.0]), std=np.array([2.0, 2.0]))
    params = ItemParams.uniform(2, lead_time_days=4.0, review_days=1.0, service_level=0.9)
    plain = order_up_to(np.zeros(2), protection, np.ones(2), params, shelf_stock=np.zeros(2))
    calibrated = order_up_to(np.zeros(2), protection, np.ones(2), params, shelf_stock=np.zeros(2), z=[3.0, -1.0])
    np.testing.assert_allclose(calibrated.reorder_point, [16.0, 8.0])
    np.testing.assert_allclose(calibrated.z, [3.0, -1.0])
    np.testing.assert_allclose(calibrated.target, plain.target)  # the target it was calibrated for
    with pytest.raises(PolicyError, match=r"^z:"):
        order_up_to(np.zeros(2), protection, np.ones(2), params, shelf_stock=np.zeros(2), z=[np.nan, 1.0])


def overdispersed_setup(review: int) -> SimulationSetup:
    """Negative-binomial days (mean 3, shape 0.3: variance 33): a right tail the normal approximation misses."""
    rng = np.random.default_rng(11)
    n, warmup, days = 300, 150, 150
    demand = rng.negative_binomial(0.3, 0.3 / 3.3, size=(n, warmup + days))
    costs = CostParams.uniform(n, unit_cost=1.0, holding_cost=0.001, ordering_cost=1.0, stockout_penalty=1.0)
    return SimulationSetup(demand=demand[:, warmup:], initial_on_hand=np.full(n, 20), lead_time_days=np.full(n, 5.0),
                           lead_time_std_days=np.full(n, 1.0), lost_sales=np.ones(n, dtype=bool), costs=costs,
                           review_days=review, seed=2, prior_sales=demand[:, :warmup].astype(np.float32))  # fmt: skip


@pytest.mark.parametrize("review", [1, 7])
def test_calibrated_policy_meets_its_target(review: int) -> None:
    setup = overdispersed_setup(review)
    forecaster = MovingAverageForecaster()
    for target in (0.9, 0.95):
        params = setup.item_params(target)
        calibrated = simulate(setup, order_up_to_decider(forecaster, params, calibration=Calibration()))
        achieved = calibrated.totals().cycle_service_level
        assert abs(achieved - target) <= 0.02, (target, achieved)
        if review == 1:  # daily review with the plain normal quantile misses by about 5 points
            plain = simulate(setup, order_up_to_decider(forecaster, params)).totals().cycle_service_level
            assert target - plain > 0.03, (target, plain)
