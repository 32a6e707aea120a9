"""Demand summed over a period (lead time + review), the quantity a replenishment policy protects against.

Why a separate object: the policy only needs the distribution of the period total, not the daily path, and the
same object serves a normal approximation (mean and std only) and sample-path forecasters (empirical).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from forecasting.errors import ForecastError
from forecasting.normal import standard_normal_ppf

__all__ = ["PeriodDemand", "PeriodDemandError", "validate_levels"]


class PeriodDemandError(ForecastError):
    """A :class:`PeriodDemand` field or a quantile level is invalid."""


def validate_levels(levels: Sequence[float] | npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Return ``levels`` as a 1-D float array after checking every level lies strictly in (0, 1)."""
    array = np.asarray(levels, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise PeriodDemandError(f"levels: expected a non-empty 1-D sequence, got shape {array.shape}")
    if not np.all((array > 0.0) & (array < 1.0)):
        raise PeriodDemandError("levels: every level must lie strictly between 0 and 1")
    return array


@dataclass(frozen=True, slots=True)
class PeriodDemand:
    """Distribution of demand summed over a period, per series.

    Attributes:
        mean: ``[n]`` expected period demand.
        std: ``[n]`` standard deviation of period demand (>= 0).
        samples: optional ``[n, S]`` sampled period totals; when present, quantiles are empirical.
    """

    mean: npt.NDArray[np.float64]
    std: npt.NDArray[np.float64]
    samples: npt.NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        mean = np.asarray(self.mean, dtype=np.float64)
        std = np.asarray(self.std, dtype=np.float64)
        if mean.ndim != 1:
            raise PeriodDemandError(f"mean: expected shape [n], got {mean.shape}")
        if std.shape != mean.shape:
            raise PeriodDemandError(f"std: expected shape {mean.shape} like mean, got {std.shape}")
        if not np.all(np.isfinite(mean)):
            raise PeriodDemandError("mean: must be finite")
        if not np.all(np.isfinite(std)) or np.any(std < 0):
            raise PeriodDemandError("std: must be finite and >= 0")
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "std", std)
        if self.samples is not None:
            samples = np.asarray(self.samples, dtype=np.float64)
            if samples.ndim != 2 or samples.shape[0] != mean.shape[0] or samples.shape[1] < 1:
                raise PeriodDemandError(f"samples: expected shape [n={mean.shape[0]}, S>=1], got {samples.shape}")
            if not np.all(np.isfinite(samples)):
                raise PeriodDemandError("samples: must be finite")
            object.__setattr__(self, "samples", samples)

    @property
    def n(self) -> int:
        """Number of series."""
        return int(self.mean.shape[0])

    def quantile(self, levels: Sequence[float] | npt.ArrayLike) -> npt.NDArray[np.float64]:
        """``[n, q]`` quantiles of period demand at each level in ``levels`` (each strictly in (0, 1)).

        Without samples: the normal approximation N(mean, std^2) with the mass below zero put at zero
        (demand cannot be negative), i.e. ``max(0, mean + z_p * std)`` with ``z_p = Phi^-1(p)``; a censored
        rather than renormalised normal, so the quantile of a level is never above the uncensored one.
        With samples: the empirical quantile (numpy's linear interpolation, Hyndman & Fan type 7).
        Both are non-decreasing in the level.
        """
        probs = validate_levels(levels)
        if self.samples is not None:
            empirical = np.quantile(self.samples, probs, axis=1)  # [q, n]
            return np.ascontiguousarray(empirical.T)
        z = standard_normal_ppf(probs)
        normal = self.mean[:, None] + self.std[:, None] * z[None, :]
        result: npt.NDArray[np.float64] = np.maximum(normal, 0.0)
        return result
