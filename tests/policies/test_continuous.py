"""(s, Q) and (s, S) levels against stockpyl's EOQ + safety-stock approximation (Snyder & Shen, Example 5.5)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from forecasting import PeriodDemand
from policies import (
    ItemParams,
    PolicyError,
    PolicyKind,
    Rule,
    ServiceMeasure,
    economic_order_quantity,
    s_q_policy,
    s_s_policy,
)

rq = pytest.importorskip("stockpyl.rq")
nv = pytest.importorskip("stockpyl.newsvendor")


def lead(mean: float, std: float, n: int = 1) -> PeriodDemand:
    return PeriodDemand(mean=np.full(n, mean), std=np.full(n, std))


def test_s_q_matches_stockpyl_eoq_plus_safety_stock() -> None:
    # h = 0.225, p = 7.5, K = 8, lambda = 1300/yr, tau = 150, L = 1/12 yr -> (r, Q) = (190.337, 304.047).
    h, p, k, rate, tau, lead_time = 0.225, 7.5, 8.0, 1300.0, 150.0, 1.0 / 12.0
    r_expected, q_expected = rq.r_q_eoqss_approximation(h, p, k, rate, tau, lead_time)
    q = economic_order_quantity([k], [h], [rate])
    params = ItemParams.uniform(1, lead_time_days=0.0, review_days=0.0, service_level=p / (p + h))
    demand = lead(rate * lead_time, tau * math.sqrt(lead_time))
    decision = s_q_policy([100.0], demand, [0.0], params, q, shelf_stock=[0.0])
    assert decision.reorder_point[0] == pytest.approx(r_expected, rel=1e-10)
    assert decision.batch_quantity[0] == pytest.approx(q_expected, rel=1e-12)
    # position 100 < s = 190.34: one batch of 304.05 reaches 404.05 >= s -> 305 whole units.
    assert decision.quantity.tolist() == [305]
    assert decision.rule_at(0) is Rule.ORDER_MULTIPLE_OF_Q
    assert decision.policy_at(0) is PolicyKind.REORDER_POINT_QUANTITY


def test_s_s_is_eoq_plus_safety_stock_with_s_equal_s_plus_q() -> None:
    # (s, S) = (newsvendor base stock over L, s + EOQ), from stockpyl's pieces.
    s_expected, _ = nv.newsvendor_normal(0.18, 0.70, 50.0 * 3, 8.0 * math.sqrt(3))
    q = economic_order_quantity([2.5], [0.18], [50.0])
    params = ItemParams.uniform(1, lead_time_days=3.0, service_level=0.70 / 0.88)
    decision = s_s_policy([100.0], lead(150.0, 8.0 * math.sqrt(3)), [50.0], params, q, shelf_stock=[0.0])
    assert decision.reorder_point[0] == pytest.approx(s_expected, rel=1e-10)
    assert decision.order_up_to[0] == pytest.approx(s_expected + q[0], rel=1e-10)
    assert decision.quantity[0] == math.ceil(s_expected + q[0] - 100.0)
    assert decision.policy_at(0) is PolicyKind.REORDER_POINT_ORDER_UP_TO


def test_s_q_orders_whole_batches_and_no_order_at_s() -> None:
    # Deterministic: s = 50, Q = 20. Position 50: none; 49: 1 batch; 10: 2 batches (50); 9.9: 3 batches (60).
    params = ItemParams.uniform(4, lead_time_days=5.0)
    decision = s_q_policy(
        [50.0, 49.0, 10.0, 9.9], lead(50.0, 0.0, 4), np.full(4, 10.0), params, np.full(4, 20.0), shelf_stock=np.zeros(4)
    )
    assert decision.quantity.tolist() == [0, 20, 40, 60]
    assert decision.rule_at(0) is Rule.NO_ORDER_ABOVE_REORDER_POINT


def test_fill_rate_and_lead_time_uncertainty() -> None:
    # std_L = 12, d = 10, sigma_LT = 1.6: sigma_L = sqrt(144 + 256) = 20. beta = 0.95, Q = 100 -> z = 0.344867;
    # s = 100 + 6.897 = 106.897.
    params = ItemParams.uniform(
        1, lead_time_days=10.0, lead_time_std_days=1.6, service_level=0.95, service_measure=ServiceMeasure.FILL_RATE
    )
    decision = s_q_policy([0.0], lead(100.0, 12.0), [10.0], params, [100.0], shelf_stock=[0.0])
    assert decision.protection_std[0] == pytest.approx(20.0)
    assert decision.z[0] == pytest.approx(0.34486746399902446, abs=1e-9)
    assert decision.reorder_point[0] == pytest.approx(100.0 + 20.0 * 0.34486746399902446, abs=1e-7)
    assert decision.quantity.tolist() == [200]


def test_constraints_apply_to_batches() -> None:
    # Q = 20 with case pack 12 -> 24 (rounded_to_case_pack); max order 30 caps 2 batches (40) at 24 with pack 12.
    params = ItemParams.uniform(2, lead_time_days=5.0, case_pack=12, max_order_qty=30.0)
    decision = s_q_policy(
        [49.0, 10.0], lead(50.0, 0.0, 2), np.full(2, 10.0), params, np.full(2, 20.0), shelf_stock=np.zeros(2)
    )
    assert decision.quantity.tolist() == [24, 24]
    assert [decision.rule_at(i) for i in range(2)] == [Rule.ROUNDED_TO_CASE_PACK, Rule.CAPPED_BY_MAX_ORDER]


def test_rejects_bad_batch() -> None:
    params = ItemParams.uniform(1, lead_time_days=5.0)
    with pytest.raises(PolicyError, match=r"^order_quantity:"):
        s_q_policy([0.0], lead(50.0, 1.0), [10.0], params, [0.0], shelf_stock=[0.0])
    with pytest.raises(PolicyError, match=r"^lead_demand:"):
        s_s_policy([0.0], lead(50.0, 1.0, 2), [10.0], params, [5.0], shelf_stock=[0.0])
