from __future__ import annotations

import numpy as np
import pytest

from policies import PolicyError, z_for_service_level


def test_known_z_values() -> None:
    z = z_for_service_level(np.array([0.8, 0.9, 0.95, 0.975, 0.99, 0.999]))
    np.testing.assert_allclose(
        z,
        [
            0.8416212335729143,
            1.2815515655446004,
            1.6448536269514722,
            1.959963984540054,
            2.3263478740408408,
            3.090232306167813,
        ],
        rtol=1e-12,
    )
    assert round(float(z[2]), 4) == 1.6449


@pytest.mark.parametrize("level", [0.0, -0.1, 1.0, 1.2, float("nan")])
def test_rejects_levels_outside_the_open_unit_interval(level: float) -> None:
    with pytest.raises(PolicyError, match=r"^service_level:"):
        z_for_service_level([0.95, level])


def test_levels_below_one_half_put_the_level_below_the_mean() -> None:
    # What a cost-based level gives a dear, slow item (policies.exchange): z < 0, a reorder point under the mean.
    np.testing.assert_allclose(z_for_service_level([0.5, 0.3]), [0.0, -0.5244005127080407], atol=1e-12)


from policies import ItemParams, ServiceMeasure, protection_std, safety_factor, z_for_fill_rate  # noqa: E402
from policies.normal import Z_MAX  # noqa: E402


def test_fill_rate_z_hand_solved() -> None:
    # beta = 0.95, Q = 100, sigma = 20: G(z) = 0.05 * 100 / 20 = 0.25. The G_u(k) table has G(0.34) = 0.2518 and
    # G(0.35) = 0.2481, so z = 0.3449 by interpolation; solved exactly (brentq on stockpyl's loss): 0.3448675.
    z = z_for_fill_rate([0.95], [100.0], [20.0])
    assert z[0] == pytest.approx(0.34486746399902446, abs=1e-10)
    assert round(float(z[0]), 4) == 0.3449


def test_fill_rate_lost_sales_allows_less_shortage_per_cycle() -> None:
    # Lost sales: G(z) = (1 - beta) / beta * Q / sigma = 0.05 / 0.95 * 5 = 0.263158 -> z = 0.3094754.
    z = z_for_fill_rate([0.95, 0.95], [100.0, 100.0], [20.0, 20.0], lost_sales=[False, True])
    assert z[1] == pytest.approx(0.30947542653013266, abs=1e-10)
    assert z[1] < z[0]


def test_fill_rate_edges() -> None:
    # sigma = 0: no uncertainty, z = 0; Q = 0: nothing may go short, z capped; huge Q: negative z.
    z = z_for_fill_rate([0.99, 0.99, 0.5], [10.0, 0.0, 1000.0], [0.0, 5.0, 10.0])
    assert z[0] == 0.0
    assert z[1] == Z_MAX
    assert z[2] < -49.0  # G(z) = 50 -> z ~ -50


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (([1.0], [1.0], [1.0]), "fill_rate"),
        (([0.0], [1.0], [1.0]), "fill_rate"),
        (([0.9], [-1.0], [1.0]), "cycle_demand"),
        (([0.9], [1.0], [np.inf]), "sigma"),
        (([0.9, 0.9], [1.0], [1.0]), "cycle_demand"),
    ],
)
def test_fill_rate_rejects_bad_inputs(args: tuple[list[float], ...], name: str) -> None:
    with pytest.raises(PolicyError, match=rf"^{name}:"):
        z_for_fill_rate(*args)


def test_protection_std_adds_lead_time_term() -> None:
    # sqrt(20 + 10^2 * 1^2) = sqrt(120)
    np.testing.assert_allclose(protection_std([np.sqrt(20.0)], [10.0], [1.0]), [np.sqrt(120.0)])
    with pytest.raises(PolicyError, match=r"^lead_time_std_days:"):
        protection_std([1.0], [1.0], [-1.0])


def test_safety_factor_mixes_measures_per_row() -> None:
    params = ItemParams(
        lead_time_days=np.ones(2),
        lead_time_std_days=np.zeros(2),
        review_days=np.ones(2),
        case_pack=np.ones(2, dtype=np.int64),
        moq=np.ones(2, dtype=np.int64),
        max_order_qty=np.full(2, np.inf),
        shelf_capacity=np.full(2, np.inf),
        service_level=np.array([0.95, 0.95]),
        service_measure=np.array([ServiceMeasure.CYCLE_SERVICE_LEVEL, ServiceMeasure.FILL_RATE]),
    )
    z = safety_factor(params, np.array([100.0, 100.0]), np.array([20.0, 20.0]))
    np.testing.assert_allclose(z, [1.6448536269514722, 0.34486746399902446], atol=1e-10)
