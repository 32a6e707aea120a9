from __future__ import annotations

import math

import numpy as np
import pytest

from forecasting import PeriodDemand
from policies import ItemParams, PolicyError, Rule, order_up_to

from .helpers import decide

Z95 = 1.6448536269514722


def test_hand_worked_order_up_to() -> None:
    # L = 4, R = 1 -> protection 5 days; d = 10/day, daily variance 4 -> mean_P = 50, std_P = sqrt(20).
    # SS = 1.64485 * 4.47214 = 7.3560; s = 57.3560; S = s + 10 * 1 = 67.3560.
    # position 20 < s -> need 47.356 -> 48 units.
    params = ItemParams.uniform(1, lead_time_days=4.0, review_days=1.0, service_level=0.95)
    decision = decide(params, daily_mean=[10.0], daily_variance=[4.0], position=[20.0])
    assert decision.protection_mean[0] == pytest.approx(50.0)
    assert decision.protection_std[0] == pytest.approx(math.sqrt(20.0))
    assert decision.safety_stock[0] == pytest.approx(Z95 * math.sqrt(20.0))
    assert decision.safety_stock[0] == pytest.approx(7.3560, abs=1e-4)
    assert decision.reorder_point[0] == pytest.approx(57.3560, abs=1e-4)
    assert decision.order_up_to[0] == pytest.approx(67.3560, abs=1e-4)
    assert decision.quantity.tolist() == [48]
    assert decision.quantity.dtype == np.int64
    assert decision.rule_at(0) is Rule.ORDER_UP_TO
    assert decision.labels().tolist() == ["order_up_to"]


def test_lead_time_uncertainty_term() -> None:
    # As above with sigma_L = 1 day: sigma_P = sqrt(20 + 10^2 * 1^2) = sqrt(120) = 10.9545;
    # SS = 18.0185; s = 68.0185; S = 78.0185; position 30 -> need 48.0185 -> 49.
    params = ItemParams.uniform(1, lead_time_days=4.0, lead_time_std_days=1.0, review_days=1.0)
    decision = decide(params, daily_mean=[10.0], daily_variance=[4.0], position=[30.0])
    assert decision.protection_std[0] == pytest.approx(math.sqrt(120.0))
    assert decision.safety_stock[0] == pytest.approx(18.0185, abs=1e-4)
    assert decision.reorder_point[0] == pytest.approx(68.0185, abs=1e-4)
    assert decision.order_up_to[0] == pytest.approx(78.0185, abs=1e-4)
    assert decision.quantity.tolist() == [49]


def test_review_period_adds_cycle_stock() -> None:
    # L = 2, R = 7: protection 9 days, d = 5, variance 0 -> s = 45, S = 45 + 35 = 80; position 44 -> 36.
    params = ItemParams.uniform(1, lead_time_days=2.0, review_days=7.0)
    decision = decide(params, daily_mean=[5.0], daily_variance=[0.0], position=[44.0])
    assert decision.reorder_point[0] == pytest.approx(45.0)
    assert decision.order_up_to[0] == pytest.approx(80.0)
    assert decision.quantity.tolist() == [36]


def test_no_order_at_or_above_reorder_point() -> None:
    # s = 45 (as above): position 45 and 60 order nothing; 44.9 orders up to 80 -> 35.1 -> 36.
    params = ItemParams.uniform(3, lead_time_days=2.0, review_days=7.0)
    decision = decide(params, daily_mean=[5.0] * 3, daily_variance=[0.0] * 3, position=[45.0, 60.0, 44.9])
    assert decision.quantity.tolist() == [0, 0, 36]
    assert decision.labels().tolist() == ["no_order_above_reorder_point"] * 2 + ["order_up_to"]
    assert decision.needed.tolist() == [0, 0, 36]


def test_negative_position_from_backorders_orders_more() -> None:
    params = ItemParams.uniform(1, lead_time_days=2.0, review_days=7.0)
    decision = decide(params, daily_mean=[5.0], daily_variance=[0.0], position=[-10.0])
    assert decision.quantity.tolist() == [90]


# Rounding cases: L = 2, R = 7, d = 5, var 0 -> s = 45, S = 80; position 32 -> need 48.
@pytest.mark.parametrize(
    ("item", "shelf", "quantity", "rule"),
    [
        ({}, 0.0, 48, Rule.ORDER_UP_TO),
        ({"moq": 60}, 0.0, 60, Rule.RAISED_TO_MOQ),
        ({"case_pack": 12}, 0.0, 48, Rule.ORDER_UP_TO),  # 48 is already 4 packs
        ({"case_pack": 10}, 0.0, 50, Rule.ROUNDED_TO_CASE_PACK),
        ({"moq": 50, "case_pack": 12}, 0.0, 60, Rule.ROUNDED_TO_CASE_PACK),  # 48 -> 50 -> 60
        ({"moq": 60, "case_pack": 12}, 0.0, 60, Rule.RAISED_TO_MOQ),  # 48 -> 60, a pack multiple
        ({"max_order_qty": 40.0}, 0.0, 40, Rule.CAPPED_BY_MAX_ORDER),
        ({"max_order_qty": 40.0, "case_pack": 12}, 0.0, 36, Rule.CAPPED_BY_MAX_ORDER),  # 40 -> 3 packs
        ({"shelf_capacity": 100.0, "case_pack": 12}, 70.0, 24, Rule.CAPPED_BY_SHELF),  # room 30
        ({"shelf_capacity": 100.0}, 70.0, 30, Rule.CAPPED_BY_SHELF),
        ({"shelf_capacity": 100.0, "case_pack": 12, "moq": 30}, 70.0, 0, Rule.NO_ORDER_AFTER_CAPS),
        ({"shelf_capacity": 100.0}, 100.0, 0, Rule.NO_ORDER_AFTER_CAPS),  # full shelf
        ({"shelf_capacity": 100.0}, 120.0, 0, Rule.NO_ORDER_AFTER_CAPS),  # over-full shelf
        ({"shelf_capacity": 100.0, "case_pack": 12}, 90.0, 0, Rule.NO_ORDER_AFTER_CAPS),  # room 10 < pack
        (
            {"max_order_qty": 40.0, "shelf_capacity": 100.0, "case_pack": 12},
            80.0,
            12,
            Rule.CAPPED_BY_SHELF,
        ),  # 48 -> 36 by max -> 12 by room 20
    ],
)
def test_rounding_and_caps(item: dict[str, float], shelf: float, quantity: int, rule: Rule) -> None:
    params = ItemParams.uniform(1, lead_time_days=2.0, review_days=7.0, **item)  # type: ignore[arg-type]
    decision = decide(params, daily_mean=[5.0], daily_variance=[0.0], position=[32.0], shelf=[shelf])
    assert decision.needed.tolist() == [48]
    assert decision.quantity.tolist() == [quantity]
    assert decision.rule_at(0) is rule


