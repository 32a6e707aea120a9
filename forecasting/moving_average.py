"""Baseline forecaster: the moving average of the last observed days, flat over the horizon.

Why: a robust, explainable reference that the worker can run from day one and that later models must beat in
the backtest. Censored (stockout) and pre-launch days are skipped, not read as zero demand, so a stockout does
not drag the forecast down and cause the next one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from forecasting.errors import ForecastError
from forecasting.forecast import DemandForecast
from forecasting.history import DemandHistory

__all__ = ["FALLBACK_METHOD", "METHOD", "MovingAverageError", "MovingAverageForecaster"]

METHOD = "moving_average"
FALLBACK_METHOD = "short_history_fallback"
_CODE_VERSION = 1


class MovingAverageError(ForecastError):
    """A :class:`MovingAverageForecaster` parameter or ``predict`` argument is invalid."""


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise MovingAverageError(f"{name}: expected an int >= {minimum}, got {value!r}")
    return int(value)


@dataclass(frozen=True, slots=True)
class MovingAverageForecaster:
    """Mean and variance of daily demand over each series' last ``window`` observed days.

    For series ``i`` let ``x_1..x_m`` be its last ``m = min(window, observed days)`` observed values (days
    with ``observed`` False are skipped, so the window may reach further back than ``window`` calendar days).
    Then ``mu_i = sum(x) / m`` and ``sigma_i^2 = sum((x - mu_i)^2) / (m - 1)`` (unbiased sample variance),
    the same for every horizon day. Days are treated as independent, so ``DemandForecast.over_period`` adds
    variances; autocorrelated demand would have a larger period variance than this reports.

    Series with ``m < min_history`` get ``method == "short_history_fallback"``: the same mean over what they
    have (0 when nothing is observed) and a Poisson-style floor ``sigma^2 = max(sample variance, mu)`` (the
    sample variance counts as 0 when ``m < 2``), because a few days understate the spread of new items.

    Args:
        window: observed days averaged, >= 2.
        min_history: observed days needed for the plain moving average, 2 <= min_history <= window.
    """

    window: int = 28
    min_history: int = 14

    def __post_init__(self) -> None:
        window = _check_int("window", self.window, 2)
        min_history = _check_int("min_history", self.min_history, 2)
        if min_history > window:
            raise MovingAverageError(f"min_history: must be <= window ({window}), got {min_history}")

    @property
    def name(self) -> str:
        """Model family name."""
        return METHOD

    @property
    def version(self) -> str:
        """Code version and hyper-parameters, e.g. ``moving_average-1(window=28,min_history=14)``."""
        return f"{METHOD}-{_CODE_VERSION}(window={self.window},min_history={self.min_history})"

    def predict(self, history: DemandHistory, horizon: int) -> DemandForecast:
        """Flat forecast over ``horizon`` (>= 1) days for every series of ``history``, vectorised."""
        horizon = _check_int("horizon", horizon, 1)
        observed = history.observed
        # Observed days at or after each column; a day is in the window when it is among the last `window`.
        observed_from_end = np.cumsum(observed[:, ::-1], axis=1, dtype=np.int64)[:, ::-1]
        selected = observed & (observed_from_end <= self.window)
        count = selected.sum(axis=1, dtype=np.int64)
        values = np.where(selected, history.demand.astype(np.float64), 0.0)
        mean = values.sum(axis=1) / np.maximum(count, 1)
        squared = np.where(selected, (values - mean[:, None]) ** 2, 0.0).sum(axis=1)
        variance = np.where(count >= 2, squared / np.maximum(count - 1, 1), 0.0)

        short = count < self.min_history
        variance = np.where(short, np.maximum(variance, mean), variance)
        method = np.where(short, FALLBACK_METHOD, METHOD).astype(np.str_)

        flat_mean: npt.NDArray[np.float64] = np.repeat(mean[:, None], horizon, axis=1)
        flat_variance: npt.NDArray[np.float64] = np.repeat(variance[:, None], horizon, axis=1)
        return DemandForecast(mean=flat_mean, variance=flat_variance, method=method, model_version=self.version)
