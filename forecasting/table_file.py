"""The one file reader of the tables restock takes (long tables, calendars): parquet or CSV by the suffix."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from forecasting.errors import ForecastError


def read_table(
    path: str | Path, error: type[ForecastError], missing: str, csv_dtype: dict[str, type] | None = None
) -> pd.DataFrame:
    """``path`` as a DataFrame; a missing file raises ``error`` with ``missing`` (what to pass instead), an
    unknown suffix says which ones are read."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: {missing}")
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    if path.suffix.lower() in (".csv", ".gz"):
        return pd.read_csv(path, dtype=csv_dtype)
    raise error(f"{path}: unknown format {path.suffix!r}; use .parquet or .csv")