def test_mixed_batch_is_vectorised_row_by_row() -> None:
    params = ItemParams(
        lead_time_days=np.array([2.0, 4.0]),
        lead_time_std_days=np.array([0.0, 1.0]),
        review_days=np.array([7.0, 1.0]),
        case_pack=np.array([10, 1]),
        moq=np.array([1, 1]),
        max_order_qty=np.array([np.inf, np.inf]),
        shelf_capacity=np.array([np.inf, np.inf]),
        service_level=np.array([0.95, 0.95]),
    )
    decision = decide(params, daily_mean=[5.0, 10.0], daily_variance=[0.0, 4.0], position=[32.0, 30.0])
    assert decision.quantity.tolist() == [50, 49]
    assert decision.labels().tolist() == ["rounded_to_case_pack", "order_up_to"]


def test_rejects_mismatched_inputs() -> None:
    params = ItemParams.uniform(2, lead_time_days=1.0)
    protection = PeriodDemand(mean=np.zeros(2), std=np.zeros(2))
    shelf = np.zeros(2)
    with pytest.raises(PolicyError, match=r"^position:"):
        order_up_to(np.zeros(3), protection, np.zeros(2), params, shelf_stock=shelf)
    with pytest.raises(PolicyError, match=r"^position:"):
        order_up_to(np.array([0.0, np.inf]), protection, np.zeros(2), params, shelf_stock=shelf)
    with pytest.raises(PolicyError, match=r"^daily_mean:"):
        order_up_to(np.zeros(2), protection, np.array([1.0, -1.0]), params, shelf_stock=shelf)
    with pytest.raises(PolicyError, match=r"^shelf_stock:"):
        order_up_to(np.zeros(2), protection, np.zeros(2), params, shelf_stock=np.zeros(1))
    with pytest.raises(PolicyError, match=r"^protection:"):
        order_up_to(
            np.zeros(2),
            PeriodDemand(mean=np.zeros(3), std=np.zeros(3)),
            np.zeros(2),
            params,
            shelf_stock=shelf,
        )


def test_empty_batch() -> None:
    params = ItemParams.uniform(0, lead_time_days=1.0)
    empty = np.zeros(0)
    decision = order_up_to(empty, PeriodDemand(mean=empty, std=empty), empty, params, shelf_stock=empty)
    assert decision.quantity.shape == (0,)
    assert decision.labels().shape == (0,)


def test_fill_rate_target_uses_demand_per_review() -> None:
    # L = 4, R = 5, d = 10, daily variance 400 / 9 -> std_P = 20 over 9 days.
    # beta = 0.95, Q = d R = 50: G(z) = 0.05 * 50 / 20 = 0.125 -> z = 0.7777 (G(0.77) = 0.1267, G(0.78) = 0.1245;
    # brentq on stockpyl's loss function: 0.777718623786865).
    from policies import ServiceMeasure, standard_normal_loss

    params = ItemParams.uniform(
        2, lead_time_days=4.0, review_days=5.0, service_level=0.95, service_measure=ServiceMeasure.FILL_RATE
    )
    params = ItemParams(
        lead_time_days=params.lead_time_days,
        lead_time_std_days=params.lead_time_std_days,
        review_days=params.review_days,
        case_pack=params.case_pack,
        moq=params.moq,
        max_order_qty=params.max_order_qty,
        shelf_capacity=params.shelf_capacity,
        service_level=params.service_level,
        service_measure=params.service_measure,
        lost_sales=np.array([False, True]),
    )
    decision = decide(params, daily_mean=[10.0, 10.0], daily_variance=[400.0 / 9.0] * 2, position=[0.0, 0.0])
    assert decision.protection_std[0] == pytest.approx(20.0)
    assert standard_normal_loss(decision.z[:1])[0] == pytest.approx(0.125, rel=1e-12)
    assert decision.z[0] == pytest.approx(0.777718623786865, abs=1e-10)
    # lost sales: G(z) = 0.05 / 0.95 * 50 / 20
    assert standard_normal_loss(decision.z[1:])[0] == pytest.approx(0.05 / 0.95 * 2.5, rel=1e-12)
    assert decision.reorder_point[0] == pytest.approx(90.0 + 20.0 * decision.z[0])
    np.testing.assert_allclose(decision.target, [0.95, 0.95])
    assert decision.service_measure.tolist() == [ServiceMeasure.FILL_RATE] * 2
