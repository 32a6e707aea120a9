"""The seam between the worker (or backtest, or simulator) and any forecaster.

Why a Protocol: the moving average now and a torch model later satisfy it structurally; the caller holds a
``Forecaster`` and never imports a concrete model.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from forecasting.forecast import DemandForecast
from forecasting.history import DemandHistory

__all__ = ["Forecaster"]


@runtime_checkable
class Forecaster(Protocol):
    """Maps a batch of demand histories to a forecast distribution over ``horizon`` days.

    ``name`` identifies the model family; ``version`` identifies the code and hyper-parameters that produced a
    forecast (it becomes ``DemandForecast.model_version`` and so part of a decision's identity).
    Implementations are pure: no I/O, and the same history gives the same forecast.
    """

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    def predict(self, history: DemandHistory, horizon: int) -> DemandForecast:
        """Forecast rows aligned with ``history``'s rows for the ``horizon`` days after its end_day."""
        ...
