"""Builders shared by the policy tests."""

from __future__ import annotations

import numpy as np

from forecasting import DemandForecast, PeriodDemand
from policies import ItemParams, OrderDecision, order_up_to


def flat_forecast(daily_mean: list[float], daily_variance: list[float], horizon: int = 30) -> DemandForecast:
    mean = np.repeat(np.asarray(daily_mean, dtype=np.float64)[:, None], horizon, axis=1)
    variance = np.repeat(np.asarray(daily_variance, dtype=np.float64)[:, None], horizon, axis=1)
    return DemandForecast(
        mean=mean, variance=variance, method=np.array(["flat"] * len(daily_mean)), model_version="flat-1"
    )


def decide(
    params: ItemParams,
    *,
    daily_mean: list[float],
    daily_variance: list[float],
    position: list[float],
    shelf: list[float] | None = None,
) -> OrderDecision:
    forecast = flat_forecast(daily_mean, daily_variance)
    protection: PeriodDemand = forecast.over_period(params.protection_days)
    return order_up_to(
        np.asarray(position, dtype=np.float64),
        protection,
        forecast.mean[:, 0],
        params,
        shelf_stock=np.asarray(shelf if shelf is not None else [0.0] * len(position)),
    )
