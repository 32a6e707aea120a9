"""Exchange-curve rules: batches under an order budget, service from one penalty per unit short, and the decider."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting import MovingAverageForecaster
from policies import CostParams, PolicyError, SimulationSetup, economic_order_quantity, simulate
from policies.exchange import batches_for_order_rate, service_for_shortage_penalty
from policies.simulation.deciders import exchange_decider


def test_batches_spend_the_budget_and_are_the_eoq_at_the_implied_cost() -> None:
    h = np.array([0.01, 0.05, 0.2])
    d = np.array([50.0, 10.0, 2.0])
    batch, k = batches_for_order_rate(0.5, h, d)
    assert (d / batch).sum() == pytest.approx(0.5)
    np.testing.assert_allclose(batch, economic_order_quantity(np.full(3, k), h, d))
    # by hand: sqrt(K) = (sqrt(0.25) + sqrt(0.25) + sqrt(0.2)) / 0.5
    assert np.sqrt(k) == pytest.approx((0.5 + 0.5 + np.sqrt(0.2)) / 0.5)
    # no demand: one unit, no share of the budget; a tiny budget still leaves batches of at least a unit
    batch, k = batches_for_order_rate(1.0, [0.1, 0.1], [0.0, 4.0])
    assert batch[0] == 1.0 and batch[1] == pytest.approx(4.0)
    assert batches_for_order_rate(1.0, [0.1], [0.0])[0].tolist() == [1.0]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0.5, 500.0), st.floats(0.001, 1.0)), min_size=2, max_size=30),
    st.floats(0.01, 5.0),
)
def test_batches_hold_no_more_cycle_stock_than_equal_time_supplies(items: list[tuple[float, float]],
                                                                   budget: float) -> None:  # fmt: skip
    d = np.array([i[0] for i in items])
    h = np.array([i[1] for i in items])
    batch, _ = batches_for_order_rate(budget, h, d)
    if np.any(batch <= 1.0):
        return  # a batch on its one-unit floor places fewer orders than the budget: not the same effort
    same_time = d * len(d) / budget  # every item ordered every n / N days: the same N orders a day
    assert (h * batch).sum() <= (h * same_time).sum() * (1 + 1e-9)  # Cauchy-Schwarz


def test_service_levels_by_hand() -> None:
    # h Q / (B d): 0.01 x 100 / (1 x 10) = 0.1 -> 0.9; 0.1 x 100 / (1 x 10) = 1 -> floor; no demand -> floor
    h, q, d = [0.01, 0.1, 0.01, 0.0001], [100.0, 100.0, 100.0, 10.0], [10.0, 10.0, 0.0, 100.0]
    alpha = service_for_shortage_penalty(h, q, d, 1.0)
    np.testing.assert_allclose(alpha, [0.9, 0.01, 0.01, 0.999])
    assert service_for_shortage_penalty([0.01], [100.0], [10.0], 2.0)[0] == pytest.approx(0.95)
    # a penalty proportional to value (h = r v, B = b v): alpha = 1 - r Q / (b d) whatever the value
    value = np.array([1.0, 50.0])
    alpha = service_for_shortage_penalty(0.001 * value, [100.0, 100.0], [10.0, 10.0], 0.5 * value)
    np.testing.assert_allclose(alpha, [0.98, 0.98])


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: batches_for_order_rate(0.0, [1.0], [1.0]), "orders_per_day"),
        (lambda: batches_for_order_rate(1.0, [0.0], [1.0]), "holding_cost"),
        (lambda: batches_for_order_rate(1.0, [1.0], [-1.0]), "demand_rate"),
        (lambda: service_for_shortage_penalty([1.0], [1.0], [1.0], 0.0), "penalty"),
        (lambda: service_for_shortage_penalty([1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [1.0, np.nan]), "penalty"),
        (lambda: service_for_shortage_penalty([1.0], [0.0], [1.0], 1.0), "batch"),
        (lambda: service_for_shortage_penalty([1.0], [1.0], [1.0], 1.0, floor=0.5, ceiling=0.4), "floor, ceiling"),
    ],
)
def test_bad_parameters_are_named(call, name: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PolicyError, match=rf"^{name}:"):
        call()


def mixed_setup() -> SimulationSetup:
    """Cheap fast movers and dear slow ones, Poisson demand, one supplier lead time."""
    rng = np.random.default_rng(5)
    n, warmup, days = 60, 60, 120
    rate = np.where(np.arange(n) % 2 == 0, 20.0, 1.0)
    value = np.where(np.arange(n) % 2 == 0, 1.0, 50.0)
    demand = rng.poisson(rate[:, None], size=(n, warmup + days))
    costs = CostParams(unit_cost=value, price=np.full(n, np.nan), holding_cost=0.25 / 365 * value,
                       stockout_penalty=value, ordering_cost=np.full(n, 10.0), salvage=np.full(n, np.nan))  # fmt: skip
    return SimulationSetup(demand=demand[:, warmup:], initial_on_hand=np.rint(rate * 8).astype(np.int64),
                           lead_time_days=np.full(n, 4.0), lead_time_std_days=np.full(n, 1.0),
                           lost_sales=np.ones(n, dtype=bool), costs=costs, review_days=1, seed=1,
                           prior_sales=demand[:, :warmup].astype(np.float32))  # fmt: skip


def test_exchange_decider_serves_cheap_units_first_and_spends_its_budget() -> None:
    setup = mixed_setup()
    params = setup.item_params(0.9)
    forecaster = MovingAverageForecaster()
    runs = {}
    for budget in (1.0, 3.0):
        decide = exchange_decider(forecaster, params, setup.costs.holding_cost, orders_per_day=budget,
                                  shortage_penalty=0.5)  # fmt: skip
        runs[budget] = simulate(setup, decide)
    few, many = runs[1.0], runs[3.0]
    assert few.orders_placed.sum() < many.orders_placed.sum() <= 3.0 * setup.days * 1.2
    # more orders buy smaller batches: less stock on hand for the same penalty
    assert many.average_on_hand_value.sum() < few.average_on_hand_value.sum()
    # one penalty per unit: cheap units (even rows) get a higher fill rate than dear ones
    cheap, dear = np.arange(60) % 2 == 0, np.arange(60) % 2 == 1
    fill = many.filled / np.maximum(many.demanded, 1)
    assert fill[cheap].mean() > fill[dear].mean()
    with pytest.raises(PolicyError, match="orders_per_day"):
        exchange_decider(forecaster, params, setup.costs.holding_cost, orders_per_day=0.0, shortage_penalty=1.0)
