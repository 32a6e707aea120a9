"""Days known in advance to be special: events and holidays, and SNAP days per region (``--calendar PATH``).

Why a table of its own: the long table has a row only where something sold, and a forecast needs the flags of
days that have not happened yet; a calendar lists every day, past and future, once.

Format (parquet or CSV, one row per date; the M5 ``calendar`` file is one): ``date``, then any of
- ``event`` or ``event_name_*`` columns: a day is an event day when any of them is non-empty;
- ``snap_<REGION>`` columns of 0/1: SNAP (food-stamp) days of that region.
Other columns are ignored. Days missing from the table have no event and no SNAP. A series belongs to the
region named like its location, or like the part of its location before the first ``_`` (M5's store ``CA_1``
is in state ``CA``); a series of no region has no SNAP days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from forecasting.errors import ForecastError
from forecasting.table_file import read_table

_EPOCH = np.datetime64("1970-01-01", "D")


class CalendarError(ForecastError):
    """The calendar table is malformed: no date column, duplicate or unparseable dates, SNAP flags not 0/1."""


@dataclass(frozen=True)
class EventCalendar:
    """Flags per day from ``first_day`` (days since 1970-01-01): ``event`` ``[D]`` and ``snap[region]`` ``[D]``."""

    first_day: int
    event: npt.NDArray[np.bool_]
    snap: dict[str, npt.NDArray[np.bool_]] = field(default_factory=dict)

    def _on(self, flags: npt.NDArray[np.bool_], days: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        if not len(flags):
            return np.zeros(days.shape, np.float32)
        index = days - self.first_day
        inside = (index >= 0) & (index < len(flags))
        return np.where(inside, flags[np.clip(index, 0, len(flags) - 1)], False).astype(np.float32)

    def events_on(self, days: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        """1 on event days, 0 elsewhere (also outside the table), any shape."""
        return self._on(self.event, days)

    def region_of(self, location: str) -> str | None:
        if location in self.snap:
            return location
        prefix = location.split("_", 1)[0]
        return prefix if prefix in self.snap else None

    def snap_on(self, locations: npt.NDArray[np.object_], days: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        """``[b, k]`` SNAP flags of the series at ``locations`` ``[b]`` on ``days`` ``[b, k]``."""
        out = np.zeros(days.shape, np.float32)
        regions = np.array([self.region_of(str(loc)) or "" for loc in locations.tolist()], dtype=object)
        for region, flags in self.snap.items():
            rows = regions == region
            if rows.any():
                out[rows] = self._on(flags, days[rows])
        return out


def read_calendar(path: str | Path) -> EventCalendar:
    """Read a parquet or CSV calendar (chosen by the file suffix)."""
    missing = "no such calendar file; pass a parquet or CSV table with a date column"
    return calendar_from_frame(read_table(path, CalendarError, missing))


def calendar_from_frame(frame: pd.DataFrame) -> EventCalendar:
    if "date" not in frame.columns:
        raise CalendarError(f"calendar: no 'date' column (columns: {list(frame.columns)})")
    dates = pd.to_datetime(frame["date"], errors="coerce")
    bad = np.flatnonzero(dates.isna().to_numpy())
    if bad.size:
        raise CalendarError(f"calendar: unparseable date in rows {bad[:5].tolist()}: {frame['date'].iloc[bad[0]]!r}")
    days = (dates.to_numpy().astype("datetime64[D]") - _EPOCH).astype(np.int64)
    repeated = np.flatnonzero(pd.Series(days).duplicated().to_numpy())
    if repeated.size:
        raise CalendarError(
            f"calendar: date {frame['date'].iloc[repeated[0]]} appears twice (rows {repeated[:5].tolist()})"
        )
    first = int(days.min()) if days.size else 0
    length = int(days.max()) - first + 1 if days.size else 0
    index = days - first

    def spread(values: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        out = np.zeros(length, bool)
        out[index] = values
        return out

    event_columns = [c for c in frame.columns if c == "event" or str(c).startswith("event_name")]
    named = np.zeros(len(frame), bool)
    for column in event_columns:
        text = frame[column].astype("string").fillna("").str.strip()
        named |= (text != "").to_numpy()
    snap: dict[str, npt.NDArray[np.bool_]] = {}
    for column in (c for c in frame.columns if str(c).startswith("snap_")):
        values = pd.to_numeric(frame[column], errors="coerce")
        wrong = np.flatnonzero(~values.isin([0, 1]).to_numpy())
        if wrong.size:
            raise CalendarError(f"calendar: {column} must be 0 or 1; rows {wrong[:5].tolist()} are not")
        snap[str(column).removeprefix("snap_")] = spread(values.to_numpy() == 1)
    return EventCalendar(first, spread(named), snap)
