"""statsforecast's AutoETS, SeasonalNaive and CrostonOptimized behind the ``Forecaster`` seam (``.[bench]``).

Why here: the issue's yardstick is AutoETS with its own prediction intervals, so these run in the same backtest
as every other model. statsforecast is an optional extra (``pip install 'restock[bench]'``); without it
:func:`statsforecast_models` raises an error that says how to install it.

Each series is passed from its first observed day (statsforecast has no notion of censored days: censored days
count as zero sales). A series a model cannot fit (AutoETS refuses "tiny datasets" of a few days) gets
statsforecast's own ``fallback_model``, the naive forecast with its intervals. AutoETS and SeasonalNaive give
normal prediction intervals; the daily standard deviation is read back from the 95 % interval
(``(hi - mean) / z_0.975``), so ``variance`` is theirs and their quantiles (``quantile_rule = "normal"``:
``max(0, mean + z_u sd)``) are exactly their intervals' bounds. CrostonOptimized has no intervals: its variance
is set to its mean (Poisson) and it keeps the count quantile rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from forecasting.errors import ForecastError
from forecasting.forecast import DemandForecast
from forecasting.history import DemandHistory

Z_975 = 1.959963984540054
MODELS = ("AutoETS", "SeasonalNaive", "CrostonOptimized")


class StatsForecastMissing(ForecastError):
    """The optional statsforecast package is not installed."""


@dataclass(frozen=True)
class StatsForecastModel:
    """One statsforecast model, fitted and forecast per series in :meth:`predict` (n_jobs processes)."""

    model: str
    season: int = 7
    n_jobs: int = 1

    @property
    def name(self) -> str:
        return f"statsforecast_{self.model.lower()}"

    @property
    def version(self) -> str:
        from importlib.metadata import version

        return f"{self.name}-{version('statsforecast')}(season={self.season})"

    @property
    def quantile_rule(self) -> str:
        return "count" if self.model == "CrostonOptimized" else "normal"

    def predict(self, history: DemandHistory, horizon: int) -> DemandForecast:
        from statsforecast import StatsForecast

        y = np.where(history.observed, history.demand.astype(np.float64), 0.0)
        started = history.observed.any(axis=1)
        first = np.where(started, np.argmax(history.observed, axis=1), history.days - 1)
        lengths = history.days - first
        rows = np.repeat(np.arange(history.n), lengths)
        columns = np.concatenate([np.arange(f, history.days) for f in first])
        frame = pd.DataFrame({"unique_id": rows, "ds": columns, "y": y[rows, columns]})
        from statsforecast.models import Naive

        engine = StatsForecast(models=[_build(self.model, self.season)], freq=1, n_jobs=self.n_jobs,
                               fallback_model=Naive())  # fmt: skip
        intervals = self.quantile_rule == "normal"
        out = engine.forecast(df=frame, h=horizon, level=[95]) if intervals else engine.forecast(df=frame, h=horizon)
        out = out.sort_values(["unique_id", "ds"])
        mean = np.maximum(out[self.model].to_numpy(np.float64).reshape(history.n, horizon), 0.0)
        if intervals:
            upper = out[f"{self.model}-hi-95"].to_numpy(np.float64).reshape(history.n, horizon)
            raw = out[self.model].to_numpy(np.float64).reshape(history.n, horizon)
            variance = np.square(np.maximum(upper - raw, 0.0) / Z_975)
        else:
            variance = mean.copy()
        mean, variance = np.nan_to_num(mean), np.nan_to_num(variance)
        return DemandForecast(mean, variance, np.full(history.n, self.name).astype(np.str_), self.version)


def _build(model: str, season: int) -> Any:
    from statsforecast import models

    if model == "AutoETS":
        return models.AutoETS(season_length=season)
    if model == "SeasonalNaive":
        return models.SeasonalNaive(season_length=season)
    return models.CrostonOptimized()


def statsforecast_models(n_jobs: int = 1) -> dict[str, StatsForecastModel]:
    """The three yardstick models by name; raises :class:`StatsForecastMissing` without the extra."""
    try:
        import statsforecast  # noqa: F401
    except ImportError as exc:
        raise StatsForecastMissing(
            "statsforecast is not installed; pip install 'restock[bench]' (or pass --no-statsforecast)"
        ) from exc
    built = [StatsForecastModel(m, n_jobs=n_jobs) for m in MODELS]
    return {m.name: m for m in built}
