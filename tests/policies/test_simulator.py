"""The daily simulator: exact stock accounting, censoring, and the ranking of oracle, order-up-to and min/max."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting import MovingAverageForecaster
from policies import (
    CostParams,
    PolicyError,
    SimulationResult,
    SimulationSetup,
    SystemView,
    min_max_decider,
    oracle_decider,
    order_up_to_decider,
    simulate,
)


def make_setup(
    demand: npt.ArrayLike,
    *,
    on_hand: npt.ArrayLike,
    lead: float,
    lead_std: float = 0.0,
    lost: bool | list[bool] = True,
    review: int = 1,
    seed: int = 0,
    costs: CostParams | None = None,
) -> SimulationSetup:
    units = np.asarray(demand)
    n = units.shape[0]
    return SimulationSetup(
        demand=units,
        initial_on_hand=np.asarray(on_hand),
        lead_time_days=np.full(n, lead),
        lead_time_std_days=np.full(n, lead_std),
        lost_sales=np.broadcast_to(np.asarray(lost, dtype=np.bool_), (n,)).copy(),
        costs=CostParams.uniform(n, unit_cost=2.0, holding_cost=0.5, ordering_cost=10.0, stockout_penalty=3.0)
        if costs is None
        else costs,
        review_days=review,
        seed=seed,
    )


class Scripted:
    """Orders ``plan[day]`` at each review and keeps the views it was shown."""

    def __init__(self, plan: npt.NDArray[np.int64]) -> None:
        self.plan = plan
        self.views: list[SystemView] = []

    def __call__(self, view: SystemView) -> npt.NDArray[np.int64]:
        self.views.append(view)
        row: npt.NDArray[np.int64] = self.plan[view.day]
        return row


def assert_conserved(setup: SimulationSetup, result: SimulationResult) -> None:
    r, d = result, result.daily
    np.testing.assert_array_equal(r.initial_on_hand + r.received, r.sold + r.final_on_hand)
    np.testing.assert_array_equal(r.demanded, r.sold + r.lost + r.final_backorders)
    np.testing.assert_array_equal(r.demanded, r.filled + r.lost + r.backordered)
    np.testing.assert_array_equal(r.units_ordered, r.received + r.final_on_order)
    np.testing.assert_array_equal(d.sales + d.short, setup.demand)
    assert np.all(d.sales <= d.available) and np.all(d.on_hand >= 0) and np.all(d.on_order >= 0)
    assert np.all(d.backorders[setup.lost_sales] == 0)
    assert np.all(r.lost[~setup.lost_sales] == 0) and np.all(r.backordered[setup.lost_sales] == 0)


@st.composite
def worlds(draw: st.DrawFn) -> tuple[SimulationSetup, npt.NDArray[np.int64]]:
    n = draw(st.integers(1, 4))
    days = draw(st.integers(1, 25))
    demand = np.array(draw(st.lists(st.integers(0, 9), min_size=n * days, max_size=n * days))).reshape(n, days)
    plan = np.array(draw(st.lists(st.integers(0, 15), min_size=n * days, max_size=n * days))).reshape(days, n)
    lost = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    setup = make_setup(
        demand,
        on_hand=draw(st.lists(st.integers(0, 20), min_size=n, max_size=n)),
        lead=draw(st.floats(1.0, 5.0)),
        lead_std=draw(st.floats(0.0, 2.0)),
        lost=lost,
        review=draw(st.integers(1, 5)),
        seed=draw(st.integers(0, 2**16)),
    )
    return setup, plan


@settings(max_examples=60, deadline=None)
@given(world=worlds(), censor=st.booleans())
def test_stock_is_conserved_exactly(world: tuple[SimulationSetup, npt.NDArray[np.int64]], censor: bool) -> None:
    setup, plan = world
    for decide in (Scripted(plan), oracle_decider(setup), min_max_decider(window_days=7)):
        result = simulate(setup, decide, censor_stockouts=censor)
        assert_conserved(setup, result)
        assert np.all(result.cycles_met <= result.cycles)
        assert np.all(result.ordering_cost == 10.0 * result.orders_placed)


# One series, 6 days, L = 1 exactly (an order at the end of day k is on the shelf on day k + 2), R = 2,
# orders 4, 2, 6 at the reviews of days 0, 2, 4; h = 0.5, K = 10, g = 3, unit cost 2.
DEMAND = [[3, 4, 0, 5, 2, 0]]
PLAN = np.array([[4], [0], [2], [0], [6], [0]])


def run_hand_case(lost: bool) -> tuple[SimulationResult, Scripted]:
    setup = make_setup(DEMAND, on_hand=[5], lead=1.0, lost=lost, review=2)
    decide = Scripted(PLAN)
    return simulate(setup, decide), decide


def test_hand_computed_lost_sales() -> None:
    # day: arrive, available, demand -> sold, short, end on hand
    # 0:   0, 5, 3 -> 3, 0, 2   order 4 (due day 2)
    # 1:   0, 2, 4 -> 2, 2, 0   stockout (2 lost)
    # 2:   4, 4, 0 -> 0, 0, 4   order 2 (due day 4)
    # 3:   0, 4, 5 -> 4, 1, 0   stockout (1 lost)
    # 4:   2, 2, 2 -> 2, 0, 0   order 6 (due day 6: after the run)
    # 5:   0, 0, 0 -> 0, 0, 0   stockout (empty shelf, no unmet demand)
    r, decide = run_hand_case(lost=True)
    d = r.daily
    assert d.received[0].tolist() == [0, 0, 4, 0, 2, 0]
    assert d.available[0].tolist() == [5, 2, 4, 4, 2, 0]
    assert d.sales[0].tolist() == [3, 2, 0, 4, 2, 0]
    assert d.short[0].tolist() == [0, 2, 0, 1, 0, 0]
    assert d.on_hand[0].tolist() == [2, 0, 4, 0, 0, 0]
    assert d.on_order[0].tolist() == [4, 4, 2, 2, 6, 6]
    assert d.backorders[0].tolist() == [0] * 6
    assert d.stockout[0].tolist() == [False, True, False, True, False, True]
    assert d.observed[0].tolist() == [True, False, True, False, True, False]
    assert [r.demanded[0], r.filled[0], r.sold[0], r.lost[0], r.backordered[0]] == [14, 11, 11, 3, 0]
    assert [r.received[0], r.final_on_hand[0], r.final_on_order[0], r.final_backorders[0]] == [6, 0, 6, 0]
    assert r.fill_rate[0] == pytest.approx(11 / 14)
    assert r.stockout_days[0] == 3
    assert r.average_on_hand[0] == pytest.approx(1.0)
    assert r.average_on_hand_value[0] == pytest.approx(2.0)
    assert r.orders_placed[0] == 3 and r.units_ordered[0] == 12
    assert r.ordering_cost[0] == pytest.approx(30.0)
    assert r.holding_cost[0] == pytest.approx(0.5 * 6)
    assert r.stockout_cost[0] == pytest.approx(3.0 * 3)
    assert r.total_cost[0] == pytest.approx(42.0)
    # Cycle of review 0: days 2..3 (own order on day 2, next on day 4): day 3 short -> missed.
    # Cycle of review 2: days 4..5: nothing unmet -> met. Review 4 has no next review inside the run.
    assert (r.cycles[0], r.cycles_met[0]) == (2, 1)
    assert r.cycle_service_level[0] == pytest.approx(0.5)
    views = decide.views
    assert [v.day for v in views] == [0, 2, 4]
    assert [(int(v.on_hand[0]), int(v.on_order[0]), int(v.backorders[0])) for v in views] == [(2, 0, 0), (4, 0, 0),
                                                                                               (0, 0, 0)]  # fmt: skip
    assert views[-1].sales[0].tolist() == [3, 2, 0, 4, 2]
    assert views[-1].observed[0].tolist() == [True, False, True, False, True]
    assert views[-1].ordered[0].tolist() == [4, 0, 2, 0]
    totals = r.totals()
    assert (totals.demanded, totals.sold, totals.lost) == (14, 11, 3)
    assert totals.total_cost == pytest.approx(42.0)


def test_hand_computed_backorders() -> None:
    # day: arrive, backorders served, available, demand -> sold, short, end on hand, end backorders
    # 0:   0, 0, 5, 3 -> 3, 0, 2, 0   order 4
    # 1:   0, 0, 2, 4 -> 2, 2, 0, 2
    # 2:   4, 2, 2, 0 -> 0, 0, 2, 0   order 2
    # 3:   0, 0, 2, 5 -> 2, 3, 0, 3
    # 4:   2, 2, 0, 2 -> 0, 2, 0, 3   order 6
    # 5:   0, 0, 0, 0 -> 0, 0, 0, 3
    r, decide = run_hand_case(lost=False)
    d = r.daily
    assert d.backlog_served[0].tolist() == [0, 0, 2, 0, 2, 0]
    assert d.available[0].tolist() == [5, 2, 2, 2, 0, 0]
    assert d.sales[0].tolist() == [3, 2, 0, 2, 0, 0]
    assert d.short[0].tolist() == [0, 2, 0, 3, 2, 0]
    assert d.on_hand[0].tolist() == [2, 0, 2, 0, 0, 0]
    assert d.backorders[0].tolist() == [0, 2, 0, 3, 3, 3]
    assert d.stockout[0].tolist() == [False, True, False, True, True, True]
    assert [r.demanded[0], r.filled[0], r.sold[0], r.lost[0], r.backordered[0]] == [14, 7, 11, 0, 7]
    assert [r.received[0], r.final_on_hand[0], r.final_on_order[0], r.final_backorders[0]] == [6, 0, 6, 3]
    assert r.fill_rate[0] == pytest.approx(0.5)
    assert r.stockout_days[0] == 4
    assert r.average_on_hand[0] == pytest.approx(4 / 6)
    assert r.holding_cost[0] == pytest.approx(0.5 * 4)
    assert r.stockout_cost[0] == pytest.approx(3.0 * 7)
    assert r.total_cost[0] == pytest.approx(30.0 + 2.0 + 21.0)
    assert (r.cycles[0], r.cycles_met[0]) == (2, 0)
    assert [(int(v.on_hand[0]), int(v.backorders[0])) for v in decide.views] == [(2, 0), (2, 0), (0, 3)]


def poisson_setup(n: int, days: int, *, lost: bool, seed: int = 7, review: int = 7) -> SimulationSetup:
    rng = np.random.default_rng(seed)
    rates = rng.uniform(1.0, 8.0, size=(n, 1))
    costs = CostParams.uniform(n, unit_cost=10.0, holding_cost=0.05, ordering_cost=5.0, stockout_penalty=5.0)
    return make_setup(
        rng.poisson(rates, size=(n, days)),
        on_hand=np.rint(rates[:, 0] * 5),
        lead=3.0,
        lead_std=1.0,
        lost=lost,
        review=review,
        seed=seed,
        costs=costs,
    )


@pytest.mark.parametrize("censor", [True, False])
def test_censoring_marks_stockout_days(censor: bool) -> None:
    setup = poisson_setup(20, 60, lost=True, review=3)
    seen: list[SystemView] = []
    ordering = min_max_decider(window_days=14, min_days=2.0, max_days=6.0)

    def decide(view: SystemView) -> npt.ArrayLike:
        seen.append(view)
        return ordering(view)

    r = simulate(setup, decide, censor_stockouts=censor)
    d = r.daily
    assert d.stockout.any() and not d.stockout.all()
    assert np.all(d.sales <= d.available) and np.all(d.sales <= setup.demand)
    expected = ~d.stockout if censor else np.ones_like(d.stockout)
    np.testing.assert_array_equal(d.observed, expected)
    last = seen[-1]
    np.testing.assert_array_equal(last.observed, expected[:, : last.day + 1])
    np.testing.assert_array_equal(last.sales, d.sales[:, : last.day + 1])
    with pytest.raises(ValueError):
        last.sales[0, 0] = 1.0  # the view is read-only


@pytest.mark.parametrize("lost", [True, False])
def test_oracle_costs_least(lost: bool) -> None:
    setup = poisson_setup(30, 120, lost=lost)
    params = setup.item_params(0.95)
    oracle = simulate(setup, oracle_decider(setup)).totals()
    min_max = simulate(setup, min_max_decider()).totals()
    policy = simulate(setup, order_up_to_decider(MovingAverageForecaster(), params)).totals()
    assert oracle.total_cost <= min_max.total_cost
    assert oracle.total_cost <= policy.total_cost
    assert oracle.holding_cost <= policy.holding_cost and oracle.stockout_cost <= policy.stockout_cost


def test_fill_rate_rises_with_the_service_target() -> None:
    setup = poisson_setup(30, 150, lost=True)
    forecaster = MovingAverageForecaster()
    fill, csl = [], []
    for level in (0.6, 0.8, 0.95, 0.99):
        totals = simulate(setup, order_up_to_decider(forecaster, setup.item_params(level))).totals()
        fill.append(totals.fill_rate)
        csl.append(totals.cycle_service_level)
    assert fill == sorted(fill) and len(set(fill)) == len(fill)
    assert csl == sorted(csl)
    assert fill[-1] > 0.98


def test_uncensored_stockouts_drag_the_forecast_down() -> None:
    # Read as zero sales, a stockout lowers the moving average, which orders less and stocks out again.
    setup = poisson_setup(30, 120, lost=False, review=1)
    decide = order_up_to_decider(MovingAverageForecaster(), setup.item_params(0.6))
    censored = simulate(setup, decide, censor_stockouts=True).totals()
    uncensored = simulate(setup, decide, censor_stockouts=False).totals()
    assert censored.fill_rate > uncensored.fill_rate


def test_bad_decisions_and_setups_name_the_parameter() -> None:
    setup = make_setup([[1, 2, 3]], on_hand=[0], lead=1.0)
    with pytest.raises(PolicyError, match="decide"):
        simulate(setup, lambda view: np.array([-1]))
    with pytest.raises(PolicyError, match="decide"):
        simulate(setup, lambda view: np.array([1, 2]))
    with pytest.raises(PolicyError, match="demand"):
        make_setup([[1.5, 2.0]], on_hand=[0], lead=1.0)
    with pytest.raises(PolicyError, match="lead_time_days"):
        make_setup([[1, 2]], on_hand=[0], lead=0.5)
