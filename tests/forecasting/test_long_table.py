from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.long_table import LongTableError, read_long_table, series_from_frame


def frame(**extra: list) -> pd.DataFrame:
    base = {
        "id": ["B", "A", "A", "B"],
        "date": ["2024-01-03", "2024-01-01", "2024-01-03", "2024-01-04"],
        "quantity": [2, 1, 5, 0],
    }
    return pd.DataFrame(base | extra)


def test_missing_rows_are_zero_sales_and_days_before_the_first_sale_unobserved() -> None:
    table = series_from_frame(frame(price=[1.5, 2.0, None, 1.5], category=["x", "y", "y", "x"]))
    history = table.history
    assert history.series_ids.tolist() == ["A", "B"]
    assert history.demand.tolist() == [[1, 0, 5, 0], [0, 0, 2, 0]]
    assert history.observed.tolist() == [[True] * 4, [False, False, True, True]]
    assert history.end_day == (pd.Timestamp("2024-01-04") - pd.Timestamp("1970-01-01")).days
    assert history.price is not None and np.isnan(history.price[0, 2]) and history.price[1, 2] == 1.5
    assert table.category.tolist() == ["y", "x"] and table.location.tolist() == ["", ""]


def test_click_columns_become_the_click_channels() -> None:
    history = series_from_frame(frame(clicks_view=[3, 1, 0, 0], clicks_purchase=[1, 0, 0, 0])).history
    assert history.clicks is not None and history.clicks[1, 2].tolist() == [3, 0, 0, 1]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"quantity": [2, 1, -5, 0]}, r"negative values in rows \[2\]"),
        ({"date": ["2024-01-03", "yesterday", "2024-01-03", "2024-01-04"]}, r"unparseable dates \['yesterday'\]"),
        (
            {"id": ["B", "A", "A", "A"], "date": ["2024-01-03", "2024-01-01", "2024-01-01", "2024-01-04"]},
            r"duplicate \(id, date\) in rows \[1, 2\]",
        ),
        ({"quantity": [2, 1, "lots", 0]}, r"column 'quantity': non-numeric values in rows \[2\]"),
    ],
)
def test_malformed_tables_name_the_column_and_rows(change: dict, message: str) -> None:
    with pytest.raises(LongTableError, match=message):
        series_from_frame(frame(**change))


def test_files_are_read_by_suffix(tmp_path: Path) -> None:
    frame().to_csv(tmp_path / "sales.csv", index=False)
    frame().to_parquet(tmp_path / "sales.parquet")
    for name in ("sales.csv", "sales.parquet"):
        assert read_long_table(tmp_path / name).history.demand.sum() == 8
    with pytest.raises(LongTableError, match="missing column"):
        series_from_frame(frame().drop(columns=["quantity"]))
    with pytest.raises(LongTableError, match="no such file"):
        read_long_table(tmp_path / "absent.csv")


def test_observed_false_censors_its_day_and_days_without_a_row_keep_the_first_row_rule() -> None:
    history = series_from_frame(frame(observed=[True, True, False, False])).history
    # A: rows on days 0 and 2 (day 2 censored), day 1 and 3 have no row; B: rows on days 2 and 3 (day 3 censored)
    assert history.observed.tolist() == [[True, True, False, True], [False, False, True, False]]
    assert history.demand.tolist() == [[1, 0, 5, 0], [0, 0, 2, 0]]


def test_observed_is_read_from_csv_text(tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    frame(observed=["true", "TRUE", "false", "1"]).to_csv(path, index=False)
    assert read_long_table(path).history.observed.tolist() == [[True, True, False, True], [False, False, True, True]]
    assert series_from_frame(frame(observed=[1, 1, 0, 1])).history.observed[0, 2].item() is False


@pytest.mark.parametrize(
    ("values", "rows"),
    [
        (["yes", True, True, "maybe"], r"\['yes', 'maybe'\] in rows \[0, 3\]"),
        ([True, None, True, 2], r"\['None', '2'\] in rows \[1, 3\]"),
        ([1.0, 0.0, 1.0, float("nan")], r"\['nan'\] in rows \[3\]"),
    ],
)
def test_non_boolean_observed_values_name_the_column_and_rows(values: list, rows: str) -> None:
    with pytest.raises(LongTableError, match=r"column 'observed': non-boolean values " + rows):
        series_from_frame(frame(observed=values))
