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


@pytest.mark.parametrize("level", [0.5, 0.3, 1.0, 1.2, float("nan")])
def test_rejects_levels_outside_half_open_interval(level: float) -> None:
    with pytest.raises(PolicyError, match=r"^service_level:"):
        z_for_service_level([0.95, level])
