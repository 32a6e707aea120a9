"""Critical ratio and newsvendor levels against stockpyl's closed forms (Snyder & Shen, ch. 4)."""

from __future__ import annotations

import numpy as np
import pytest

from forecasting import PeriodDemand
from policies import (
    CostParams,
    ItemParams,
    PolicyError,
    PolicyKind,
    Rule,
    critical_ratio,
    critical_ratio_from_costs,
    newsvendor,
    newsvendor_level,
)

nv = pytest.importorskip("stockpyl.newsvendor")
stats = pytest.importorskip("scipy.stats")


def test_critical_ratio_forms() -> None:
    # Lost sales, item keeps: (p - c + g) / (p - c + g + h) = (10 - 6 + 1) / (5 + 0.5).
    # Perishable: (p - c + g) / (p - v + g + h) = 0.7 / 0.88 (Snyder & Shen, Example 4.2).
    # Backorders, item keeps: g / (g + h) = 4 / 5.
    ratio = critical_ratio(
        unit_cost=[6.0, 0.3, 6.0],
        price=[10.0, 1.0, 10.0],
        holding_cost=[0.5, 0.0, 1.0],
        penalty=[1.0, 0.0, 4.0],
        salvage=[np.nan, 0.12, np.nan],
        lost_sales=[True, True, False],
    )
    np.testing.assert_allclose(ratio, [5.0 / 5.5, 0.7 / 0.88, 0.8])


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"unit_cost": 5.0, "price": 4.0, "holding_cost": 1.0}, "price"),  # c > p, no penalty: no underage
        ({"unit_cost": 1.0, "price": 4.0, "holding_cost": 0.0}, "holding_cost"),  # keeps, h = 0: no overage
        ({"unit_cost": 1.0, "price": 4.0, "holding_cost": 1.0, "lost_sales": False}, "price"),  # backorder, g = 0
        ({"unit_cost": -1.0, "price": 4.0, "holding_cost": 1.0}, "unit_cost"),
        ({"unit_cost": 1.0, "price": 4.0, "holding_cost": 1.0, "penalty": np.nan}, "penalty"),
    ],
)
def test_critical_ratio_rejects_degenerate_costs(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(PolicyError, match=rf"^{name}:"):
        critical_ratio(**kwargs)


@pytest.mark.parametrize(
    ("holding", "stockout", "mu", "sigma", "lead_time"),
    [(0.18, 0.70, 50.0, 8.0, 0), (1.0, 9.0, 100.0, 30.0, 4), (2.0, 1.0, 20.0, 5.0, 2)],
)
def test_normal_newsvendor_matches_stockpyl(
    holding: float, stockout: float, mu: float, sigma: float, lead_time: int
) -> None:
    expected, _ = nv.newsvendor_normal(holding, stockout, mu, sigma, lead_time=lead_time)
    ratio = critical_ratio(unit_cost=0.0, price=0.0, holding_cost=holding, penalty=stockout, lost_sales=False)
    periods = lead_time + 1
    demand = PeriodDemand(mean=np.array([mu * periods]), std=np.array([sigma * np.sqrt(periods)]))
    assert newsvendor_level(demand, ratio)[0] == pytest.approx(expected, rel=1e-10)


def test_explicit_normal_newsvendor_matches_stockpyl() -> None:
    # Snyder & Shen, Example 4.2: r = 1, c = 0.3, v = 0.12, N(50, 8^2) -> S* = 56.6040; with h and p as well.
    for h, g in ((0.0, 0.0), (0.05, 0.2)):
        expected, _ = nv.newsvendor_normal_explicit(1.0, 0.3, 0.12, 50.0, 8.0, holding_cost=h, stockout_cost=g)
        ratio = critical_ratio(unit_cost=0.3, price=1.0, holding_cost=h, penalty=g, salvage=0.12)
        demand = PeriodDemand(mean=np.array([50.0]), std=np.array([8.0]))
        assert newsvendor_level(demand, ratio)[0] == pytest.approx(expected, rel=1e-10)
    assert expected != pytest.approx(56.60395592743389)


def poisson_samples(mean: float, count: int = 20000) -> np.ndarray:
    """``count`` equally weighted points of the Poisson(mean) distribution (its quantiles at (k + 0.5) / count)."""
    return np.asarray(stats.poisson.ppf((np.arange(count) + 0.5) / count, mean), dtype=np.float64)


@pytest.mark.parametrize(
    ("holding", "stockout", "mean"),
    [(1.0, 4.0, 6.0), (0.18, 0.70, 50.0), (2.0, 1.0, 3.5), (1.0, 19.0, 12.0)],
)
def test_poisson_newsvendor_matches_stockpyl_with_samples(holding: float, stockout: float, mean: float) -> None:
    expected, _ = nv.newsvendor_poisson(holding, stockout, mean)
    ratio = critical_ratio(unit_cost=0.0, price=0.0, holding_cost=holding, penalty=stockout, lost_sales=False)
    samples = poisson_samples(mean)[None, :]
    demand = PeriodDemand(mean=samples.mean(axis=1), std=samples.std(axis=1), samples=samples)
    assert newsvendor_level(demand, ratio)[0] == expected


def test_explicit_poisson_newsvendor_matches_stockpyl() -> None:
    expected, _ = nv.newsvendor_poisson_explicit(10.0, 4.0, 1.0, 6.0)
    ratio = critical_ratio(unit_cost=4.0, price=10.0, holding_cost=0.0, salvage=1.0)
    samples = poisson_samples(6.0)[None, :]
    demand = PeriodDemand(mean=samples.mean(axis=1), std=samples.std(axis=1), samples=samples)
    assert newsvendor_level(demand, ratio)[0] == expected == 7.0


def test_empirical_level_is_the_ceil_order_statistic() -> None:
    # 10 samples 1..10: CR 0.25 -> ceil(2.5) = 3rd smallest; CR 0.3 -> 3rd; CR 0.31 -> 4th.
    samples = np.tile(np.arange(10.0, 0.0, -1.0), (3, 1))
    demand = PeriodDemand(mean=np.full(3, 5.5), std=np.ones(3), samples=samples)
    assert newsvendor_level(demand, [0.25, 0.3, 0.31]).tolist() == [3.0, 3.0, 4.0]


def test_newsvendor_decision_orders_up_to_the_level() -> None:
    # N(50, 8^2) at CR 0.7/0.88 -> S* = 56.604; position 20 -> 36.604 -> 37 units; position 60 -> none.
    params = ItemParams.uniform(2, lead_time_days=0.0, review_days=1.0)
    demand = PeriodDemand(mean=np.full(2, 50.0), std=np.full(2, 8.0))
    ratio = np.full(2, 0.7 / 0.88)
    decision = newsvendor([20.0, 60.0], demand, np.full(2, 50.0), ratio, params, shelf_stock=np.zeros(2))
    assert decision.order_up_to[0] == pytest.approx(56.60395592743389)
    assert decision.quantity.tolist() == [37, 0]
    assert decision.rule_at(0) is Rule.ORDER_UP_TO
    assert decision.rule_at(1) is Rule.NO_ORDER_ABOVE_REORDER_POINT
    assert decision.policy_at(0) is PolicyKind.NEWSVENDOR
    np.testing.assert_allclose(decision.target, ratio)


def test_ratio_from_costs_uses_review_period_holding_and_sales_mode() -> None:
    # h per day 0.1 x R 5 days = 0.5: lost sales (10 - 6 + 1) / 5.5; backorders g / (g + h) = 1 / 1.5.
    params = ItemParams(
        lead_time_days=np.ones(2),
        lead_time_std_days=np.zeros(2),
        review_days=np.full(2, 5.0),
        case_pack=np.ones(2, dtype=np.int64),
        moq=np.ones(2, dtype=np.int64),
        max_order_qty=np.full(2, np.inf),
        shelf_capacity=np.full(2, np.inf),
        service_level=np.full(2, 0.9),
        lost_sales=np.array([True, False]),
    )
    costs = CostParams.uniform(2, unit_cost=6.0, price=10.0, holding_cost=0.1, stockout_penalty=1.0)
    np.testing.assert_allclose(critical_ratio_from_costs(costs, params), [5.0 / 5.5, 1.0 / 1.5])
    with pytest.raises(PolicyError, match=r"^holding_cost:"):
        critical_ratio_from_costs(CostParams.uniform(2, unit_cost=6.0, price=10.0), params)
