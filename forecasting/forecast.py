"""The output seam of every forecaster: daily demand distribution over a horizon, per series.

Why moments plus optional paths: a baseline gives mean and variance per day; a sample-path model (the LSTM,
later) also gives joint paths, which keep the correlation between days that a sum of variances loses. Policies
never read the daily arrays directly: they ask :meth:`DemandForecast.over_period` for the period total.
Rows align with the rows of the :class:`~forecasting.history.DemandHistory` the forecast was made from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from forecasting.errors import ForecastError
from forecasting.period import PeriodDemand

__all__ = ["DemandForecast", "DemandForecastError"]


class DemandForecastError(ForecastError):
    """A :class:`DemandForecast` field or an ``over_period`` argument is invalid."""


def _period_weights(days: npt.NDArray[np.float64], horizon: int) -> npt.NDArray[np.float64]:
    """``[n, H]`` share of each forecast day inside the first ``days`` days, the last day absorbing the rest.

    Day ``h`` (0-based) covers ``[h, h+1)``: its weight is ``clip(days - h, 0, 1)``, so a fractional period
    prorates its last partial day. Days beyond the horizon repeat the last day's moments, so the last column's
    weight is ``max(days - (H-1), 0)`` and may exceed 1.
    """
    offsets = np.arange(horizon, dtype=np.float64)[None, :]
    weights = np.clip(days[:, None] - offsets, 0.0, 1.0)
    weights[:, -1] = np.maximum(days - (horizon - 1), 0.0)
    return weights


def _extension_beyond_horizon(last: npt.NDArray[np.float64], extra: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``[n, S]`` sampled demand of ``extra`` days past the horizon, drawn from the last day's marginal.

    Extra day ``k`` (1-based) of path ``s`` takes the last-day value of path ``(s + k) mod S``: a fixed
    cyclic shift, so the extension is deterministic and, for ``extra < S``, its days are distinct, hence
    independent draws from the last day's distribution (the same independence the moment path assumes).
    A fractional final day is prorated. When ``extra >= S`` whole cycles repeat every path and add no spread.
    """
    n, s = last.shape
    whole = np.floor(extra).astype(np.int64)  # [n]
    fraction = extra - whole
    cycles, remainder = np.divmod(whole, s)
    doubled = np.concatenate([last, last], axis=1)  # [n, 2S]
    cumulative = np.concatenate([np.zeros((n, 1)), np.cumsum(doubled, axis=1)], axis=1)  # [n, 2S+1]
    start = (np.arange(s)[None, :] + 1) % s  # first extra day's source path, [1, S]
    stop = start + remainder[:, None]  # [n, S], <= 2S - 1
    rows = np.arange(n)[:, None]
    window = cumulative[rows, stop] - cumulative[rows, start]
    full = cycles[:, None] * last.sum(axis=1, keepdims=True)
    partial_source = (np.arange(s)[None, :] + whole[:, None] + 1) % s
    partial = fraction[:, None] * last[rows, partial_source]
    result: npt.NDArray[np.float64] = full + window + partial
    return result


