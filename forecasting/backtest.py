"""Rolling-origin backtest: every model forecasts the same series from the same origins, scored the M5 way.

Origins: the last ``origins`` blocks of ``horizon`` days; origin ``k`` trains on everything before its block and
forecasts the block. Per model and origin (``forecasting.metrics``): WRMSSE, RMSSE of the total over all series,
revenue-weighted MASE, WSPL over the M5 quantile levels (each model's quantiles by its own rule,
``forecasting.quantiles``), P90 coverage, bias of the total, and training / scoring seconds. The
summary is the mean over origins.

Hindsight references (``BacktestResult.hindsight``): the WRMSSE of "forecasts" that know each series' actual
mean over the horizon, flat or shaped by the training history's weekday profile of all series. They are not
models; they bound how much of a model's error is level error at all, so a target near them is out of reach
(on lumpy demand most of the squared error is the day-to-day noise around the level).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from forecasting import metrics
from forecasting.base import Forecaster
from forecasting.ensemble import combine
from forecasting.forecast import DemandForecast
from forecasting.history import DemandHistory
from forecasting.quantiles import daily_quantiles, quantile_rule

Fit = Callable[[DemandHistory], Forecaster]


@dataclass(frozen=True)
class EnsembleOf:
    """A weighted average (equal without ``weights``) of other models in the same backtest: their daily means
    and variances at each origin, so the members are fitted once (its fit and score seconds are the members'
    sums)."""

    members: tuple[str, ...]
    weights: tuple[float, ...] | None = None


Model = Fit | EnsembleOf


@dataclass(frozen=True)
class OriginScore:
    model: str
    origin_day: int  # day number of the first forecast day
    wrmsse: float
    rmsse_total: float
    wmase: float
    wspl: float
    p90_coverage: float
    bias: float
    fit_seconds: float
    score_seconds: float
    per_series: dict[str, npt.NDArray[np.float64]] = field(repr=False, default_factory=dict)


@dataclass(frozen=True)
class BacktestResult:
    scores: list[OriginScore]
    series_ids: npt.NDArray[np.object_] | npt.NDArray[np.str_]
    last_forecasts: dict[str, DemandForecast]  # of the last origin, for plots
    quantile_rules: dict[str, str]  # model -> forecasting.quantiles rule
    last_origin_history: DemandHistory
    last_actual: npt.NDArray[np.float64]
    hindsight: list[dict[str, float]] = field(default_factory=list)  # per origin, see hindsight_wrmsse

    def hindsight_summary(self) -> dict[str, float]:
        """Mean over origins of each hindsight reference's WRMSSE."""
        names = self.hindsight[0] if self.hindsight else {}
        return {k: float(np.mean([h[k] for h in self.hindsight])) for k in names}

    def summary(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for model in dict.fromkeys(s.model for s in self.scores):
            mine = [s for s in self.scores if s.model == model]
            out[model] = {
                name: float(np.mean([getattr(s, name) for s in mine]))
                for name in ("wrmsse", "rmsse_total", "wmase", "wspl", "p90_coverage", "bias", "fit_seconds",
                             "score_seconds")
            }  # fmt: skip
        return out


def cut(history: DemandHistory, days: int) -> DemandHistory:
    """The first ``days`` columns of ``history``."""
    return history.columns(0, days)


def hindsight_wrmsse(
    train: DemandHistory, actual: npt.NDArray[np.float64], scales: metrics.Scales, weights: npt.NDArray[np.float64]
) -> dict[str, float]:
    """WRMSSE of each series' actual horizon mean, flat (``future_mean``) and times the weekday profile of all
    series' training demand (``future_mean_weekday``): what a forecaster that knew every level would score."""
    level = actual.mean(axis=1, keepdims=True)
    weekday = (train.start_day + np.arange(train.days) + 3) % 7
    observed = np.where(train.observed, train.demand, 0.0).sum(axis=0)
    by_day = np.bincount(weekday, weights=observed, minlength=7) / np.maximum(np.bincount(weekday, minlength=7), 1)
    profile = by_day / by_day.mean() if by_day.mean() > 0 else np.ones(7)
    ahead = (train.end_day + 1 + np.arange(actual.shape[1]) + 3) % 7
    flat = np.repeat(level, actual.shape[1], axis=1)
    shaped = level * profile[ahead][None, :]
    return {
        "future_mean": metrics.weighted(metrics.rmsse(actual, flat, scales), weights),
        "future_mean_weekday": metrics.weighted(metrics.rmsse(actual, shaped, scales), weights),
    }


def run_backtest(
    history: DemandHistory, models: Mapping[str, Model], origins: int = 3, horizon: int = 28,
    progress: Callable[[str], None] = lambda _: None,
) -> BacktestResult:  # fmt: skip
    if history.days <= origins * horizon + 2 * horizon:
        raise metrics.MetricError(
            f"{history.days} days of history are too few for {origins} origins of {horizon} days; "
            "use fewer origins or a shorter horizon"
        )
    scores: list[OriginScore] = []
    hindsight: list[dict[str, float]] = []
    forecasts: dict[str, DemandForecast] = {}
    rules: dict[str, str] = {}
    train = cut(history, history.days)
    actual = np.zeros((history.n, horizon))
    for k in range(origins, 0, -1):
        end = history.days - k * horizon
        train = cut(history, end)
        actual = history.demand[:, end : end + horizon].astype(np.float64)
        scales = metrics.naive_scales(train.demand)
        price = train.price if train.price is not None else np.ones(train.demand.shape, np.float32)
        weights = metrics.revenue_weights(train.demand, np.nan_to_num(price, nan=0.0), scales.usable)
        total_scale = metrics.naive_scales(train.demand.sum(axis=0, keepdims=True))
        hindsight.append(hindsight_wrmsse(train, actual, scales, weights))
        seconds: dict[str, tuple[float, float]] = {}
        for name, spec in models.items():
            progress(f"origin {origins - k + 1}/{origins} (day {train.end_day + 1}): {name}")
            if isinstance(spec, EnsembleOf):
                missing = [m for m in spec.members if m not in seconds]
                if missing:
                    raise metrics.MetricError(f"ensemble {name}: members {missing} must come before it in the models")
                forecast = combine(name, [forecasts[m] for m in spec.members], spec.weights)
                fit_s, score_s = (sum(seconds[m][i] for m in spec.members) for i in (0, 1))
                rule = "count"
            else:
                started = time.monotonic()
                model = spec(train)
                fitted = time.monotonic()
                forecast = model.predict(train, horizon)
                fit_s, score_s = fitted - started, time.monotonic() - fitted
                rule = quantile_rule(model)
            forecasts[name], rules[name], seconds[name] = forecast, rule, (fit_s, score_s)
            scores.append(_score(name, train.end_day + 1, actual, forecast, rule, scales, weights, total_scale,
                                 fit_s, score_s))  # fmt: skip
    return BacktestResult(scores, history.series_ids, forecasts, rules, train, actual, hindsight)


def _score(
    name: str, origin_day: int, actual: npt.NDArray[np.float64], forecast: DemandForecast, rule: str,
    scales: metrics.Scales, weights: npt.NDArray[np.float64], total_scale: metrics.Scales, fit_s: float, score_s: float,
) -> OriginScore:  # fmt: skip
    quantiles = daily_quantiles(forecast, metrics.M5_LEVELS, rule)
    p90 = daily_quantiles(forecast, (0.9,), rule)[..., 0]
    rmsse = metrics.rmsse(actual, forecast.mean, scales)
    mase = metrics.mase(actual, forecast.mean, scales)
    spl = metrics.spl(actual, quantiles, scales)
    total = metrics.rmsse(actual.sum(axis=0, keepdims=True), forecast.mean.sum(axis=0, keepdims=True), total_scale)
    return OriginScore(
        name, origin_day, metrics.weighted(rmsse, weights), float(total[0]), metrics.weighted(mase, weights),
        metrics.weighted(spl, weights), metrics.coverage(actual, p90), metrics.total_bias(actual, forecast.mean),
        fit_s, score_s, {"rmsse": rmsse, "mase": mase, "spl": spl, "weight": weights},
    )  # fmt: skip
