"""``restock orders-table``, ``train``, ``forecast`` and ``backtest`` through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.commands import FORECAST_COLUMNS, QUANTILE_COLUMNS
from tests.conftest import Cli
from tests.streams.test_order_lines import HEADER, ROWS

FIXTURE_MODEL = Path(__file__).parents[1] / "forecasting" / "data" / "lstm_format1"


def _long_table(path: Path, series: int = 8, days: int = 150, short: bool = True) -> Path:
    rng = np.random.default_rng(4)
    dates = pd.date_range("2024-01-01", periods=days, freq="D")
    week = np.array([1, 1, 1, 2, 4, 6, 3], float)
    rows = []
    for i in range(series):
        y = rng.poisson(rng.uniform(1, 5) * week[dates.dayofweek.to_numpy()])
        rows += [(f"sku{i}|S1", d.date(), q, 2.5) for d, q in zip(dates, y, strict=True) if q > 0]
    if short:  # a new item: five days of sales at the very end
        rows += [("new|S1", d.date(), 3, 1.0) for d in dates[-5:]]
    frame = pd.DataFrame(rows, columns=["id", "date", "quantity", "price"])
    frame.to_csv(path, index=False)
    return path


def test_orders_table_converts_order_lines(tmp_path: Path, cli: Cli) -> None:
    lines = tmp_path / "lines.csv"
    lines.write_text("\n".join([HEADER, *ROWS]) + "\n")
    code, out, _ = cli("orders-table", "--orders", str(lines), "--preset", "online-retail", "--out",
                        str(tmp_path / "t.parquet"))  # fmt: skip
    assert code == 0, out
    table = pd.read_parquet(tmp_path / "t.parquet")
    assert list(table.columns) == ["id", "date", "quantity", "price"] and len(table) == 5
    assert "5 series" in out
    code, _, err = cli("orders-table", "--orders", str(lines), "--out", str(tmp_path / "t.parquet"))
    assert code == 2 and "--col-order-id" in err


def test_forecast_every_series_with_the_contract_columns(tmp_path: Path, cli: Cli) -> None:
    data = _long_table(tmp_path / "sales.csv")
    out = tmp_path / "f.parquet"
    code, stdout, stderr = cli("forecast", "--model", str(FIXTURE_MODEL), "--data", str(data), "--horizon", "28",
                                "--out", str(out), "--device", "cpu")  # fmt: skip
    assert code == 0, stderr
    frame = pd.read_parquet(out)
    assert tuple(frame.columns) == FORECAST_COLUMNS
    assert frame["id"].nunique() == 9 and len(frame) == 9 * 28
    assert pd.to_datetime(frame["date"]).min() == pd.Timestamp("2024-01-01") + pd.Timedelta(days=150)
    quantiles = frame[list(QUANTILE_COLUMNS)].to_numpy()
    assert np.all(np.diff(quantiles, axis=1) >= 0) and np.all(quantiles >= 0)
    methods = frame.drop_duplicates("id").set_index("id")["method"]
    assert methods["new|S1"] == "tsb_fallback" and (methods.drop("new|S1") == "lstm").all()
    assert "tsb_fallback" in stdout


def test_malformed_data_exits_2_naming_the_problem(tmp_path: Path, cli: Cli) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("id,date,quantity\na,2024-01-01,3\na,2024-01-02,-1\n")
    code, _, err = cli("forecast", "--model", str(FIXTURE_MODEL), "--data", str(bad), "--out",
                        str(tmp_path / "f.parquet"))  # fmt: skip
    assert code == 2 and "column 'quantity'" in err and "negative" in err
    code, _, err = cli("forecast", "--model", str(tmp_path), "--data", str(bad), "--out", str(tmp_path / "f.parquet"))
    assert code == 2 and "config.json" in err


@pytest.mark.parametrize(("kind", "method"), [("lstm", "lstm"), ("ensemble", "ensemble")])
def test_train_writes_a_model_that_forecast_reads(tmp_path: Path, cli: Cli, kind: str, method: str) -> None:
    data = _long_table(tmp_path / "sales.csv", series=6, days=120, short=False)
    model = tmp_path / "model"
    code, stdout, stderr = cli("train", "--data", str(data), "--out", str(model), "--device", "cpu", "--seed", "1",
                               "--max-epochs", "1", "--kind", kind)  # fmt: skip
    assert code == 0, stderr
    config = json.loads((model / "config.json").read_text())
    lstm = config if kind == "lstm" else json.loads((model / "lstm" / "config.json").read_text())
    assert lstm["training"]["seed"] == 1 and lstm["facts"]["series"] == 6
    assert "fit epoch 1/1" in stderr and config["model_version"] in stdout
    code, _, stderr = cli("forecast", "--model", str(model), "--data", str(data), "--out", str(tmp_path / "f.parquet"))
    assert code == 0, stderr
    assert set(pd.read_parquet(tmp_path / "f.parquet")["method"]) == {method}


def test_backtest_prints_a_table_and_a_json_last_line(tmp_path: Path, cli: Cli) -> None:
    data = _long_table(tmp_path / "sales.csv", short=False)
    code, stdout, stderr = cli("backtest", "--data", str(data), "--origins", "2", "--horizon", "14", "--models",
                                "moving_average,tsb,seasonal_naive", "--no-statsforecast", "--out",
                                str(tmp_path / "bt"))  # fmt: skip
    assert code == 0, stderr
    report = json.loads(stdout.strip().splitlines()[-1])
    assert set(report["models"]) == {"moving_average", "tsb", "seasonal_naive"}
    assert all({"wrmsse", "wspl", "bias", "p90_coverage"} <= set(s) for s in report["models"].values())
    assert stdout.splitlines()[0].startswith("model")
    scores = pd.read_csv(tmp_path / "bt" / "scores.csv")
    assert len(scores) == 3 * 2 * 8
    assert (tmp_path / "bt" / "fans.png").stat().st_size > 1000
    code, _, err = cli("backtest", "--data", str(data), "--models", "prophet", "--no-statsforecast")
    assert code == 2 and "unknown model" in err


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_forecast_output_must_be_parquet(tmp_path: Path, cli: Cli, suffix: str) -> None:
    data = _long_table(tmp_path / "sales.csv", series=2)
    code, _, err = cli("forecast", "--model", str(FIXTURE_MODEL), "--data", str(data), "--out",
                        str(tmp_path / f"f{suffix}"))  # fmt: skip
    assert code == 2 and "parquet" in err


def test_train_and_forecast_take_a_calendar_and_a_bad_one_exits_2(tmp_path: Path, cli: Cli) -> None:
    data = _long_table(tmp_path / "sales.csv", series=4, days=90, short=False)
    dates = pd.date_range("2023-01-01", "2025-12-31", freq="7D").strftime("%Y-%m-%d")
    pd.DataFrame({"date": dates, "event": "weekly promo"}).to_csv(tmp_path / "calendar.csv", index=False)
    model = tmp_path / "model"
    code, _, stderr = cli("train", "--data", str(data), "--out", str(model), "--device", "cpu", "--max-epochs", "1",
                          "--kind", "lstm", "--calendar", str(tmp_path / "calendar.csv"))  # fmt: skip
    assert code == 0, stderr
    assert json.loads((model / "config.json").read_text())["facts"]["event_calendar"] is True
    out = tmp_path / "f.parquet"
    code, _, stderr = cli("forecast", "--model", str(model), "--data", str(data), "--out", str(out), "--calendar",
                          str(tmp_path / "calendar.csv"))  # fmt: skip
    assert code == 0, stderr
    assert len(pd.read_parquet(out)) == 4 * 28
    (tmp_path / "bad.csv").write_text("date,snap_CA\n2024-01-01,7\n")
    code, _, err = cli("forecast", "--model", str(model), "--data", str(data), "--out", str(out), "--calendar",
                       str(tmp_path / "bad.csv"))  # fmt: skip
    assert code == 2 and "snap_CA must be 0 or 1" in err
