from __future__ import annotations

import numpy as np
import pytest

from policies import CostParams, PolicyError, economic_order_quantity

eoq = pytest.importorskip("stockpyl.eoq")


@pytest.mark.parametrize(
    ("fixed", "holding", "rate"),
    [(8.0, 0.225, 1300.0), (50.0, 0.01, 12.5), (0.0, 1.0, 10.0), (3.0, 2.0, 0.0)],
)
def test_eoq_matches_stockpyl(fixed: float, holding: float, rate: float) -> None:
    expected, _ = eoq.economic_order_quantity(fixed, holding, rate)
    assert economic_order_quantity([fixed], [holding], [rate])[0] == pytest.approx(expected, rel=1e-12)


def test_eoq_example_3_1() -> None:
    # Snyder & Shen, Example 3.1: K = 8, h = 0.225, lambda = 1300 -> Q* = 304.0468.
    assert economic_order_quantity([8.0], [0.225], [1300.0])[0] == pytest.approx(304.0467800264368)


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (([-1.0], [1.0], [1.0]), "ordering_cost"),
        (([1.0], [0.0], [1.0]), "holding_cost"),
        (([1.0], [1.0], [np.nan]), "demand_rate"),
        (([1.0], [1.0, 2.0], [1.0]), "holding_cost"),
    ],
)
def test_eoq_rejects_bad_inputs(args: tuple[list[float], ...], name: str) -> None:
    with pytest.raises(PolicyError, match=rf"^{name}:"):
        economic_order_quantity(*args)


def test_cost_params_allow_unknown_but_not_negative() -> None:
    costs = CostParams.uniform(3, unit_cost=2.0)
    assert costs.n == 3
    assert np.all(np.isnan(costs.price))
    with pytest.raises(PolicyError, match=r"^price:"):
        CostParams(
            unit_cost=np.ones(2),
            price=np.array([1.0, -1.0]),
            holding_cost=np.ones(2),
            stockout_penalty=np.ones(2),
            ordering_cost=np.ones(2),
            salvage=np.full(2, np.nan),
        )
    with pytest.raises(PolicyError, match=r"^salvage:"):
        CostParams(
            unit_cost=np.ones(2),
            price=np.ones(2),
            holding_cost=np.ones(2),
            stockout_penalty=np.ones(2),
            ordering_cost=np.ones(2),
            salvage=np.ones(3),
        )
