"""statsforecast's models behind the seam: alignment with the history's rows, and their own intervals."""

from __future__ import annotations

import numpy as np
import pytest

from forecasting import DemandHistory
from forecasting.quantiles import daily_quantiles, quantile_rule

statsforecast = pytest.importorskip("statsforecast", reason="statsforecast is the optional .[bench] extra")

from forecasting.statsforecast_models import statsforecast_models  # noqa: E402


def _history() -> DemandHistory:
    rng = np.random.default_rng(2)
    week = np.array([1, 1, 1, 2, 4, 6, 3], float)
    y = rng.poisson(np.array([1.0, 8.0, 3.0])[:, None] * week[(np.arange(84) + 3) % 7][None, :]).astype(np.float32)
    observed = np.ones(y.shape, bool)
    observed[2, :40] = False  # a series that starts later
    ids = np.array(["a", "b", "c"], dtype=object)
    return DemandHistory(ids, np.where(observed, y, 0), 19_083, observed)


def test_rows_stay_aligned_and_intervals_are_the_models_own() -> None:
    history = _history()
    models = statsforecast_models()
    assert set(models) == {"statsforecast_autoets", "statsforecast_seasonalnaive", "statsforecast_crostonoptimized"}
    snaive = models["statsforecast_seasonalnaive"].predict(history, 14)
    y = history.demand.astype(float)
    assert np.allclose(snaive.mean[:, :7], y[:, -7:]) and np.allclose(snaive.mean[:, 7:], y[:, -7:])
    ets = models["statsforecast_autoets"].predict(history, 14)
    assert ets.mean.shape == (3, 14) and ets.mean[1].mean() > 3 * ets.mean[0].mean()
    assert quantile_rule(models["statsforecast_autoets"]) == "normal"
    q = daily_quantiles(ets, (0.025, 0.5, 0.975), "normal")
    assert np.allclose(q[..., 1], ets.mean) and np.all(q[..., 2] >= q[..., 1]) and np.all(q >= 0)
    croston = models["statsforecast_crostonoptimized"]
    assert quantile_rule(croston) == "count"
    assert np.allclose(croston.predict(history, 14).variance, croston.predict(history, 14).mean)
