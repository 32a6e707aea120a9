from __future__ import annotations

import numpy as np
import pytest

from policies import (
    PolicyError,
    inverse_standard_normal_loss,
    standard_normal_cdf,
    standard_normal_loss,
    standard_normal_pdf,
    standard_normal_sf,
)
from policies.normal import Z_MAX

special = pytest.importorskip("scipy.special")


def test_cdf_and_sf_match_scipy_to_full_precision() -> None:
    z = np.linspace(-30.0, 30.0, 60001)
    np.testing.assert_allclose(standard_normal_cdf(z), special.ndtr(z), rtol=1e-13, atol=0)
    np.testing.assert_allclose(standard_normal_sf(z), special.ndtr(-z), rtol=1e-13, atol=0)
    np.testing.assert_allclose(standard_normal_pdf(z), np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi), rtol=1e-15)
    assert standard_normal_cdf(np.array([np.inf, -np.inf])).tolist() == [1.0, 0.0]


def test_loss_function_table_values() -> None:
    # G(0) = 1/sqrt(2 pi); the G_u(k) table: G(1) = 0.0833, G(2) = 0.008491, G(-1) = 1.0833.
    g = standard_normal_loss(np.array([0.0, 1.0, 2.0, -1.0]))
    np.testing.assert_allclose(g, [0.3989422804014327, 0.08331547058768629, 0.008490702616829, 1.0833154705876864])
    stockpyl_loss = pytest.importorskip("stockpyl.loss_functions")
    for z in (-2.5, -0.3, 0.0, 0.7, 1.96, 3.2):
        expected, _ = stockpyl_loss.standard_normal_loss(z)
        assert standard_normal_loss(np.array([z]))[0] == pytest.approx(expected, rel=1e-12)


def test_inverse_loss_round_trips() -> None:
    z = np.linspace(-40.0, 5.5, 1000)
    np.testing.assert_allclose(inverse_standard_normal_loss(standard_normal_loss(z)), z, atol=1e-9)
    assert inverse_standard_normal_loss(np.array([0.0]))[0] == Z_MAX
    with pytest.raises(PolicyError, match=r"^target:"):
        inverse_standard_normal_loss(np.array([0.1, -0.1]))
