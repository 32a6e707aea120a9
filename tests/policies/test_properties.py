"""Invariants of the order-up-to rule over random batches (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting import PeriodDemand
from policies import (
    ItemParams,
    OrderDecision,
    inventory_position,
    newsvendor,
    order_up_to,
    s_q_policy,
    s_s_policy,
    shelf_stock,
)

N = 6


@st.composite
def items(draw: st.DrawFn) -> dict[str, np.ndarray]:
    def column(strategy: st.SearchStrategy[float]) -> np.ndarray:
        return np.array(draw(st.lists(strategy, min_size=N, max_size=N)), dtype=np.float64)

    case_pack = column(st.integers(1, 24).map(float))
    moq = column(st.integers(1, 100).map(float))
    smallest = np.ceil(moq / case_pack) * case_pack
    extra = column(st.floats(0, 300))
    unlimited = column(st.sampled_from([0.0, 1.0])).astype(bool)
    return {
        "lead_time_days": column(st.floats(0, 20)),
        "lead_time_std_days": column(st.floats(0, 5)),
        "review_days": column(st.floats(0, 7)),
        "case_pack": case_pack,
        "moq": moq,
        "max_order_qty": np.where(unlimited, np.inf, smallest + extra),
        "shelf_capacity": np.where(~unlimited, np.inf, column(st.floats(1, 600))),
        "service_level": column(st.floats(0.501, 0.999)),
        "daily_mean": column(st.floats(0, 50)),
        "daily_std": column(st.floats(0, 30)),
        "on_hand": column(st.integers(0, 500).map(float)),
        "on_order": column(st.integers(0, 200).map(float)),
        "backorders": column(st.integers(0, 50).map(float)),
        "pending": column(st.integers(0, 100).map(float)),
        "more": column(st.integers(0, 300).map(float)),
    }


def run(case: dict[str, np.ndarray], on_hand: np.ndarray) -> tuple[OrderDecision, ItemParams, np.ndarray]:
    params = ItemParams(
        lead_time_days=case["lead_time_days"],
        lead_time_std_days=case["lead_time_std_days"],
        review_days=case["review_days"],
        case_pack=case["case_pack"],
        moq=case["moq"],
        max_order_qty=case["max_order_qty"],
        shelf_capacity=case["shelf_capacity"],
        service_level=case["service_level"],
    )
    days = params.protection_days
    protection = PeriodDemand(mean=case["daily_mean"] * days, std=case["daily_std"] * np.sqrt(days))
    position = inventory_position(on_hand, case["on_order"], case["backorders"], case["pending"])
    stock = shelf_stock(on_hand, case["on_order"], case["pending"])
    decision = order_up_to(position, protection, case["daily_mean"], params, shelf_stock=stock)
    return decision, params, stock


@settings(max_examples=300, deadline=None)
@given(case=items())
def test_quantity_respects_every_constraint(case: dict[str, np.ndarray]) -> None:
    decision, params, stock = run(case, case["on_hand"])
    q = decision.quantity
    positive = q > 0
    assert q.dtype == np.int64
    assert np.all(q >= 0)
    assert np.all(q[positive] % params.case_pack[positive] == 0)
    assert np.all(q[positive] >= params.moq[positive])
    assert np.all(q <= params.max_order_qty)
    assert np.all(stock[positive] + q[positive] <= params.shelf_capacity[positive])
    # No order unless the position is below the reorder point.
    assert np.all(decision.position[positive] < decision.reorder_point[positive])
    # Without binding caps the order reaches the order-up-to level.
    uncapped = positive & np.isinf(params.max_order_qty) & np.isinf(params.shelf_capacity)
    assert np.all(decision.position[uncapped] + q[uncapped] >= decision.order_up_to[uncapped] - 1e-6)


@settings(max_examples=300, deadline=None)
@given(case=items())
def test_more_stock_on_hand_never_orders_more(case: dict[str, np.ndarray]) -> None:
    base, _, _ = run(case, case["on_hand"])
    richer, _, _ = run(case, case["on_hand"] + case["more"])
    assert np.all(richer.quantity <= base.quantity)


def run_policy(
    case: dict[str, np.ndarray], on_hand: np.ndarray, kind: str
) -> tuple[OrderDecision, ItemParams, np.ndarray]:
    """The same random case through (s, Q), (s, S) or the newsvendor, with a mix of service measures."""
    params = ItemParams(
        lead_time_days=case["lead_time_days"],
        lead_time_std_days=case["lead_time_std_days"],
        review_days=case["review_days"],
        case_pack=case["case_pack"],
        moq=case["moq"],
        max_order_qty=case["max_order_qty"],
        shelf_capacity=case["shelf_capacity"],
        service_level=case["service_level"],
        lost_sales=case["on_order"] > 100,
        service_measure=(case["pending"] > 50).astype(np.int8),
    )
    days = params.lead_time_days
    demand = PeriodDemand(mean=case["daily_mean"] * days, std=case["daily_std"] * np.sqrt(days))
    position = inventory_position(
        on_hand, case["on_order"], case["backorders"], case["pending"], lost_sales=params.lost_sales
    )
    stock = shelf_stock(on_hand, case["on_order"], case["pending"])
    batch = 1.0 + case["more"] / 3.0
    if kind == "s_q":
        decision = s_q_policy(position, demand, case["daily_mean"], params, batch, shelf_stock=stock)
    elif kind == "s_s":
        decision = s_s_policy(position, demand, case["daily_mean"], params, batch, shelf_stock=stock)
    else:
        decision = newsvendor(position, demand, case["daily_mean"], case["service_level"], params, shelf_stock=stock)
    return decision, params, stock


@pytest.mark.parametrize("kind", ["s_q", "s_s", "newsvendor"])
@settings(max_examples=100, deadline=None)
@given(case=items())
def test_other_policies_respect_constraints_and_monotonicity(kind: str, case: dict[str, np.ndarray]) -> None:
    decision, params, stock = run_policy(case, case["on_hand"], kind)
    q = decision.quantity
    positive = q > 0
    assert np.all(q >= 0)
    assert np.all(q[positive] % params.case_pack[positive] == 0)
    assert np.all(q[positive] >= params.moq[positive])
    assert np.all(q <= params.max_order_qty)
    assert np.all(stock[positive] + q[positive] <= params.shelf_capacity[positive])
    assert np.all(decision.position[positive] < decision.reorder_point[positive])
    richer, _, _ = run_policy(case, case["on_hand"] + case["more"], kind)
    assert np.all(richer.quantity <= q)
