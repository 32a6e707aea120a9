"""Policy comparison: the min/max inventory reduction on hand-made curves, the oracle bound, `restock simulate`."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.long_table import series_from_frame
from forecasting.synthetic import generate_catalog
from policies import PolicyError
from policies.simulation.compare import (
    ComparisonInput,
    ComparisonPlan,
    PolicyPoint,
    compare_policies,
    draw_supplier_lead_times,
    inventory_reduction,
    value_at_fill_rate,
)
from streams.simulate_command import Economics, table_case
from tests.conftest import Cli


def point(policy: str, fill_rate: float, value: float, orders: int) -> PolicyPoint:
    return PolicyPoint(policy=policy, review_days=1, censored=None, target_csl=None, fill_rate=fill_rate,
                       value_fill_rate=fill_rate, csl=0.9,
                       stockout_days=0, avg_inventory_units=value, avg_inventory_value=value, turns=1.0,
                       orders=orders, ordering_cost=0.0, holding_cost=0.0, stockout_cost=0.0,
                       total_cost=2 * value)  # fmt: skip


def test_value_at_fill_rate_interpolates_inside_the_curve_only() -> None:
    rates, values = [0.95, 0.8, 0.9], [300.0, 100.0, 200.0]  # unordered on purpose
    assert value_at_fill_rate(rates, values, 0.85) == pytest.approx(150.0)
    assert value_at_fill_rate(rates, values, 0.925) == pytest.approx(250.0)
    assert value_at_fill_rate(rates, values, 0.8) == pytest.approx(100.0)
    assert value_at_fill_rate(rates, values, 0.79) is None
    assert value_at_fill_rate(rates, values, 0.96) is None
    assert value_at_fill_rate([float("nan"), 0.9], [1.0, 5.0], 0.9) == pytest.approx(5.0)
    with pytest.raises(PolicyError, match="fill_rates"):
        value_at_fill_rate([0.9], [1.0, 2.0], 0.9)


def test_inventory_reduction_on_hand_made_curves() -> None:
    min_max = point("min_max", 0.9, 1000.0, 50)
    curves = {
        # at 0.9: value 800, orders 40 -> 20 % saved, eligible
        "a": [point("a", 0.85, 600.0, 40), point("a", 0.95, 1000.0, 40)],
        # at 0.9: value 400 (60 % saved) but 100 orders: not eligible
        "b": [point("b", 0.80, 300.0, 100), point("b", 1.00, 500.0, 100)],
        # never as low as 0.9: not read
        "c": [point("c", 0.92, 100.0, 10), point("c", 0.99, 200.0, 10)],
        # at 0.9: value 700 (30 % saved), orders interpolated 60 -> 40 at the middle: 50, as many as min/max
        "d": [point("d", 0.88, 600.0, 60), point("d", 0.92, 800.0, 40)],
    }
    best, policy, readings = inventory_reduction(curves, min_max)
    assert policy == "d"
    assert best == pytest.approx(0.3)
    by_name = {r.policy: r for r in readings}
    assert by_name["a"].reduction == pytest.approx(0.2) and by_name["a"].eligible
    assert by_name["a"].inventory_value == pytest.approx(800.0) and by_name["a"].orders == pytest.approx(40.0)
    assert by_name["a"].total_cost == pytest.approx(1600.0)  # interpolated like the value
    assert by_name["b"].reduction == pytest.approx(0.6) and not by_name["b"].eligible
    assert by_name["c"].inventory_value is None and by_name["c"].reduction is None and not by_name["c"].eligible
    assert by_name["c"].fill_rate_range == (0.92, 0.99)
    assert by_name["d"].orders == pytest.approx(50.0) and by_name["d"].eligible
    # a saving that is a loss still counts when it is the best eligible one
    worse, name, _ = inventory_reduction({"e": [point("e", 0.8, 1200.0, 5), point("e", 1.0, 1400.0, 5)]}, min_max)
    assert name == "e" and worse == pytest.approx(-0.3)
    assert inventory_reduction({"b": curves["b"]}, min_max)[:2] == (None, None)


def small_input(series: int = 16, simulate_days: int = 60, warmup: int = 90) -> ComparisonInput:
    catalog = generate_catalog(series, 1, warmup + simulate_days, 3, date(2024, 1, 1))
    mean, std = draw_supplier_lead_times(series, 3)
    return ComparisonInput(demand=np.rint(catalog.demand).astype(np.int64), unit_value=np.asarray(catalog.unit_cost),
                           lead_time_days=mean, lead_time_std_days=std, simulate_days=simulate_days,
                           seed=3)  # fmt: skip


def test_warm_up_is_prior_history_and_lead_times_are_in_range() -> None:
    data = small_input()
    setup = data.setup(7)
    assert data.warmup_days == 90 and setup.days == 60 and setup.review_days == 7
    np.testing.assert_array_equal(setup.prior_sales, data.demand[:, :90])
    np.testing.assert_array_equal(setup.demand, data.demand[:, 90:])
    assert setup.start_day == 90
    np.testing.assert_array_equal(data.setup(1).lead_times, setup.lead_times)  # same supplier for every R
    assert np.all((data.lead_time_days >= 2) & (data.lead_time_days <= 14))
    np.testing.assert_allclose(setup.costs.holding_cost, 0.25 / 365 * data.unit_value)
    with pytest.raises(PolicyError, match="simulate_days"):
        ComparisonInput(demand=data.demand, unit_value=data.unit_value, lead_time_days=data.lead_time_days,
                        lead_time_std_days=data.lead_time_std_days, simulate_days=150)  # fmt: skip


def test_oracle_costs_no_more_than_any_policy() -> None:
    plan = ComparisonPlan(targets=(0.6, 0.9, 0.99), review_days=(1, 7))
    result = compare_policies(small_input(), plan)
    others = [p for p in result.points if p.policy != "oracle"]
    # targets x R x censor modes x calibrated or not, the exchange policy's penalties x budgets x censor modes,
    # and min/max
    assert len(others) == 3 * 2 * 2 * 2 + 9 * 5 * 2 * 2 + 1
    assert all(result.oracle.total_cost <= p.total_cost for p in others)
    assert result.oracle_cost_gap >= 0
    cheapest = min(others, key=lambda p: p.total_cost)
    assert result.cheapest == cheapest.label
    assert result.oracle_cost_gap == pytest.approx((cheapest.total_cost - result.oracle.total_cost)
                                                   / result.oracle.total_cost)  # fmt: skip
    assert sum(result.oracle_review_choice.values()) == result.n
    for curve in result.curves().values():
        assert all(0.0 <= p.fill_rate <= 1.0 and p.orders >= 0 and p.avg_inventory_value >= 0 for p in curve)


def test_simulate_command_prints_the_json_last(tmp_path: Path, cli: Cli) -> None:
    out = tmp_path / "sim"
    code, stdout, err = cli("simulate", "--synthetic", "--max-series", "10", "--days", "40", "--targets", "0.8,0.95",
                            "--review-days", "1,7", "--out", str(out))  # fmt: skip
    assert code == 0, err
    report = json.loads(stdout.strip().splitlines()[-1])
    assert report["case"] == "synthetic" and report["series"] == 10 and report["simulated_days"] == 40
    policies = report["policies"]
    order_up_to = {f"order_up_to_R{r}_{c}{k}" for r in (1, 7) for c in ("censored", "uncensored")
                   for k in ("", "_calibrated")}  # fmt: skip
    exchange = {f"{kind}_R1_x{m}_{c}" for kind in ("exchange", "exchange_value")
                for m in ("1", "1.25", "1.5", "1.75", "2") for c in ("censored", "uncensored")}  # fmt: skip
    assert set(policies) == order_up_to | exchange | {"min_max", "oracle"}
    for name, points in policies.items():
        for entry in points:
            assert {"fill_rate", "value_fill_rate", "csl", "target_csl", "avg_inventory_value", "orders", "total_cost",
                    "turns", "stockout_days", "avg_inventory_units", "shortage_penalty"} <= set(entry)  # fmt: skip
        expected = [0.8, 0.95] if name in order_up_to else [None] * (9 if name in exchange else 1)
        assert [p["target_csl"] for p in points] == expected
        penalties = [p["shortage_penalty"] for p in points]
        assert (penalties == sorted(penalties) and all(b > 0 for b in penalties)) if name in exchange else (
            penalties == [None] * len(points))  # fmt: skip
    assert set(report["csl_minus_target_at_90_95_98"]) == order_up_to  # 0.95 was run, 0.9 and 0.98 were not
    assert report["csl_within_2_points"] == dict.fromkeys(order_up_to, False)  # not every target was run
    assert "inventory_reduction_vs_minmax" in report and "inventory_reduction_policy" in report
    assert isinstance(report["oracle_cost_gap"], float) and report["oracle_cost_gap_policy"]
    assert (out / "tradeoff.png").stat().st_size > 0
    assert json.loads((out / "summary.json").read_text()) == report
    assert "min_max" in stdout and "oracle cost gap" in stdout


def test_simulate_command_leaves_out_calibration_and_the_exchange_policy_on_request(tmp_path: Path, cli: Cli) -> None:
    code, stdout, err = cli("simulate", "--synthetic", "--max-series", "6", "--days", "30", "--targets", "0.9",
                            "--review-days", "7", "--no-calibrate", "--exchange-penalties", "",
                            "--exchange-value-penalties", "", "--out", str(tmp_path))  # fmt: skip
    assert code == 0, err
    report = json.loads(stdout.strip().splitlines()[-1])
    assert set(report["policies"]) == {"order_up_to_R7_censored", "order_up_to_R7_uncensored", "min_max", "oracle"}
    code, _, err = cli("simulate", "--synthetic", "--exchange-orders", "1,x", "--out", str(tmp_path))
    assert code == 2 and "--exchange-orders" in err


def test_simulate_command_runs_a_trained_model(tmp_path: Path, cli: Cli) -> None:
    model = Path(__file__).resolve().parents[1] / "forecasting" / "data" / "lstm_format1"
    code, stdout, err = cli("simulate", "--synthetic", "--max-series", "6", "--days", "30", "--targets", "0.9",
                            "--review-days", "7", "--no-calibrate", "--exchange-penalties", "",
                            "--exchange-value-penalties", "", "--model", str(model), "--device", "cpu",
                            "--out", str(tmp_path))  # fmt: skip
    assert code == 0, err
    report = json.loads(stdout.strip().splitlines()[-1])
    assert report["forecaster"].startswith("lstm"), report["forecaster"]
    assert report["policies"]["order_up_to_R7_censored"][0]["orders"] > 0


def test_simulate_command_reads_a_long_table(tmp_path: Path, cli: Cli) -> None:
    rng = np.random.default_rng(1)
    dates = pd.date_range("2024-01-01", periods=100, freq="D")
    rows = [(f"sku{i}|S1", d.date(), int(q), 2.0 + i) for i in range(5)
            for d, q in zip(dates, rng.poisson(3.0, len(dates)), strict=True) if q > 0]  # fmt: skip
    path = tmp_path / "table.csv"
    pd.DataFrame(rows, columns=["id", "date", "quantity", "price"]).to_csv(path, index=False)
    code, stdout, err = cli("simulate", "--data", str(path), "--days", "30", "--max-series", "3", "--targets", "0.9",
                            "--review-days", "7", "--out", str(tmp_path / "o"))  # fmt: skip
    assert code == 0, err
    report = json.loads(stdout.strip().splitlines()[-1])
    assert report["case"] == "table" and report["series"] == 3 and report["warmup_days"] == 70
    assert "synthetic" not in report


def test_simulate_command_exits_2_without_the_order_lines(tmp_path: Path, cli: Cli) -> None:
    missing = tmp_path / "orders.parquet"
    code, _, err = cli("simulate", "--orders", str(missing), "--preset", "online-retail", "--out", str(tmp_path))
    assert code == 2
    assert "no such order-line file" in err and str(missing) in err
    code, _, err = cli("simulate", "--synthetic", "--targets", "0.4", "--out", str(tmp_path))
    assert code == 2 and "targets" in err


def test_unit_value_is_the_quantity_weighted_price() -> None:
    days = pd.date_range("2024-01-01", periods=40, freq="D").date
    rows = [("a|S1", d, 1 if k % 2 else 3, 1.0 if k % 2 else 3.0) for k, d in enumerate(days)]
    rows += [("b|S1", d, 2, 5.0) for d in days[::3]]
    frame = pd.DataFrame(rows, columns=["id", "date", "quantity", "price"])
    case = table_case("t", series_from_frame(frame), days=10, max_series=None, economics=Economics())
    # a: 20 days of 3 units at 3.0 and 20 days of 1 unit at 1.0 -> (180 + 20) / 80 = 2.5
    assert list(case.data.series_ids) == ["a|S1", "b|S1"]
    np.testing.assert_allclose(case.data.unit_value, [2.5, 5.0])
    assert case.data.warmup_days == 30 and case.data.simulate_days == 10
    only = table_case("t", series_from_frame(frame), days=10, max_series=1, economics=Economics())
    assert list(only.data.series_ids) == ["a|S1"]  # the most days with sales
