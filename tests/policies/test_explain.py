from __future__ import annotations

import pytest

from policies import ItemParams, PolicyError, explain

from .helpers import decide


def test_sentences_carry_the_numbers() -> None:
    # L = 2, R = 7, d = 5, var 0: s = 45, S = 80. Rows: no order; order 48; MOQ 50 + pack 12 -> 60;
    # shelf room 20 with pack 12 -> 12.
    params = ItemParams.uniform(4, lead_time_days=2.0, review_days=7.0)
    plain = decide(params, daily_mean=[5.0] * 4, daily_variance=[0.0] * 4, position=[50.0, 32.0, 32.0, 32.0])
    text = explain(plain, params, 0)
    assert text.startswith("no order (no_order_above_reorder_point): inventory position 50")
    assert "reorder point 45.0" in text
    assert "95.0% cycle service level" in text
    text = explain(plain, params, 1)
    assert text.startswith("order 48 units (order_up_to): inventory position 32 is below the reorder point 45.0")
    assert text.endswith("order-up-to level 80.0 needs 48.")

    packed = ItemParams.uniform(1, lead_time_days=2.0, review_days=7.0, moq=50, case_pack=12)
    decision = decide(packed, daily_mean=[5.0], daily_variance=[0.0], position=[32.0])
    text = explain(decision, packed, 0)
    assert text.startswith("order 60 units (rounded_to_case_pack)")
    assert "needs 48, raised to the minimum order quantity 50, rounded up to 60 (case pack 12)." in text

    shelf = ItemParams.uniform(1, lead_time_days=2.0, review_days=7.0, case_pack=12, shelf_capacity=100.0)
    decision = decide(shelf, daily_mean=[5.0], daily_variance=[0.0], position=[32.0], shelf=[80.0])
    text = explain(decision, shelf, 0)
    assert text.startswith("order 12 units (capped_by_shelf)")
    assert "capped at 12 by the shelf (capacity 100, room 20)" in text

    full = ItemParams.uniform(1, lead_time_days=2.0, review_days=7.0, moq=30, shelf_capacity=100.0)
    decision = decide(full, daily_mean=[5.0], daily_variance=[0.0], position=[32.0], shelf=[90.0])
    text = explain(decision, full, 0)
    assert text.startswith("no order (no_order_after_caps)")
    assert "which is below the minimum order quantity 30." in text


def test_rejects_bad_row() -> None:
    params = ItemParams.uniform(1, lead_time_days=2.0)
    decision = decide(params, daily_mean=[5.0], daily_variance=[0.0], position=[0.0])
    with pytest.raises(PolicyError, match=r"^i:"):
        explain(decision, params, 1)


def test_sentences_of_the_other_policies() -> None:
    import numpy as np

    from forecasting import PeriodDemand
    from policies import ServiceMeasure, newsvendor, s_q_policy

    # (s, Q), deterministic: s = 50, Q = 20, position 10 -> 2 batches.
    params = ItemParams.uniform(1, lead_time_days=5.0)
    lead = PeriodDemand(mean=np.array([50.0]), std=np.array([0.0]))
    decision = s_q_policy([10.0], lead, [10.0], params, [20.0], shelf_stock=[0.0])
    text = explain(decision, params, 0)
    assert text.startswith(
        "order 40 units (order_multiple_of_q): inventory position 10 is below the reorder point 50.0"
    )
    assert "2 batches of Q 20.0 lift it to the reorder point or above, needs 40." in text

    # Fill rate: beta 0.95, Q 100, sigma 20 -> shortage allowance 5.00 per cycle.
    fill = ItemParams.uniform(1, lead_time_days=5.0, service_measure=ServiceMeasure.FILL_RATE)
    decision = s_q_policy(
        [500.0], PeriodDemand(mean=np.array([100.0]), std=np.array([20.0])), [0.0], fill, [100.0], shelf_stock=[0.0]
    )
    text = explain(decision, fill, 0)
    assert text.startswith("no order (no_order_above_reorder_point): inventory position 500 is at or above")
    assert "z 0.34 x sigma 20.0 for a 95.0% fill rate: expected shortage per cycle sigma x G(z) = 5.00" in text
    assert "= (1 - beta) x the batch Q 100.0" in text

    # Newsvendor at CR 0.7 / 0.88 over 1 day of N(50, 8^2): S* = 56.6.
    nv_params = ItemParams.uniform(1, lead_time_days=0.0, review_days=1.0)
    decision = newsvendor(
        [20.0],
        PeriodDemand(mean=np.array([50.0]), std=np.array([8.0])),
        [50.0],
        [0.7 / 0.88],
        nv_params,
        shelf_stock=[0.0],
    )
    text = explain(decision, nv_params, 0)
    assert text == (
        "order 37 units (order_up_to): inventory position 20 is below the newsvendor level 56.6 (the 79.5%"
        " quantile of demand over 1 days at the critical ratio 0.795; mean 50.0, sigma 8.0); reaching it needs 37."
    )