@dataclass(frozen=True, slots=True)
class DemandForecast:
    """Forecast distribution of daily demand for ``n`` series over ``H`` future days.

    Attributes:
        mean: ``[n, H]`` expected demand of each future day (day 0 = the day after the history's end_day).
        variance: ``[n, H]`` variance of each day's demand (>= 0).
        method: ``[n]`` name of the forecaster (or fallback) that produced each row, e.g. "moving_average".
        model_version: version of the model that produced the forecast, for the decision's audit trail.
        samples: optional ``[n, S, H]`` joint sample paths; when present, period totals are empirical.
    """

    mean: npt.NDArray[np.float64]
    variance: npt.NDArray[np.float64]
    method: npt.NDArray[np.str_] | npt.NDArray[np.object_]
    model_version: str
    samples: npt.NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        mean = np.asarray(self.mean, dtype=np.float64)
        variance = np.asarray(self.variance, dtype=np.float64)
        if mean.ndim != 2 or mean.shape[1] < 1:
            raise DemandForecastError(f"mean: expected shape [n, H>=1], got {mean.shape}")
        if variance.shape != mean.shape:
            raise DemandForecastError(f"variance: expected shape {mean.shape} like mean, got {variance.shape}")
        if not np.all(np.isfinite(mean)):
            raise DemandForecastError("mean: must be finite")
        if not np.all(np.isfinite(variance)) or np.any(variance < 0):
            raise DemandForecastError("variance: must be finite and >= 0")
        method = np.asarray(self.method)
        if method.shape != (mean.shape[0],) or method.dtype.kind not in "UO":
            raise DemandForecastError(f"method: expected str array of shape [{mean.shape[0]}], got {method.shape}")
        if not isinstance(self.model_version, str) or not self.model_version:
            raise DemandForecastError("model_version: expected a non-empty str")
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "variance", variance)
        object.__setattr__(self, "method", method)
        if self.samples is not None:
            samples = np.asarray(self.samples, dtype=np.float64)
            if samples.ndim != 3 or samples.shape[0] != mean.shape[0] or samples.shape[2] != mean.shape[1]:
                raise DemandForecastError(
                    f"samples: expected shape [n={mean.shape[0]}, S, H={mean.shape[1]}], got {samples.shape}"
                )
            if samples.shape[1] < 1 or not np.all(np.isfinite(samples)):
                raise DemandForecastError("samples: need S >= 1 finite paths")
            object.__setattr__(self, "samples", samples)

    @property
    def n(self) -> int:
        """Number of series."""
        return int(self.mean.shape[0])

    @property
    def horizon(self) -> int:
        """Number of forecast days, ``H``."""
        return int(self.mean.shape[1])

    def over_period(self, days: npt.ArrayLike) -> PeriodDemand:
        """Distribution of demand summed over the next ``days[i]`` days for each series ``i``.

        ``days`` is ``[n]`` (or a scalar, broadcast), finite and >= 0; fractions prorate the last partial
        day and days past the horizon repeat the last forecast day.

        Without samples, days are independent and demand within a day accrues at a constant rate (a process
        with independent increments), so both moments scale linearly with the covered time:
        ``mean_P = sum_h w_h * mu_h`` and ``var_P = sum_h w_h * sigma_h^2`` with the weights ``w_h`` of
        :func:`_period_weights`. Positive autocorrelation between days would make the true variance larger.

        With samples, each path is summed with the same weights (a partial day scales the path's value) and
        the extension past the horizon draws from the last day (see :func:`_extension_beyond_horizon`); mean
        and std are those of the summed paths (population std).
        """
        raw = np.asarray(days, dtype=np.float64)
        if raw.shape not in ((), (self.n,)):
            raise DemandForecastError(f"days: expected a scalar or shape [{self.n}], got {raw.shape}")
        period = np.broadcast_to(raw, (self.n,))
        if not np.all(np.isfinite(period)) or np.any(period < 0):
            raise DemandForecastError("days: must be finite and >= 0")
        if self.samples is None:
            weights = _period_weights(period, self.horizon)
            mean = np.einsum("nh,nh->n", weights, self.mean)
            variance = np.einsum("nh,nh->n", weights, self.variance)
            return PeriodDemand(mean=mean, std=np.sqrt(variance))
        offsets = np.arange(self.horizon, dtype=np.float64)[None, :]
        inside = np.clip(period[:, None] - offsets, 0.0, 1.0)
        totals = np.einsum("nsh,nh->ns", self.samples, inside)
        extra = np.maximum(period - self.horizon, 0.0)
        if np.any(extra > 0):
            totals = totals + _extension_beyond_horizon(self.samples[:, :, -1], extra)
        return PeriodDemand(mean=totals.mean(axis=1), std=totals.std(axis=1), samples=totals)
