"""Model inputs from demand histories: scaled past demand and covariates, future covariates, static ids.

Per series and window (``context`` past days ending at an origin, ``horizon`` days after it):
- scale ``s = 1 + mean(observed demand in the context)``: slow and fast movers share one model (DeepAR);
- past features per day: ``y / s`` (0 where unobserved), the observed flag, ``log1p(clicks / s)`` per action,
  the log price ratio to the context's mean known price and a price-known flag, then the calendar;
- calendar (past and future days alike): day of week one-hot (7), month and day of year as sin/cos (4); the
  yearly four are zero for a model trained on under two years (``forecasting.history.has_yearly_cycles``):
  from one cycle a month effect cannot be told from the trend, and the forecast months are ones the model
  never saw (dropping them lowered the LSTM's backtest WRMSSE on one year of retail from 0.846 to 0.838);
- future features per horizon day: the calendar, the last known price ratio, the horizon step ``h / H``;
- last in both, the event-day and SNAP-day flags of ``history.calendar`` (``forecasting.calendar``; 0 without
  one). Networks of the first layout (``PAST_V1`` / ``FUTURE_V1``, before these flags) get none;
- static: hashed buckets of the series id, location and category (for embeddings) and ``log s``.
Day numbers are days since 1970-01-01 (a Thursday).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from forecasting.history import ClickAction, DemandHistory

CALENDAR = 11
YEARLY = slice(7, CALENDAR)  # month and day-of-year sin/cos
PAST_V1 = 2 + len(ClickAction) + 2 + CALENDAR
FUTURE_V1 = CALENDAR + 2
EVENT_FLAGS = 2  # event day, SNAP day
PAST = PAST_V1 + EVENT_FLAGS
FUTURE = FUTURE_V1 + EVENT_FLAGS
Array = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Batch:
    """Model inputs for ``b`` windows; ``target`` / ``target_observed`` only for training windows."""

    past: Array  # [b, context, PAST] (PAST_V1 for a network of the first layout)
    future: Array  # [b, horizon, FUTURE] (FUTURE_V1 likewise)
    ids: npt.NDArray[np.int64]  # [b, 3] hashed buckets of series id, location, category
    log_scale: Array  # [b]
    scale: Array  # [b]
    target: Array | None = None  # [b, horizon] raw demand
    target_observed: npt.NDArray[np.bool_] | None = None


def calendar(days: npt.NDArray[np.int64], yearly: bool = True) -> Array:
    """``[..., CALENDAR]`` day-of-week one-hot, month sin/cos, day-of-year sin/cos.

    Computed once per distinct day of the span and gathered: a batch's windows share their days, and the
    date arithmetic per cell was a quarter of the scoring time.
    """
    if days.size == 0:
        return np.zeros((*days.shape, CALENDAR), np.float32)
    first = int(days.min())
    table = _calendar_of(np.arange(first, int(days.max()) + 1, dtype=np.int64))
    if not yearly:
        table[:, YEARLY] = 0.0
    return table[days - first]


def _calendar_of(days: npt.NDArray[np.int64]) -> Array:
    dates = days.astype("datetime64[D]")
    dow = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    month = dates.astype("datetime64[M]").astype(np.int64) % 12
    year_start = dates.astype("datetime64[Y]").astype("datetime64[D]")
    doy = (dates - year_start).astype(np.int64)
    out = np.zeros((*days.shape, CALENDAR), np.float32)
    np.put_along_axis(out, dow[..., None], 1.0, axis=-1)
    out[..., 7] = np.sin(2 * np.pi * month / 12)
    out[..., 8] = np.cos(2 * np.pi * month / 12)
    out[..., 9] = np.sin(2 * np.pi * doy / 365.25)
    out[..., 10] = np.cos(2 * np.pi * doy / 365.25)
    return out


def bucket(values: npt.NDArray[np.object_], buckets: int) -> npt.NDArray[np.int64]:
    """Stable hash buckets (1..buckets-1; 0 is kept for 'unknown', i.e. an empty string)."""
    out = np.zeros(len(values), np.int64)
    for i, value in enumerate(values.tolist()):
        if value:
            digest = hashlib.blake2b(str(value).encode(), digest_size=8).digest()
            out[i] = 1 + int.from_bytes(digest, "little") % (buckets - 1)
    return out


def windows(
    history: DemandHistory,
    static_ids: npt.NDArray[np.int64],
    rows: npt.NDArray[np.int64],
    origins: npt.NDArray[np.int64],
    context: int,
    horizon: int,
    with_target: bool,
    *,
    yearly: bool,
    locations: npt.NDArray[np.object_] | None = None,
) -> Batch:
    """Windows of series ``rows`` whose last context day is column ``origins - 1`` (``origins`` exclusive).

    Columns before the history are treated as unobserved; for prediction, ``origins`` may equal the number of
    columns (the future lies beyond the history). ``yearly``: the model's choice (see the module docstring).
    ``locations``: ``[n]`` per series, for the SNAP flags; ``None`` builds the first layout (no flags).
    """
    demand = history.demand
    t = demand.shape[1]
    offsets = np.arange(-context, 0)[None, :] + origins[:, None]  # [b, C]
    inside = offsets >= 0
    cols = np.clip(offsets, 0, t - 1)
    r = rows[:, None]
    observed = history.observed[r, cols] & inside
    y = np.where(observed, demand[r, cols], 0.0).astype(np.float32)
    count = observed.sum(axis=1)
    scale = (1.0 + y.sum(axis=1) / np.maximum(count, 1)).astype(np.float32)

    flags = locations is not None
    past = np.zeros((len(rows), context, PAST if flags else PAST_V1), np.float32)
    past[..., 0] = y / scale[:, None]
    past[..., 1] = observed
    if history.clicks is not None:
        clicks = np.where(inside[..., None], history.clicks[r, cols], 0.0)
        past[..., 2 : 2 + len(ClickAction)] = np.log1p(clicks / scale[:, None, None])
    price_at = 2 + len(ClickAction)
    last_ratio = np.zeros(len(rows), np.float32)
    if history.price is not None:
        price = np.where(inside, history.price[r, cols], np.nan)
        known = ~np.isnan(price)
        mean_price = np.nansum(price, axis=1) / np.maximum(known.sum(axis=1), 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(known & (mean_price[:, None] > 0), np.log(price / mean_price[:, None]), 0.0)
        ratio = np.nan_to_num(ratio, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)
        past[..., price_at] = ratio
        past[..., price_at + 1] = known
        last_known = np.where(known, np.arange(context)[None, :], -1).max(axis=1)
        last_ratio = np.where(last_known >= 0, ratio[np.arange(len(rows)), np.maximum(last_known, 0)], 0.0)
    day0 = history.start_day
    past[..., price_at + 2 : PAST_V1] = calendar(day0 + offsets, yearly)

    future_days = day0 + origins[:, None] + np.arange(horizon)[None, :]
    future = np.zeros((len(rows), horizon, FUTURE if flags else FUTURE_V1), np.float32)
    future[..., :CALENDAR] = calendar(future_days, yearly)
    future[..., CALENDAR] = last_ratio[:, None]
    future[..., CALENDAR + 1] = (np.arange(horizon) + 1) / horizon
    if locations is not None and history.calendar is not None:
        where = locations[rows]
        for block, days, at in ((past, day0 + offsets, PAST_V1), (future, future_days, FUTURE_V1)):
            block[..., at] = history.calendar.events_on(days)
            block[..., at + 1] = history.calendar.snap_on(where, days)

    target = target_observed = None
    if with_target:
        tcols = origins[:, None] + np.arange(horizon)[None, :]
        target = demand[r, tcols].astype(np.float32)
        target_observed = history.observed[r, tcols]
    return Batch(past, future, static_ids[rows], np.log(scale), scale, target, target_observed)
