"""Small builders shared by the forecasting tests."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from forecasting import DemandHistory


def make_history(
    demand: list[list[float]], observed: list[list[bool]] | None = None, end_day: int = 20_000
) -> DemandHistory:
    values: npt.NDArray[np.float32] = np.asarray(demand, dtype=np.float32)
    mask = np.ones(values.shape, dtype=bool) if observed is None else np.asarray(observed, dtype=bool)
    ids = np.array([f"sku{i}|store" for i in range(values.shape[0])], dtype=object)
    return DemandHistory(series_ids=ids, demand=values, end_day=end_day, observed=mask)
