"""Daily quantiles of a forecast by the model's own rule: count distributions, or its normal intervals.

Why a rule per model: restock's models forecast counts, so their quantiles come from a negative binomial or
Poisson with the forecast's two moments (``forecasting.count_quantiles``); a yardstick such as AutoETS is scored
on its own (normal) prediction intervals, not on ours. A forecaster declares ``quantile_rule = "normal"`` to
get ``max(0, mean + z_u sd)``; without the attribute the rule is ``"count"``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from forecasting.count_quantiles import count_quantiles
from forecasting.errors import ForecastError
from forecasting.forecast import DemandForecast
from forecasting.normal import standard_normal_ppf

RULES = ("count", "normal")


def quantile_rule(model: object) -> str:
    rule = str(getattr(model, "quantile_rule", "count"))
    if rule not in RULES:
        raise ForecastError(f"{type(model).__name__}.quantile_rule: expected one of {RULES}, got {rule!r}")
    return rule


def daily_quantiles(
    forecast: DemandForecast, levels: tuple[float, ...], rule: str = "count"
) -> npt.NDArray[np.float64]:
    """``[n, H, Q]`` quantiles at ``levels`` of each forecast day, monotone in the level."""
    if rule == "count":
        return count_quantiles(forecast.mean, forecast.variance, levels)
    if rule == "normal":
        z = standard_normal_ppf(np.asarray(levels, dtype=np.float64))
        bounds: npt.NDArray[np.float64] = np.maximum(
            forecast.mean[..., None] + z * np.sqrt(forecast.variance)[..., None], 0.0
        )
        return bounds
    raise ForecastError(f"quantile rule: expected one of {RULES}, got {rule!r}")
