from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from forecasting import PeriodDemand, PeriodDemandError


def test_normal_quantiles_are_mean_plus_z_sigma() -> None:
    period = PeriodDemand(mean=np.array([100.0, 10.0]), std=np.array([20.0, 0.0]))
    q = period.quantile([0.5, 0.95])
    assert q.shape == (2, 2)
    # 100 + 1.6448536 * 20 = 132.897073
    np.testing.assert_allclose(q[0], [100.0, 132.89707253902944], rtol=1e-12)
    np.testing.assert_allclose(q[1], [10.0, 10.0])


def test_normal_quantiles_are_censored_at_zero() -> None:
    period = PeriodDemand(mean=np.array([1.0]), std=np.array([10.0]))
    q = period.quantile([0.05, 0.5, 0.95])
    # 1 - 16.4485 < 0 -> 0; the median stays 1; the upper quantile is untouched.
    np.testing.assert_allclose(q[0], [0.0, 1.0, 1.0 + 16.448536269514722], rtol=1e-12)


def test_empirical_quantiles_from_samples() -> None:
    samples = np.arange(1.0, 101.0)[None, :]  # 1..100
    period = PeriodDemand(mean=np.array([50.5]), std=np.array([28.866]), samples=samples)
    q = period.quantile([0.5, 0.9])
    np.testing.assert_allclose(q, [[50.5, 90.1]])


@given(
    mean=st.floats(-50, 500),
    std=st.floats(0, 200),
    levels=st.lists(st.floats(0.001, 0.999), min_size=2, max_size=8),
)
def test_quantiles_monotone_in_level(mean: float, std: float, levels: list[float]) -> None:
    ordered = np.sort(np.asarray(levels))
    normal = PeriodDemand(mean=np.array([mean]), std=np.array([std])).quantile(ordered)
    assert np.all(np.diff(normal[0]) >= 0)
    assert np.all(normal >= 0)
    rng = np.random.default_rng(0)
    samples = rng.normal(mean, std + 1e-9, size=(1, 50))
    empirical = PeriodDemand(mean=np.array([mean]), std=np.array([std]), samples=samples).quantile(ordered)
    assert np.all(np.diff(empirical[0]) >= -1e-9)


@pytest.mark.parametrize("levels", [[0.0], [1.0], [0.5, 1.2], [], [[0.5]]])
def test_rejects_bad_levels(levels: list[float]) -> None:
    period = PeriodDemand(mean=np.array([1.0]), std=np.array([1.0]))
    with pytest.raises(PeriodDemandError, match=r"^levels:"):
        period.quantile(levels)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"mean": np.zeros((1, 1)), "std": np.zeros((1, 1))}, "mean"),
        ({"mean": np.array([np.nan]), "std": np.zeros(1)}, "mean"),
        ({"mean": np.zeros(1), "std": np.zeros(2)}, "std"),
        ({"mean": np.zeros(1), "std": -np.ones(1)}, "std"),
        ({"mean": np.zeros(1), "std": np.zeros(1), "samples": np.zeros((2, 3))}, "samples"),
        ({"mean": np.zeros(1), "std": np.zeros(1), "samples": np.full((1, 3), np.inf)}, "samples"),
    ],
)
def test_rejects_bad_fields(kwargs: dict[str, np.ndarray], name: str) -> None:
    with pytest.raises(PeriodDemandError, match=rf"^{name}:"):
        PeriodDemand(**kwargs)
