"""Quantiles of daily demand from its mean and variance, as counts: negative binomial, or Poisson below it.

Why counts: most retail series are intermittent, and a normal distribution around a small mean puts the lower
quantiles below zero and no probability mass *at* zero; a count distribution with the same two moments keeps
both right. With mean ``m`` and variance ``v``:
- ``v > m``: negative binomial with ``r = m^2 / (v - m)`` successes and ``p = m / v`` (mean ``r(1-p)/p = m``,
  variance ``r(1-p)/p^2 = v``);
- ``v <= m``: Poisson(``m``) (the count distribution with the least spread for its mean);
- ``m == 0``: all mass at 0.
The quantile at level ``u`` is the smallest ``k`` with ``P(X <= k) >= u``, found from the pmf recurrence
``P(k+1) = P(k) (k + r)(1 - p) / (k + 1)`` (Poisson: ``P(k) m / (k + 1)``), vectorised over all cells. Above a
mean of ``NORMAL_ABOVE`` both are close to normal (and the recurrence would start from an underflowing
``P(0)``), so those cells take ``ceil(m + z_u sqrt(max(v, m)))``, floored at 0.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from forecasting.errors import ForecastError
from forecasting.normal import standard_normal_ppf

Array = npt.NDArray[np.float64]
NORMAL_ABOVE = 200.0


class CountQuantileError(ForecastError):
    """Means, variances or levels that do not describe a count distribution."""


def count_quantiles(mean: npt.ArrayLike, variance: npt.ArrayLike, levels: tuple[float, ...]) -> Array:
    """``[..., Q]`` quantiles (whole numbers) for every cell of ``mean`` / ``variance`` (same shape)."""
    m = np.asarray(mean, np.float64)
    v = np.asarray(variance, np.float64)
    u = np.asarray(levels, np.float64)
    if m.shape != v.shape:
        raise CountQuantileError(f"mean {m.shape} and variance {v.shape} must have the same shape")
    if not (np.all(np.isfinite(m)) and np.all(np.isfinite(v))) or np.any(m < 0) or np.any(v < 0):
        raise CountQuantileError("mean and variance must be finite and >= 0")
    if np.any((u <= 0) | (u >= 1)) or np.any(np.diff(u) < 0):
        raise CountQuantileError(f"levels must be increasing and strictly between 0 and 1, got {levels}")
    flat_m, flat_v = m.ravel(), v.ravel()
    result = np.zeros((flat_m.size, u.size))
    large = flat_m > NORMAL_ABOVE
    if large.any():
        z = standard_normal_ppf(u)
        sigma = np.sqrt(np.maximum(flat_v[large], flat_m[large]))
        result[large] = np.maximum(np.ceil(flat_m[large, None] + z[None, :] * sigma[:, None]), 0.0)
    small = np.flatnonzero(~large)
    if small.size:
        result[small] = _recurrence(flat_m[small], flat_v[small], u)
    return result.reshape((*m.shape, u.size))


def _recurrence(m: Array, v: Array, u: Array) -> Array:
    """The quantile of a cell is the number of steps ``k`` during which its cdf stays below the level; cells
    leave the loop once every level is reached, so the work follows each cell's own tail, not the widest one."""
    negbin = v > m
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(negbin, m**2 / (v - m), 0.0)
        q = np.where(negbin, 1.0 - m / v, 0.0)  # failure probability 1 - p
    pmf = np.where(negbin, (1.0 - q) ** r, np.exp(-m))
    cdf = pmf.copy()
    # one ratio for both: P(k+1) / P(k) = (q k + c) / (k + 1), c = r q (negative binomial) or m (Poisson, q = 0)
    c = np.where(negbin, r * q, m)
    result = np.zeros((m.size, u.size))
    cells = np.arange(m.size)
    pending = cdf[:, None] < u[None, :]
    # Up to the mean plus 12 standard deviations: beyond it the remaining tail mass is negligible.
    limit = int(np.ceil((m + 12 * np.sqrt(v) + 12).max()))
    counts = np.zeros((m.size, u.size))
    for k in range(limit):
        going = pending.any(axis=1)
        live = int(going.sum())
        if not live:
            break
        if live < 0.75 * pending.shape[0]:  # compacting copies every array: only once a quarter has finished
            result[cells] += counts
            cells, pending, pmf, cdf, counts = cells[going], pending[going], pmf[going], cdf[going], counts[going]
            q, c = q[going], c[going]
            counts[:] = 0.0
        counts += pending
        pmf *= (q * k + c) / (k + 1)
        cdf += pmf
        pending &= cdf[:, None] < u[None, :]
    result[cells] += counts
    return result
