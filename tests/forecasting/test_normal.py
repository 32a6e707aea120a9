from __future__ import annotations

import statistics

import numpy as np
import pytest

from forecasting import ForecastError, standard_normal_ppf


@pytest.mark.parametrize(
    ("p", "z"),
    [
        (0.5, 0.0),
        (0.8, 0.8416212335729143),
        (0.95, 1.6448536269514722),
        (0.975, 1.959963984540054),
        (0.99, 2.3263478740408408),
        (0.05, -1.6448536269514722),
    ],
)
def test_known_values(p: float, z: float) -> None:
    assert standard_normal_ppf(p) == pytest.approx(z, abs=1e-12)


def test_matches_stdlib_in_all_three_regions() -> None:
    # central |p - 0.5| <= 0.425, intermediate tail r <= 5, far tail r > 5 (p < exp(-25)).
    p = np.concatenate([np.linspace(1e-6, 1 - 1e-6, 2001), [1e-300, 1e-20, 1e-12, 1 - 1e-15, 0.075, 0.925]])
    expected = np.array([statistics.NormalDist().inv_cdf(float(x)) for x in p])
    np.testing.assert_allclose(standard_normal_ppf(p), expected, rtol=1e-14, atol=1e-14)


def test_vectorised_shape_and_monotone() -> None:
    p = np.linspace(0.01, 0.99, 99).reshape(9, 11)
    z = standard_normal_ppf(p)
    assert z.shape == (9, 11)
    assert np.all(np.diff(z.ravel()) > 0)


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, 1.5, float("nan")])
def test_rejects_outside_open_interval(bad: float) -> None:
    with pytest.raises(ForecastError, match="p:"):
        standard_normal_ppf([0.5, bad])
