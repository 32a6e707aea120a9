from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting.synthetic import (
    CASE_PACKS,
    InventorySimulation,
    SyntheticCatalog,
    SyntheticError,
    generate_catalog,
    simulate_inventory,
    simulate_warehouse,
)

START = date(2025, 1, 6)  # a Monday


@pytest.fixture(scope="module")
def catalog() -> SyntheticCatalog:
    return generate_catalog(120, 3, 182, seed=11, start_day=START)


@pytest.fixture(scope="module")
def sim(catalog: SyntheticCatalog) -> InventorySimulation:
    return simulate_warehouse(catalog, seed=12)


def _assert_same(a: object, b: object) -> None:
    assert dataclasses.is_dataclass(a) and dataclasses.is_dataclass(b)
    for f in dataclasses.fields(a):
        left, right = getattr(a, f.name), getattr(b, f.name)
        if isinstance(left, np.ndarray):
            assert left.dtype == right.dtype, f.name
            assert np.array_equal(left, right), f.name
        else:
            assert left == right, f.name


def test_same_seed_same_arrays(catalog: SyntheticCatalog, sim: InventorySimulation) -> None:
    again = generate_catalog(120, 3, 182, seed=11, start_day=START)
    _assert_same(catalog, again)
    _assert_same(sim, simulate_warehouse(again, seed=12))
    other = generate_catalog(120, 3, 182, seed=13, start_day=START)
    assert not np.array_equal(catalog.demand, other.demand)


def test_shapes_and_item_master(catalog: SyntheticCatalog) -> None:
    n = 120 * 3
    assert catalog.n_series == n and catalog.days == 182
    assert catalog.demand.shape == catalog.price.shape == catalog.promo.shape == (n, 182)
    assert len(set(catalog.keys)) == n
    assert all("|" not in k.split("|", 1)[1] for k in catalog.keys)
    assert set(np.unique(catalog.case_pack).tolist()) <= set(CASE_PACKS)
    assert (catalog.moq % catalog.case_pack == 0).all() and (catalog.moq >= 1).all()
    assert catalog.lead_time_days.min() >= 2.0 and catalog.lead_time_days.max() <= 21.0
    assert catalog.lead_time_days.max() > 12.0  # spread, not all short
    assert (catalog.lead_time_std_days >= 0).all()
    assert (catalog.unit_cost < catalog.unit_price).all() and (catalog.unit_cost > 0).all()
    assert (catalog.shelf_capacity >= 1).all()
    assert (catalog.demand >= 0).all() and np.array_equal(catalog.demand, np.round(catalog.demand))
    assert not catalog.demand.flags.writeable


def test_weekly_seasonality_visible(catalog: SyntheticCatalog) -> None:
    weekday = np.array([catalog.weekday(t) for t in range(catalog.days)])
    by_day = np.array([catalog.demand[:, weekday == d].sum(axis=0).mean() for d in range(7)])
    expected = np.array([catalog.expected[:, weekday == d].sum(axis=0).mean() for d in range(7)])
    assert by_day.max() / by_day.min() > 1.1
    assert np.corrcoef(by_day, expected)[0, 1] > 0.9


