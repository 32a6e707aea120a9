from __future__ import annotations

import numpy as np
import pytest

from forecasting import ClickAction, DemandHistory, ForecastError, HistoryError

from .conftest import make_history


def test_shapes_and_helpers() -> None:
    history = make_history([[1, 2, 3], [4, 5, 6]], end_day=100)
    assert history.n == 2
    assert history.days == 3
    assert history.start_day == 98
    assert history.day_numbers().tolist() == [98, 99, 100]
    assert history.demand.dtype == np.float32
    assert history.observed_days().tolist() == [3, 3]


def test_converts_numeric_dtypes_to_float32() -> None:
    history = DemandHistory(
        series_ids=np.array(["a"]),
        demand=np.array([[1, 2]], dtype=np.int64),
        end_day=5,
        observed=np.ones((1, 2), dtype=bool),
        price=np.array([[np.nan, 2.5]]),
        clicks=np.zeros((1, 2, 4), dtype=np.float32),
    )
    assert history.demand.dtype == np.float32
    assert history.price is not None and history.price.dtype == np.float32
    assert history.clicks is not None and history.clicks.shape == (1, 2, len(ClickAction))


def test_nan_demand_allowed_only_where_unobserved() -> None:
    make_history([[np.nan, 1.0]], observed=[[False, True]])
    with pytest.raises(HistoryError, match="demand"):
        make_history([[np.nan, 1.0]], observed=[[True, True]])


def test_error_is_value_error_subclass() -> None:
    assert issubclass(HistoryError, ForecastError)
    assert issubclass(ForecastError, ValueError)


ids = np.array(["a", "b"])
ok_demand = np.zeros((2, 3), dtype=np.float32)
ok_mask = np.ones((2, 3), dtype=bool)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"series_ids": np.array([["a", "b"]])}, "series_ids"),
        ({"series_ids": np.array([1, 2])}, "series_ids"),
        ({"demand": np.zeros((3, 3))}, "demand"),
        ({"demand": np.zeros(2)}, "demand"),
        ({"demand": np.zeros((2, 0))}, "demand"),
        ({"demand": np.array([["x"] * 3] * 2)}, "demand"),
        ({"demand": -np.ones((2, 3))}, "demand"),
        ({"end_day": 1.5}, "end_day"),
        ({"end_day": True}, "end_day"),
        ({"observed": np.ones((2, 3), dtype=np.int8)}, "observed"),
        ({"observed": np.ones((2, 2), dtype=bool)}, "observed"),
        ({"clicks": np.zeros((2, 3, 3))}, "clicks"),
        ({"clicks": -np.ones((2, 3, 4))}, "clicks"),
        ({"price": np.zeros((2, 4))}, "price"),
        ({"price": np.full((2, 3), -1.0)}, "price"),
        ({"price": np.full((2, 3), np.inf)}, "price"),
    ],
)
def test_rejects_bad_fields_naming_them(kwargs: dict[str, object], name: str) -> None:
    fields: dict[str, object] = {"series_ids": ids, "demand": ok_demand, "end_day": 10, "observed": ok_mask}
    fields.update(kwargs)
    with pytest.raises(HistoryError, match=rf"^{name}:"):
        DemandHistory(**fields)  # type: ignore[arg-type]
