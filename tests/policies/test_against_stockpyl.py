"""The reorder point against stockpyl's closed-form newsvendor / base-stock level for normal demand.

stockpyl's ``newsvendor_normal(h, p, mu, sigma, lead_time=L)`` returns S* = mu (L+1) + z_alpha sigma sqrt(L+1)
with alpha = p / (h + p) (Snyder & Shen, eq. (4.30)). Our reorder point with review R = 1 day, no lead-time
uncertainty and service level alpha is the same quantity: the base stock protecting L + 1 periods.
"""

from __future__ import annotations

import numpy as np
import pytest

from policies import ItemParams

from .helpers import decide

newsvendor = pytest.importorskip("stockpyl.newsvendor")


@pytest.mark.parametrize(
    ("holding", "stockout", "mu", "sigma", "lead_time"),
    [
        (0.18, 0.70, 50.0, 8.0, 0),  # Snyder & Shen Example 4.3: S* = 56.6040
        (0.05, 0.95, 20.0, 5.0, 3),
        (1.0, 9.0, 100.0, 30.0, 6),
        (0.01, 0.99, 3.0, 1.5, 13),
    ],
)
def test_reorder_point_equals_stockpyl_base_stock(
    holding: float, stockout: float, mu: float, sigma: float, lead_time: int
) -> None:
    expected, _ = newsvendor.newsvendor_normal(holding, stockout, mu, sigma, lead_time=lead_time)
    alpha = stockout / (holding + stockout)
    params = ItemParams.uniform(1, lead_time_days=float(lead_time), review_days=1.0, service_level=alpha)
    decision = decide(params, daily_mean=[mu], daily_variance=[sigma**2], position=[0.0])
    np.testing.assert_allclose(decision.reorder_point, [expected], rtol=1e-10)
    np.testing.assert_allclose(decision.order_up_to, [expected + mu], rtol=1e-10)


def test_example_4_3_value() -> None:
    params = ItemParams.uniform(1, lead_time_days=0.0, review_days=1.0, service_level=0.70 / 0.88)
    decision = decide(params, daily_mean=[50.0], daily_variance=[64.0], position=[0.0])
    assert decision.reorder_point[0] == pytest.approx(56.60395592743389, rel=1e-10)
