"""The input seam of every forecaster: a batch of daily demand series as numpy arrays.

Why one object: the worker, the backtest and the simulator all build the same batch, and every forecaster
(moving average now, an LSTM later) reads it without knowing where it came from. Rows are series, columns are
closed days; column ``T-1`` is the last closed day, ``end_day`` (days since 1970-01-01 UTC).

Arrays are validated, converted to their canonical dtypes when they are not already, and never copied when
they are; treat them as read-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from forecasting.calendar import EventCalendar
from forecasting.errors import ForecastError

__all__ = ["ClickAction", "DemandHistory", "HistoryError"]


YEARLY_MIN_DAYS = 730


def has_yearly_cycles(days: int) -> bool:
    """Whether ``days`` of history are enough to learn yearly seasonality from: two cycles, since from one a
    month's effect cannot be told from that year's trend."""
    return days >= YEARLY_MIN_DAYS


class HistoryError(ForecastError):
    """A :class:`DemandHistory` field has the wrong shape, dtype or values."""


class ClickAction(IntEnum):
    """Index of each click action along the last axis of ``DemandHistory.clicks``."""

    VIEW = 0
    ADD_TO_CART = 1
    REMOVE_FROM_CART = 2
    PURCHASE = 3


def _as_float32(name: str, value: npt.ArrayLike) -> npt.NDArray[np.float32]:
    array = np.asarray(value)
    if array.dtype.kind not in "fiub":
        raise HistoryError(f"{name}: expected a numeric array, got dtype {array.dtype}")
    return array.astype(np.float32, copy=False)


@dataclass(frozen=True, slots=True)
class DemandHistory:
    """Daily demand of ``n`` series over ``T`` closed days, ending on ``end_day``.

    Attributes:
        series_ids: ``[n]`` series keys (``sku|location``), str or object dtype.
        demand: ``[n, T]`` float32 units sold per day, >= 0 where observed (nan allowed where not observed).
        end_day: day number (days since 1970-01-01 UTC) of column ``T-1``.
        observed: ``[n, T]`` bool; False where the day carries no information about demand: before the
            series' first event, or a stockout day whose sales are censored.
        clicks: optional ``[n, T, 4]`` float32 counts by :class:`ClickAction`.
        price: optional ``[n, T]`` float32 unit price, nan where unknown.
        calendar: optional event and SNAP days (``forecasting.calendar``), past and future alike.
    """

    series_ids: npt.NDArray[np.object_] | npt.NDArray[np.str_]
    demand: npt.NDArray[np.float32]
    end_day: int
    observed: npt.NDArray[np.bool_]
    clicks: npt.NDArray[np.float32] | None = None
    price: npt.NDArray[np.float32] | None = None
    calendar: EventCalendar | None = None

    def __post_init__(self) -> None:
        ids = np.asarray(self.series_ids)
        if ids.ndim != 1:
            raise HistoryError(f"series_ids: expected shape [n], got {ids.shape}")
        if ids.size and ids.dtype.kind not in "UOS":
            raise HistoryError(f"series_ids: expected str or object dtype, got {ids.dtype}")
        n = ids.shape[0]

        demand = _as_float32("demand", self.demand)
        if demand.ndim != 2 or demand.shape[0] != n:
            raise HistoryError(f"demand: expected shape [n={n}, T], got {demand.shape}")
        if demand.shape[1] < 1:
            raise HistoryError("demand: needs at least one day (T >= 1)")
        shape = demand.shape

        if isinstance(self.end_day, bool) or not isinstance(self.end_day, int | np.integer):
            raise HistoryError(f"end_day: expected an int day number, got {type(self.end_day).__name__}")

        observed = np.asarray(self.observed)
        if observed.dtype != np.bool_:
            raise HistoryError(f"observed: expected bool dtype, got {observed.dtype}")
        if observed.shape != shape:
            raise HistoryError(f"observed: expected shape {shape} like demand, got {observed.shape}")

        seen = demand[observed]
        if not np.all(np.isfinite(seen)):
            raise HistoryError("demand: must be finite on observed days")
        if np.any(seen < 0):
            raise HistoryError("demand: must be >= 0 on observed days (clip net returns before building)")

        object.__setattr__(self, "series_ids", ids)
        object.__setattr__(self, "demand", demand)
        object.__setattr__(self, "end_day", int(self.end_day))
        object.__setattr__(self, "observed", observed)

        if self.clicks is not None:
            clicks = _as_float32("clicks", self.clicks)
            expected = (*shape, len(ClickAction))
            if clicks.shape != expected:
                raise HistoryError(f"clicks: expected shape {expected}, got {clicks.shape}")
            if not np.all(np.isfinite(clicks)) or np.any(clicks < 0):
                raise HistoryError("clicks: counts must be finite and >= 0")
            object.__setattr__(self, "clicks", clicks)

        if self.price is not None:
            price = _as_float32("price", self.price)
            if price.shape != shape:
                raise HistoryError(f"price: expected shape {shape} like demand, got {price.shape}")
            known = price[~np.isnan(price)]
            if not np.all(np.isfinite(known)) or np.any(known < 0):
                raise HistoryError("price: known prices must be finite and >= 0 (use nan for unknown)")
            object.__setattr__(self, "price", price)

    @property
    def n(self) -> int:
        """Number of series (rows)."""
        return int(self.demand.shape[0])

    @property
    def days(self) -> int:
        """Number of closed days (columns), ``T``."""
        return int(self.demand.shape[1])

    @property
    def start_day(self) -> int:
        """Day number of column 0."""
        return self.end_day - self.days + 1

    def day_numbers(self) -> npt.NDArray[np.int64]:
        """``[T]`` day numbers (days since 1970-01-01 UTC) of the columns."""
        return np.arange(self.start_day, self.end_day + 1, dtype=np.int64)

    def columns(self, first: int, end: int) -> DemandHistory:
        """Days ``first .. end - 1`` (column indices, 0 <= first < end <= T) as a history of their own: what
        was known at the end of day ``end - 1``, e.g. a past forecast origin."""
        if not 0 <= first < end <= self.days:
            raise HistoryError(f"columns: need 0 <= first < end <= {self.days}, got {first}, {end}")
        return DemandHistory(
            series_ids=self.series_ids,
            demand=self.demand[:, first:end],
            end_day=self.start_day + end - 1,
            observed=self.observed[:, first:end],
            clicks=None if self.clicks is None else self.clicks[:, first:end],
            price=None if self.price is None else self.price[:, first:end],
            calendar=self.calendar,
        )

    def observed_days(self) -> npt.NDArray[np.int64]:
        """``[n]`` count of observed days per series."""
        counts: npt.NDArray[np.int64] = self.observed.sum(axis=1, dtype=np.int64)
        return counts
