"""Demand forecasting for restock: pure numpy, no I/O.

The seam: a :class:`DemandHistory` batch goes into a :class:`Forecaster`, a :class:`DemandForecast` comes out,
and :meth:`DemandForecast.over_period` gives the :class:`PeriodDemand` a policy protects against.
"""

from forecasting.base import Forecaster
from forecasting.errors import ForecastError
from forecasting.forecast import DemandForecast, DemandForecastError
from forecasting.history import ClickAction, DemandHistory, HistoryError
from forecasting.moving_average import (
    FALLBACK_METHOD,
    METHOD,
    MovingAverageError,
    MovingAverageForecaster,
)
from forecasting.normal import standard_normal_ppf
from forecasting.period import PeriodDemand, PeriodDemandError

__all__ = [
    "FALLBACK_METHOD",
    "METHOD",
    "ClickAction",
    "DemandForecast",
    "DemandForecastError",
    "DemandHistory",
    "ForecastError",
    "Forecaster",
    "HistoryError",
    "MovingAverageError",
    "MovingAverageForecaster",
    "PeriodDemand",
    "PeriodDemandError",
    "standard_normal_ppf",
]
