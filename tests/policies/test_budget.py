from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting import PeriodDemand
from policies import ItemParams, PolicyError, Rule, apply_budget, expected_shortage, explain, order_up_to

from .helpers import decide


def params_with(case_pack: list[int], moq: list[int]) -> ItemParams:
    n = len(case_pack)
    return ItemParams(
        lead_time_days=np.ones(n),
        lead_time_std_days=np.zeros(n),
        review_days=np.ones(n),
        case_pack=np.array(case_pack),
        moq=np.array(moq),
        max_order_qty=np.full(n, np.inf),
        shelf_capacity=np.full(n, np.inf),
        service_level=np.full(n, 0.95),
    )


def test_expected_shortage() -> None:
    # sigma G((y - mu) / sigma): y = mu -> sigma / sqrt(2 pi); sigma = 0 -> max(mu - y, 0).
    es = expected_shortage([100.0, 100.0, 100.0], [10.0, 0.0, 0.0], [100.0, 90.0, 110.0])
    np.testing.assert_allclose(es, [10.0 * 0.3989422804014327, 10.0, 0.0])


def test_ranked_cut_and_trim_by_location() -> None:
    # Protection 2 days of 10/day, no spread: s = 20, S = 30; position 10 -> every order is 20 units and avoids
    # 10 units short, so value per money = 10 / (20 c). Location 0 (budget 100): C (c 1.5, spend 30) and
    # B (c 2, spend 40) fit; A (c 2.5, spend 50) finds 30 left -> 12 units, 10 with its case pack 5. Location 1
    # (budget 25): D (c 1, spend 20) fits; E (c 1.25, spend 25) finds 5 left -> 4 units < MOQ 5 -> cut;
    # F (c 3) is ranked below E and cut as well.
    params = params_with([5, 1, 1, 1, 1, 1], [1, 1, 1, 1, 5, 1])
    decision = decide(params, daily_mean=[10.0] * 6, daily_variance=[0.0] * 6, position=[10.0] * 6)
    assert decision.quantity.tolist() == [20] * 6
    cost = np.array([2.5, 2.0, 1.5, 1.0, 1.25, 3.0])
    budgeted = apply_budget(decision, params, location=[0, 0, 0, 1, 1, 1], budget=[100.0, 25.0], unit_cost=cost)
    assert budgeted.quantity.tolist() == [10, 20, 20, 20, 0, 0]
    assert [budgeted.rule_at(i) for i in range(6)] == [
        Rule.TRIMMED_BY_BUDGET,
        Rule.ORDER_UP_TO,
        Rule.ORDER_UP_TO,
        Rule.ORDER_UP_TO,
        Rule.CUT_BY_BUDGET,
        Rule.CUT_BY_BUDGET,
    ]
    assert budgeted.budget_rank.tolist() == [2, 1, 0, 0, 1, 2]
    np.testing.assert_allclose(budgeted.value_per_money, 10.0 / (20.0 * cost))
    np.testing.assert_allclose(budgeted.budget_left, [30.0, 70.0, 100.0, 25.0, 5.0, -20.0])
    text = explain(budgeted, params, 0)
    assert text.startswith("order 10 units (trimmed_by_budget)")
    assert "trimmed to 10 by the location budget: the order would cost 50.00 with 30.00 left" in text
    assert "(rank 3, value 0.2 per unit of money)" in text
    assert explain(budgeted, params, 4).startswith("no order (cut_by_budget)")


def test_unlimited_budget_changes_nothing() -> None:
    params = params_with([1, 1], [1, 1])
    decision = decide(params, daily_mean=[10.0, 10.0], daily_variance=[4.0, 4.0], position=[10.0, 50.0])
    budgeted = apply_budget(decision, params, location=[0, 0], budget=[np.inf], unit_cost=[1.0, 1.0])
    assert budgeted.quantity.tolist() == decision.quantity.tolist()
    assert budgeted.rule.tolist() == decision.rule.tolist()
    assert budgeted.budget_rank.tolist() == [0, -1]


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"location": [0, 2], "budget": [1.0, 1.0], "unit_cost": [1.0, 1.0]}, "location"),
        ({"location": [0, 0.5], "budget": [1.0], "unit_cost": [1.0, 1.0]}, "location"),
        ({"location": [0, 0], "budget": [-1.0], "unit_cost": [1.0, 1.0]}, "budget"),
        ({"location": [0, 0], "budget": [1.0], "unit_cost": [1.0, np.inf]}, "unit_cost"),
        (
            {"location": [0, 0], "budget": [1.0], "unit_cost": [1.0, 1.0], "shortage_value": [0.0, 1.0]},
            "shortage_value",
        ),
    ],
)
def test_rejects_bad_budget_inputs(kwargs: dict[str, list[float]], name: str) -> None:
    params = params_with([1, 1], [1, 1])
    decision = decide(params, daily_mean=[10.0, 10.0], daily_variance=[4.0, 4.0], position=[10.0, 10.0])
    with pytest.raises(PolicyError, match=rf"^{name}:"):
        apply_budget(decision, params, **kwargs)


N = 12


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    locations=st.integers(1, 3),
)
def test_budget_never_exceeded_and_cuts_follow_rank(data: st.DataObject, locations: int) -> None:
    def column(strategy: st.SearchStrategy[float]) -> np.ndarray:
        return np.array(data.draw(st.lists(strategy, min_size=N, max_size=N)), dtype=np.float64)

    case_pack = column(st.integers(1, 12).map(float)).astype(np.int64)
    moq = column(st.integers(1, 30).map(float)).astype(np.int64)
    params = ItemParams(
        lead_time_days=column(st.floats(0, 10)),
        lead_time_std_days=np.zeros(N),
        review_days=column(st.floats(0, 7)),
        case_pack=case_pack,
        moq=moq,
        max_order_qty=np.full(N, np.inf),
        shelf_capacity=np.full(N, np.inf),
        service_level=column(st.floats(0.55, 0.99)),
    )
    mean = column(st.floats(0, 40))
    days = params.protection_days
    protection = PeriodDemand(mean=mean * days, std=column(st.floats(0, 20)) * np.sqrt(days))
    decision = order_up_to(column(st.floats(-20, 200)), protection, mean, params, shelf_stock=np.zeros(N))
    where = column(st.integers(0, locations - 1).map(float)).astype(np.int64)
    budget = np.array(data.draw(st.lists(st.floats(0, 3000), min_size=locations, max_size=locations)))
    cost = column(st.floats(0, 20))
    result = apply_budget(decision, params, location=where, budget=budget, unit_cost=cost)

    before, after = decision.quantity, result.quantity
    assert np.all((after >= 0) & (after <= before))
    positive = after > 0
    assert np.all(after[positive] % params.case_pack[positive] == 0)
    assert np.all(after[positive] >= params.moq[positive])
    for loc in range(locations):
        here = where == loc
        assert np.sum(after[here] * cost[here]) <= budget[loc] * (1 + 1e-9) + 1e-9
        # Rank order: ordering rows sorted by (value desc, row); once a row is reduced, all later ones are cut.
        rows = np.flatnonzero(here & (before > 0))
        ranked = rows[np.lexsort((rows, -result.value_per_money[rows]))]
        assert result.budget_rank[ranked].tolist() == list(range(ranked.shape[0]))
        reduced = after[ranked] < before[ranked]
        if np.any(reduced):
            first = int(np.argmax(reduced))
            assert np.all(after[ranked[first + 1 :]] == 0)
            assert np.all(result.rule[ranked[first + 1 :]] == Rule.CUT_BY_BUDGET)
