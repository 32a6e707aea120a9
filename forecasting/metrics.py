"""Forecast accuracy as the M5 competition defined it, over batches of series: pure numpy.

Symbols, for series ``i`` with training history ``y_1..y_n`` and horizon ``h``:
- scale for squared errors ``S2_i = mean_{t=2..n} (y_t - y_{t-1})^2`` and for absolute errors
  ``S1_i = mean_{t=2..n} |y_t - y_{t-1}|``, both counted from the series' first non-zero sale (M5 guide,
  section 4: leading zeros before a product was launched are not part of its history);
- ``RMSSE_i = sqrt(mean_h (y - yhat)^2 / S2_i)`` and ``MASE_i = mean_h |y - yhat| / S1_i``;
- ``SPL_i(u) = mean_h [u (y - q_u) 1{y >= q_u} + (1 - u)(q_u - y) 1{y < q_u}] / S1_i`` (scaled pinball loss);
- weights ``w_i`` = each series' share of revenue (units x price) over the last 28 training days, so
  ``WRMSSE = sum_i w_i RMSSE_i`` and ``WSPL = sum_i w_i mean_u SPL_i(u)``.

Series whose scale cannot be computed (no sale in training, or no change after the first sale) get weight 0
and ``nan`` scores; :class:`Scales` reports how many. Arrays are ``[n, T]`` (history) and ``[n, h]``
(actuals, forecasts); quantiles are ``[n, h, Q]`` along ``levels``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from forecasting.errors import ForecastError

Array = npt.NDArray[np.float64]

M5_LEVELS: tuple[float, ...] = (0.005, 0.025, 0.165, 0.25, 0.5, 0.75, 0.835, 0.975, 0.995)


class MetricError(ForecastError):
    """Metric inputs have inconsistent shapes or invalid values."""


@dataclass(frozen=True)
class Scales:
    """Per-series denominators of the scaled metrics; ``usable`` marks series that can be scored."""

    squared: Array  # [n] S2
    absolute: Array  # [n] S1
    usable: npt.NDArray[np.bool_]

    @property
    def unusable(self) -> int:
        return int((~self.usable).sum())


def naive_scales(history: npt.ArrayLike) -> Scales:
    """One-step naive errors from each series' first non-zero value (see the module docstring)."""
    y = _matrix("history", history)
    started = np.cumsum(y != 0, axis=1) > 0  # [n, T] from the first sale on
    pair = started[:, 1:] & started[:, :-1]  # both days of a step are after the first sale
    diff = np.diff(y, axis=1)
    count = pair.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        squared = np.where(pair, diff**2, 0.0).sum(axis=1) / count
        absolute = np.where(pair, np.abs(diff), 0.0).sum(axis=1) / count
    usable = (count > 0) & (squared > 0)
    return Scales(np.where(usable, squared, np.nan), np.where(usable, absolute, np.nan), usable)


def revenue_weights(history: npt.ArrayLike, price: npt.ArrayLike, usable: npt.ArrayLike, days: int = 28) -> Array:
    """``[n]`` share of revenue over the last ``days`` of history among usable series (sums to 1, or all 0).

    ``price`` is ``[n, T]`` or ``[n]``; unknown prices (nan) count as 0 revenue.
    """
    y = _matrix("history", history)
    p = np.asarray(price, np.float64)
    p = np.broadcast_to(p[:, None] if p.ndim == 1 else p, y.shape)
    revenue = np.nansum((y * p)[:, -days:], axis=1) * np.asarray(usable, bool)
    total = revenue.sum()
    return revenue / total if total > 0 else np.zeros_like(revenue)


def rmsse(actual: npt.ArrayLike, forecast: npt.ArrayLike, scales: Scales) -> Array:
    y, f = _pair(actual, forecast)
    result: Array = np.sqrt(np.mean((y - f) ** 2, axis=1) / scales.squared)
    return result


def mase(actual: npt.ArrayLike, forecast: npt.ArrayLike, scales: Scales) -> Array:
    y, f = _pair(actual, forecast)
    result: Array = np.mean(np.abs(y - f), axis=1) / scales.absolute
    return result


def pinball(actual: npt.ArrayLike, quantiles: npt.ArrayLike, levels: tuple[float, ...] = M5_LEVELS) -> Array:
    """``[n, Q]`` mean pinball loss over the horizon per series and level (unscaled)."""
    y = _matrix("actual", actual)
    q = np.asarray(quantiles, np.float64)
    u = np.asarray(levels, np.float64)
    if q.shape != (*y.shape, len(u)):
        raise MetricError(f"quantiles: expected shape {(*y.shape, len(u))}, got {q.shape}")
    if np.any((u <= 0) | (u >= 1)):
        raise MetricError(f"levels must lie strictly between 0 and 1, got {levels}")
    error = y[..., None] - q
    loss = np.where(error >= 0, u * error, (u - 1) * error)
    result: Array = loss.mean(axis=1)
    return result


def spl(
    actual: npt.ArrayLike, quantiles: npt.ArrayLike, scales: Scales, levels: tuple[float, ...] = M5_LEVELS
) -> Array:
    """``[n]`` scaled pinball loss averaged over the levels."""
    result: Array = pinball(actual, quantiles, levels).mean(axis=1) / scales.absolute
    return result


def weighted(scores: npt.ArrayLike, weights: npt.ArrayLike) -> float:
    """``sum_i w_i score_i`` over series with a finite score (weight 0 elsewhere)."""
    s = np.asarray(scores, np.float64)
    w = np.asarray(weights, np.float64)
    keep = np.isfinite(s) & (w > 0)
    return float((s[keep] * w[keep]).sum())


def total_bias(actual: npt.ArrayLike, forecast: npt.ArrayLike) -> float:
    """``(sum yhat - sum y) / sum y`` over all series and days: the share by which the total is over-forecast."""
    y, f = _pair(actual, forecast)
    total = y.sum()
    if total <= 0:
        raise MetricError("bias is undefined: the actuals sum to zero")
    return float((f.sum() - total) / total)


def coverage(actual: npt.ArrayLike, upper: npt.ArrayLike) -> float:
    """Share of (series, day) cells whose actual is at or below ``upper`` (for a P90 forecast: about 0.9)."""
    y, q = _pair(actual, upper)
    return float((y <= q).mean())


def _matrix(name: str, value: npt.ArrayLike) -> Array:
    array = np.asarray(value, np.float64)
    if array.ndim != 2:
        raise MetricError(f"{name}: expected shape [n, days], got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise MetricError(f"{name}: values must be finite (use 0 for days without sales)")
    return array


def _pair(actual: npt.ArrayLike, forecast: npt.ArrayLike) -> tuple[Array, Array]:
    y, f = _matrix("actual", actual), _matrix("forecast", forecast)
    if y.shape != f.shape:
        raise MetricError(f"actual {y.shape} and forecast {f.shape} must have the same shape")
    return y, f
