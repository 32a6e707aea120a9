"""Statistical baselines behind the same seam as every forecaster: seasonal naive, exponential smoothing,
Croston (SBA) and TSB for intermittent demand.

Each one runs over the whole batch at once: loops go over days, never over series. Unobserved days (before a
series' first sale, or out of stock) leave the smoothed state as it was, so censored days are not read as zero
demand. Each returns the mean per future day and a variance from its own one-step-ahead errors in the history,
so the backtest can score the same quantiles (``forecasting.count_quantiles``) for every model.

Formulas (``y_t`` demand, ``o_t`` observed, horizon day ``h >= 1``):
- seasonal naive (season ``s``): ``yhat_{T+h} = y_{T+h-s k}`` for the smallest ``k`` that lands in the history;
  variance = mean squared seasonal difference ``(y_t - y_{t-s})^2`` over observed pairs;
- simple exponential smoothing: ``l_t = l_{t-1} + alpha (y_t - l_{t-1})`` on observed days, alpha per series
  from ``ALPHAS`` by least one-step squared error; ``yhat = l_T`` for every ``h``; variance
  ``sigma^2 (1 + (h - 1) alpha^2)`` (Hyndman et al., *Forecasting with Exponential Smoothing*, 2008, table 6.1,
  model ANN);
- Croston with the Syntetos-Boylan approximation: size ``z`` and interval ``q`` smoothed (``alpha``) at each
  sale, ``yhat = (1 - alpha / 2) z / q`` (Syntetos & Boylan, 2005);
- TSB: probability of a sale ``p_t = p_{t-1} + beta (1{y_t > 0} - p_{t-1})`` every observed day and size ``z``
  at each sale, ``yhat = p z`` (Teunter, Syntetos & Babai, 2011).
The variance of the intermittent methods is that of a Bernoulli(``p``) times a size with the sizes' observed
variance: ``p (s_z^2 + z^2) - (p z)^2``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from forecasting.errors import ForecastError
from forecasting.forecast import DemandForecast
from forecasting.history import DemandHistory

Array = npt.NDArray[np.float64]
ALPHAS: tuple[float, ...] = (0.05, 0.1, 0.2, 0.3, 0.5)
_CODE_VERSION = 1


class BaselineError(ForecastError):
    """A baseline parameter is invalid."""


def _method(name: str, n: int) -> npt.NDArray[np.str_]:
    return np.full(n, name).astype(np.str_)


def _values(history: DemandHistory) -> tuple[Array, npt.NDArray[np.bool_]]:
    observed = history.observed
    return np.where(observed, history.demand.astype(np.float64), 0.0), observed


@dataclass(frozen=True, slots=True)
class SeasonalNaiveForecaster:
    season: int = 7

    def __post_init__(self) -> None:
        if self.season < 1:
            raise BaselineError(f"season: expected an int >= 1, got {self.season}")

    @property
    def name(self) -> str:
        return "seasonal_naive"

    @property
    def version(self) -> str:
        return f"seasonal_naive-{_CODE_VERSION}(season={self.season})"

    def predict(self, history: DemandHistory, horizon: int) -> DemandForecast:
        y, observed = _values(history)
        n, t = y.shape
        season = min(self.season, t)
        steps = np.arange(1, horizon + 1)
        source = t - season + (steps - 1) % season  # the same position in the last observed season
        mean = y[:, source]
        pairs = observed[:, season:] & observed[:, :-season] if t > season else np.zeros((n, 0), bool)
        diff = (y[:, season:] - y[:, :-season]) if t > season else np.zeros((n, 0))
        count = pairs.sum(axis=1)
        variance = np.where(count > 0, np.where(pairs, diff**2, 0.0).sum(axis=1) / np.maximum(count, 1), mean.mean(1))
        return DemandForecast(mean, np.repeat(variance[:, None], horizon, axis=1), _method(self.name, n), self.version)


@dataclass(frozen=True, slots=True)
class ExponentialSmoothingForecaster:
    alphas: tuple[float, ...] = ALPHAS

    def __post_init__(self) -> None:
        if not self.alphas or any(not 0 < a <= 1 for a in self.alphas):
            raise BaselineError(f"alphas: expected values in (0, 1], got {self.alphas}")

    @property
    def name(self) -> str:
        return "exponential_smoothing"

    @property
    def version(self) -> str:
        return f"exponential_smoothing-{_CODE_VERSION}(alphas={list(self.alphas)})"

    def predict(self, history: DemandHistory, horizon: int) -> DemandForecast:
        y, observed = _values(history)
        n, t = y.shape
        alphas = np.asarray(self.alphas)[None, :]  # [1, A]
        first = np.argmax(observed, axis=1)
        level = y[np.arange(n), first][:, None].repeat(len(self.alphas), axis=1)  # [n, A]
        sse = np.zeros_like(level)
        count = np.zeros(n)
        for day in range(t):
            seen = (observed[:, day] & (day > first))[:, None]
            error = y[:, day : day + 1] - level
            sse += np.where(seen, error**2, 0.0)
            count += seen[:, 0]
            level = np.where(seen, level + alphas * error, level)
        best = np.argmin(sse, axis=1)
        rows = np.arange(n)
        alpha = alphas[0, best]
        sigma2 = np.where(count > 0, sse[rows, best] / np.maximum(count, 1), level[rows, best])
        steps = np.arange(horizon)[None, :]
        variance = sigma2[:, None] * (1 + steps * alpha[:, None] ** 2)
        mean = np.repeat(np.maximum(level[rows, best], 0.0)[:, None], horizon, axis=1)
        return DemandForecast(mean, variance, _method(self.name, n), self.version)


@dataclass(frozen=True, slots=True)
class IntermittentForecaster:
    """Croston-SBA (``variant="croston"``) or TSB (``variant="tsb"``), see the module docstring."""

    variant: str = "tsb"
    alpha: float = 0.1
    beta: float = 0.1

    def __post_init__(self) -> None:
        if self.variant not in ("croston", "tsb"):
            raise BaselineError(f"variant: expected 'croston' or 'tsb', got {self.variant!r}")
        if not (0 < self.alpha <= 1 and 0 < self.beta <= 1):
            raise BaselineError(f"alpha and beta must lie in (0, 1], got {self.alpha}, {self.beta}")

    @property
    def name(self) -> str:
        return self.variant

    @property
    def version(self) -> str:
        return f"{self.variant}-{_CODE_VERSION}(alpha={self.alpha},beta={self.beta})"

    def predict(self, history: DemandHistory, horizon: int) -> DemandForecast:
        y, observed = _values(history)
        n, t = y.shape
        sold = observed & (y > 0)
        size = np.zeros(n)
        interval = np.ones(n)
        probability = np.zeros(n)
        since = np.zeros(n)
        started = np.zeros(n, bool)
        for day in range(t):
            seen, sale = observed[:, day], sold[:, day]
            since = np.where(seen, since + 1, since)
            first = sale & ~started
            later = sale & started
            size = np.where(first, y[:, day], np.where(later, size + self.alpha * (y[:, day] - size), size))
            interval = np.where(first, since, np.where(later, interval + self.alpha * (since - interval), interval))
            update = seen & started
            probability = np.where(update, probability + self.beta * (sale - probability), probability)
            probability = np.where(first, 1.0, probability)
            started |= sale
            since = np.where(sale, 0.0, since)
        if self.variant == "croston":
            rate = np.where(started, (1 - self.alpha / 2) * size / interval, 0.0)
            probability = np.where(started, 1 / interval, 0.0)
        else:
            rate = np.where(started, probability * size, 0.0)
        sizes = np.where(sold, y, np.nan)
        counts = sold.sum(axis=1)
        spread = np.zeros(n)
        many = counts > 1
        if many.any():
            spread[many] = np.nanvar(sizes[many], axis=1, ddof=1)
        variance = np.maximum(probability * (spread + size**2) - (probability * size) ** 2, 0.0)
        return DemandForecast(
            np.repeat(rate[:, None], horizon, axis=1),
            np.repeat(variance[:, None], horizon, axis=1),
            _method(self.name, n),
            self.version,
        )
