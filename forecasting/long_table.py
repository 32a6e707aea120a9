"""A long table of daily sales (``id, date, quantity`` plus optional columns) as one dense batch of series.

The input format of ``restock train`` / ``forecast`` / ``backtest``: one row per series and day with sales; a
missing (id, date) row means zero sales. Optional columns: ``price`` (unit price that day), ``location``,
``category`` (static per series: the first value seen), and click counts ``clicks_view``,
``clicks_add_to_cart``, ``clicks_remove_from_cart``, ``clicks_purchase``, and ``observed`` (boolean).
Reading a file is the only I/O here; :func:`series_from_frame` works on a DataFrame already in memory.

Which days are observed (carry information about demand): a series is observed from its first row on; days
before it are not. A row with ``observed`` false makes its day unobserved too: the day is censored (a stockout
day, say), so its zero or low sales are not demand. Days without a row follow the first rule. ``observed``
takes booleans, ``true``/``false`` (any case) or ``1``/``0``; an empty cell is an error.
``restock state export`` writes this format from a worker's state (see ``streams.state_export``).

Errors name the column and the first offending rows, so a user can fix their export.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from forecasting.calendar import read_calendar
from forecasting.errors import ForecastError
from forecasting.history import ClickAction, DemandHistory
from forecasting.table_file import read_table

REQUIRED = ("id", "date", "quantity")
CLICK_COLUMNS = tuple(f"clicks_{action.name.lower()}" for action in ClickAction)
_EPOCH = np.datetime64("1970-01-01", "D")


class LongTableError(ForecastError):
    """The long table is malformed: a missing column, duplicate keys, negative or unparseable values."""


@dataclass(frozen=True)
class SeriesTable:
    """Dense daily series from a long table; ``history`` covers every day from the first to the last date."""

    history: DemandHistory
    location: npt.NDArray[np.object_]  # [n] or empty strings where unknown
    category: npt.NDArray[np.object_]


def read_long_table(path: str | Path, calendar: str | Path | None = None) -> SeriesTable:
    """Read a parquet or CSV long table (chosen by the file suffix) and build the series; ``calendar``, a
    ``forecasting.calendar`` table of event and SNAP days, goes with the history."""
    missing = "no such file; pass a parquet or CSV file with columns id, date, quantity"
    series = series_from_frame(read_table(path, LongTableError, missing, csv_dtype={"id": str}))
    if calendar is None:
        return series
    return replace(series, history=replace(series.history, calendar=read_calendar(calendar)))


def series_from_frame(frame: pd.DataFrame) -> SeriesTable:
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise LongTableError(f"missing column(s) {missing}; the table needs {list(REQUIRED)}")
    if frame.empty:
        raise LongTableError("the table has no rows")
    ids = frame["id"].astype(str).to_numpy(dtype=object)
    days = _days(frame["date"])
    quantity = _numbers(frame, "quantity")
    negative = np.flatnonzero(quantity < 0)
    if len(negative):
        raise LongTableError(f"column 'quantity': negative values in rows {_rows(frame, negative)}; net returns "
                             "out before, or set them to 0")  # fmt: skip
    keys = pd.DataFrame({"id": ids, "day": days})
    repeated = np.flatnonzero(keys.duplicated(keep=False).to_numpy())
    if len(repeated):
        raise LongTableError(f"duplicate (id, date) in rows {_rows(frame, repeated)}; sum them into one row first")

    series, row = np.unique(ids, return_inverse=True)
    first_day, last_day = int(days.min()), int(days.max())
    col = days - first_day
    shape = (len(series), last_day - first_day + 1)
    demand = np.zeros(shape, np.float32)
    demand[row, col] = quantity
    observed = np.zeros(shape, bool)
    first_sale = np.full(len(series), shape[1], np.int64)
    np.minimum.at(first_sale, row, col)
    observed[:] = np.arange(shape[1])[None, :] >= first_sale[:, None]
    if "observed" in frame.columns:
        observed[row, col] &= _booleans(frame, "observed")
    price = None
    if "price" in frame.columns:
        price = np.full(shape, np.nan, np.float32)
        price[row, col] = _numbers(frame, "price", allow_nan=True)
    clicks = None
    present = [c for c in CLICK_COLUMNS if c in frame.columns]
    if present:
        clicks = np.zeros((*shape, len(ClickAction)), np.float32)
        for column in present:
            clicks[row, col, CLICK_COLUMNS.index(column)] = _numbers(frame, column)
    history = DemandHistory(series, demand, last_day, observed, clicks=clicks, price=price)
    return SeriesTable(
        history, _static(frame, "location", row, len(series)), _static(frame, "category", row, len(series))
    )


def _days(column: pd.Series) -> npt.NDArray[np.int64]:
    parsed = pd.to_datetime(column, errors="coerce", utc=False)
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if len(bad):
        shown = [str(column.iloc[i]) for i in bad[:3]]
        raise LongTableError(f"column 'date': unparseable dates {shown} in rows {bad[:5].tolist()}; use YYYY-MM-DD")
    values = parsed.dt.tz_localize(None) if parsed.dt.tz is not None else parsed
    day_numbers: npt.NDArray[np.int64] = (values.to_numpy().astype("datetime64[D]") - _EPOCH).astype(np.int64)
    return day_numbers


def _numbers(frame: pd.DataFrame, name: str, allow_nan: bool = False) -> npt.NDArray[np.float64]:
    values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values) & ~(allow_nan & frame[name].isna().to_numpy()))
    if len(bad):
        raise LongTableError(f"column {name!r}: non-numeric values in rows {_rows(frame, bad)}")
    return values


_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


def _booleans(frame: pd.DataFrame, name: str) -> npt.NDArray[np.bool_]:
    column = frame[name]
    if column.dtype == np.bool_:
        return column.to_numpy(dtype=bool)
    text = column.map(_word).to_numpy(dtype=object)
    truth = np.isin(text, list(_TRUE))
    bad = np.flatnonzero(~truth & ~np.isin(text, list(_FALSE)))
    if len(bad):
        shown = [str(column.iloc[i]) for i in bad[:3]]
        raise LongTableError(f"column {name!r}: non-boolean values {shown} in rows {_rows(frame, bad)}; use true or "
                             "false (false: the day is censored, e.g. out of stock)")  # fmt: skip
    return truth


def _word(value: object) -> str | None:
    """``value`` as lower-case text when it may spell a boolean (1.0 may: a CSV column of 1/0 with a blank cell
    is read as floats; missing values may not)."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        value = int(value)
    return str(value).strip().lower() if isinstance(value, str | bool | int | np.bool_ | np.integer) else None


def _rows(frame: pd.DataFrame, positions: npt.NDArray[np.int64]) -> list[object]:
    return [frame.index[i] for i in positions[:5].tolist()]


def _static(frame: pd.DataFrame, name: str, row: npt.NDArray[np.int64], n: int) -> npt.NDArray[np.object_]:
    out = np.full(n, "", dtype=object)
    if name in frame.columns:
        values = frame[name].astype(str).to_numpy(dtype=object)
        first = np.full(n, len(values), np.int64)
        np.minimum.at(first, row, np.arange(len(values)))
        out[:] = values[first]
    return out
