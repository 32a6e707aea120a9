"""What a decider sees at a review: the system's own records, never the true demand.

Why censored: the real system records sales, and a sale is only what the shelf could serve. A simulator that
handed the forecaster true demand would flatter every policy exactly where stockouts matter. The view holds
the history of sales (demand met from stock on its day), the ``observed`` mask the worker would build (see
:func:`policies.simulator.simulate`), the orders placed so far and today's stock counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from forecasting.history import DemandHistory
from policies.errors import PolicyError

__all__ = ["Decider", "SystemView"]


@dataclass(frozen=True, slots=True)
class SystemView:
    """The state at the end of review day ``day``, after that day's demand; arrays are read-only.

    Attributes:
        day: simulation day t (0-based) of the review.
        day_number: ``start_day + t``, the ``end_day`` of the history (days since 1970-01-01).
        review_days: R, days until the next review.
        series_ids: ``[n]`` keys for a :class:`~forecasting.DemandHistory`.
        sales: ``[n, W + t + 1]`` float32 units sold per day: the setup's prior sales, then days 0..t.
        observed: ``[n, W + t + 1]`` bool; False on censored (stockout) days when the run censors them, and
            where the prior history says so.
        ordered: ``[n, t]`` int64 units ordered at the end of days 0..t-1.
        on_hand: ``[n]`` int64 units on the shelf.
        on_order: ``[n]`` int64 units ordered and not yet received (the pipeline).
        backorders: ``[n]`` int64 units owed to customers (always 0 for lost-sales series).
        lost_sales: ``[n]`` bool, the setup's lost-sales flags.
    """

    day: int
    day_number: int
    review_days: int
    series_ids: npt.NDArray[np.str_]
    sales: npt.NDArray[np.float32]
    observed: npt.NDArray[np.bool_]
    ordered: npt.NDArray[np.int64]
    on_hand: npt.NDArray[np.int64]
    on_order: npt.NDArray[np.int64]
    backorders: npt.NDArray[np.int64]
    lost_sales: npt.NDArray[np.bool_]

    @property
    def n(self) -> int:
        """Number of series."""
        return int(self.on_hand.shape[0])

    def history(self, days: int) -> DemandHistory:
        """The last ``days`` (>= 1) visible days as the :class:`~forecasting.DemandHistory` a forecaster reads.

        Fewer columns when less history exists; no copy of the sales is made.
        """
        if isinstance(days, bool) or not isinstance(days, int | np.integer) or days < 1:
            raise PolicyError(f"history_days: expected an int >= 1, got {days!r}")
        first = max(0, self.sales.shape[1] - int(days))
        return DemandHistory(
            series_ids=self.series_ids,
            demand=self.sales[:, first:],
            end_day=self.day_number,
            observed=self.observed[:, first:],
        )


Decider = Callable[[SystemView], npt.ArrayLike]
"""A policy under test: the view at a review -> ``[n]`` whole units to order now (0: no order)."""