def test_intermittent_share_and_heavy_tail(catalog: SyntheticCatalog) -> None:
    assert catalog.intermittent.mean() == pytest.approx(0.3, abs=0.01)
    zero_share = (catalog.demand == 0).mean(axis=1)
    assert zero_share[catalog.intermittent].mean() > 0.6
    assert zero_share[~catalog.intermittent].mean() < zero_share[catalog.intermittent].mean() - 0.3
    totals = np.sort(catalog.demand.sum(axis=1))[::-1]
    top_decile = totals[: len(totals) // 10].sum() / totals.sum()
    assert top_decile > 0.3  # a few fast movers carry much of the volume


def test_promotions_cut_price_and_lift_demand(catalog: SyntheticCatalog) -> None:
    assert 0.01 < catalog.promo.mean() < 0.2
    assert (catalog.price[catalog.promo] < catalog.unit_price[:, None].repeat(catalog.days, 1)[catalog.promo]).all()
    assert np.array_equal(
        catalog.price[~catalog.promo], np.broadcast_to(catalog.unit_price[:, None], catalog.price.shape)[~catalog.promo]
    )
    # demand relative to the series' non-promotion mean is higher on promotion days
    regular = ~catalog.intermittent
    base = np.where(catalog.promo, np.nan, catalog.demand)[regular]
    ratio = catalog.demand[regular] / np.nanmean(base, axis=1, keepdims=True).clip(1e-9)
    assert np.nanmean(np.where(catalog.promo[regular], ratio, np.nan)) > 1.3


def test_trend_is_slow(catalog: SyntheticCatalog) -> None:
    assert np.allclose(catalog.trend[:, 0], 1.0)
    step = np.abs(np.diff(np.log(catalog.trend), axis=1))
    assert step.max() < 0.02


def test_warehouse_censors_sales(catalog: SyntheticCatalog, sim: InventorySimulation) -> None:
    demand = catalog.demand.astype(np.int64)
    assert (sim.sales <= demand).all() and (sim.sales >= 0).all()
    assert np.array_equal(sim.lost_sales, demand - sim.sales)
    assert sim.stockout.sum() > 0  # stockout days exist
    assert 0.005 < sim.stockout.mean() < 0.2
    assert (sim.on_hand[sim.stockout] == 0).all()  # a censored day ends empty
    assert (sim.on_hand >= 0).all() and (sim.on_order >= 0).all()


def test_warehouse_balances(catalog: SyntheticCatalog, sim: InventorySimulation) -> None:
    on_hand_prev = np.concatenate([sim.initial_on_hand[:, None], sim.on_hand[:, :-1]], axis=1)
    assert np.array_equal(sim.on_hand, on_hand_prev + sim.receipts - sim.sales)
    on_order_prev = np.concatenate([sim.initial_on_order[:, None], sim.on_order[:, :-1]], axis=1)
    assert np.array_equal(sim.on_order, on_order_prev - sim.receipts + sim.orders)
    ordered = sim.orders > 0
    packs = np.broadcast_to(catalog.case_pack[:, None], sim.orders.shape)
    moq = np.broadcast_to(catalog.moq[:, None], sim.orders.shape)
    assert (sim.orders[ordered] % packs[ordered] == 0).all()
    assert (sim.orders[ordered] >= moq[ordered]).all()
    assert (sim.order_lead_time[ordered] >= 1).all()
    assert sim.receipts.sum() > 0


def test_argument_errors() -> None:
    with pytest.raises(SyntheticError, match="n_skus"):
        generate_catalog(0, 1, 10, seed=1, start_day=START)
    with pytest.raises(SyntheticError, match="intermittent_share"):
        generate_catalog(1, 1, 10, seed=1, start_day=START, intermittent_share=1.5)
    with pytest.raises(SyntheticError, match="case_pack"):
        simulate_inventory(
            np.ones((2, 5)),
            reorder_point=np.ones(2, np.int64),
            order_up_to=np.full(2, 5, np.int64),
            lead_time_days=np.ones(2),
            lead_time_std_days=np.zeros(2),
            case_pack=np.ones(3, np.int64),
            moq=np.ones(2, np.int64),
            initial_on_hand=np.zeros(2, np.int64),
            seed=1,
        )


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 6),
    days=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
    s=st.integers(0, 20),
    extra=st.integers(0, 30),
    pack=st.sampled_from(CASE_PACKS),
)
def test_simulate_inventory_invariants(n: int, days: int, seed: int, s: int, extra: int, pack: int) -> None:
    rng = np.random.default_rng(seed)
    demand = rng.poisson(3.0, size=(n, days)).astype(np.float64)
    result = simulate_inventory(
        demand,
        reorder_point=np.full(n, s, np.int64),
        order_up_to=np.full(n, s + extra, np.int64),
        lead_time_days=rng.uniform(1, 8, size=n),
        lead_time_std_days=rng.uniform(0, 2, size=n),
        case_pack=np.full(n, pack, np.int64),
        moq=np.full(n, pack, np.int64),
        initial_on_hand=rng.integers(0, 30, size=n),
        seed=seed,
    )
    available = np.concatenate([result.initial_on_hand[:, None], result.on_hand[:, :-1]], axis=1) + result.receipts
    assert np.array_equal(result.sales, np.minimum(demand.astype(np.int64), available))
    assert (result.on_hand >= 0).all()
    assert result.orders.sum() == result.receipts.sum() + result.on_order[:, -1].sum()
