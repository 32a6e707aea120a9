"""Parameter tuning: grid = brute force, the GA finds the exact optimum, the budget, the split, `restock tune`."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.normal import standard_normal_ppf
from forecasting.synthetic import generate_catalog
from policies import PolicyError
from policies.simulation.compare import ComparisonInput, draw_supplier_lead_times
from policies.tuning import (
    Evaluation,
    GeneticSettings,
    SearchSpace,
    TuningObjective,
    TuningParams,
    genetic_search,
    grid_search,
    rank,
    split_periods,
    tune_category,
)
from tests.conftest import Cli

SPACE = SearchSpace(service_levels=(0.6, 0.8, 0.95), review_days=(1, 7), multipliers=(0.5, 1.0, 1.5))


@pytest.fixture(scope="module")
def periods() -> tuple[ComparisonInput, ComparisonInput]:
    """Four generated series: 40 warm-up days, 30 training days, 20 test days."""
    catalog = generate_catalog(4, 1, 90, 5, date(2024, 1, 1))
    mean, std = draw_supplier_lead_times(4, 5)
    data = ComparisonInput(demand=np.rint(catalog.demand).astype(np.int64), unit_value=np.asarray(catalog.unit_cost),
                           lead_time_days=mean, lead_time_std_days=std, simulate_days=50, seed=5)  # fmt: skip
    return split_periods(data, 30, 20)


def brute_force(space: SearchSpace, score: Callable[[TuningParams], Evaluation]) -> Evaluation:
    """Every point evaluated by hand, the best by rank, ties to the first in (level, R, multiplier) order."""
    points = [TuningParams(a, r, m) for a, r, m in product(space.service_levels, space.review_days, space.multipliers)]
    evaluations = [score(p) for p in points]
    return min(enumerate(evaluations), key=lambda pair: (rank(pair[1]), pair[0]))[1]


def test_split_periods_keeps_the_test_days_after_the_training_days(
    periods: tuple[ComparisonInput, ComparisonInput],
) -> None:
    train, test = periods
    assert train.warmup_days == 40 and train.simulate_days == 30 and train.demand.shape[1] == 70
    assert test.warmup_days == 70 and test.simulate_days == 20 and test.demand.shape[1] == 90
    np.testing.assert_array_equal(test.demand[:, :70], train.demand)
    with pytest.raises(PolicyError, match="no warm-up"):
        split_periods(test, 60, 30)


def test_multiplier_scales_the_safety_factor() -> None:
    point = TuningParams(0.9, 7, 1.5)
    z = standard_normal_ppf(np.array([point.effective_service_level, 0.9]))
    assert z[0] == pytest.approx(1.5 * z[1], rel=1e-6)
    assert TuningParams(0.9, 7, 1.0).effective_service_level == 0.9
    assert 0.5 < TuningParams(0.995, 1, 50.0).effective_service_level < 1.0  # z capped at Z_MAX
    with pytest.raises(PolicyError, match="service_levels"):
        SearchSpace(service_levels=(0.5, 0.9))
    with pytest.raises(PolicyError, match="multipliers"):
        SearchSpace(multipliers=(0.0, 1.0))
    with pytest.raises(PolicyError, match="gene 1"):
        SPACE.params((0, 2, 0))


def test_grid_search_is_the_brute_force_optimum(periods: tuple[ComparisonInput, ComparisonInput]) -> None:
    train, _ = periods
    expected = brute_force(SPACE, TuningObjective(train))
    result = grid_search(SPACE, TuningObjective(train))
    assert result.best == expected
    assert result.evaluations == SPACE.size == len(result.history) == 18
    assert list(result.history) == sorted(result.history, reverse=True)  # best so far never rises
    assert result.history[-1] == expected.total_cost


def test_ga_finds_the_exact_optimum_of_a_small_simulated_case(
    periods: tuple[ComparisonInput, ComparisonInput],
) -> None:
    train, test = periods
    expected = brute_force(SPACE, TuningObjective(train))
    settings = GeneticSettings(population=6, generations=10, max_evaluations=12, seed=1)
    result = genetic_search(SPACE, TuningObjective(train), settings)
    assert result.best == expected
    assert result.evaluations <= 12 < SPACE.size
    tuned = tune_category("c", train, test, SPACE, settings=settings)
    assert tuned.ga.search.best.params == tuned.grid.search.best.params == expected.params
    assert tuned.ga.test == tuned.grid.test == TuningObjective(test)(expected.params)  # scored on the later days
    assert tuned.series == 4 and tuned.baseline_train.params == TuningParams(0.95, 1, 1.0)


def test_ga_finds_a_known_optimum_with_caching_and_a_fixed_budget() -> None:
    space = SearchSpace()  # 12 levels x 4 review periods x 5 multipliers = 240 points
    calls: list[TuningParams] = []

    def bowl(params: TuningParams) -> Evaluation:
        calls.append(params)
        cost = 1e3 * (params.service_level - 0.9) ** 2 + abs(params.review_days - 7) + (params.multiplier - 1.25) ** 2
        return Evaluation(params, cost, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0, True, 0.0)

    settings = GeneticSettings(population=12, generations=8, seed=0)
    result = genetic_search(space, bowl, settings)
    assert result.best.params == TuningParams(0.9, 7, 1.25) == grid_search(space, bowl).best.params
    assert result.evaluations == len(result.history) <= settings.budget == 96
    assert len(set(calls[: result.evaluations])) == result.evaluations  # no genome simulated twice
    again = genetic_search(space, bowl, settings)
    assert (again.best, again.history, again.cache_hits) == (result.best, result.history, result.cache_hits)
    short = genetic_search(space, bowl, GeneticSettings(population=12, generations=50, max_evaluations=20))
    assert short.evaluations == 20


def test_budget_infeasibility_is_respected(periods: tuple[ComparisonInput, ComparisonInput]) -> None:
    train, _ = periods
    free = TuningObjective(train)
    values = sorted(free(TuningParams(a, r, m)).avg_inventory_value
                    for a, r, m in product(SPACE.service_levels, SPACE.review_days, SPACE.multipliers))  # fmt: skip
    optimum = grid_search(SPACE, free).best
    cap = (values[0] + optimum.avg_inventory_value) / 2  # below the free optimum, above the leanest point
    assert values[0] < cap < optimum.avg_inventory_value
    capped = TuningObjective(train, budget=cap)
    best = grid_search(SPACE, capped).best
    assert best.feasible and best.avg_inventory_value <= cap and best.total_cost >= optimum.total_cost
    assert best == brute_force(SPACE, capped)
    ga = genetic_search(SPACE, TuningObjective(train, budget=cap), GeneticSettings(population=6, max_evaluations=18))
    assert ga.best == best
    impossible = grid_search(SPACE, TuningObjective(train, budget=values[0] / 2)).best
    assert not impossible.feasible and impossible.avg_inventory_value == values[0]  # the least over the budget
    with pytest.raises(PolicyError, match="budget"):
        TuningObjective(train, budget=-1.0)


SMALL = ("--train-days", "30", "--test-days", "20", "--service-levels", "0.7,0.9,0.95", "--review-days", "1,7",
         "--multipliers", "1,1.5", "--population", "4", "--generations", "2")  # fmt: skip


def test_tune_command_prints_the_json_last(tmp_path: Path, cli: Cli) -> None:
    out = tmp_path / "tune"
    code, stdout, err = cli("tune", "--synthetic", "--max-series", "4", *SMALL, "--out", str(out))
    assert code == 0, err
    report = json.loads(stdout.strip().splitlines()[-1])
    assert report["case"] == "synthetic" and report["series"] == 4 and report["train_days"] == 30
    assert report["space"]["size"] == 12 and report["categories"]
    for entry in report["categories"].values():
        for method in ("ga", "grid"):
            assert {"service_level", "review_days", "multiplier", "train_cost", "test_cost", "evaluations",
                    "seconds"} <= set(entry[method])  # fmt: skip
            assert "history" not in entry[method]
        assert entry["grid"]["evaluations"] == 12 and entry["grid"]["train_cost"] <= entry["ga"]["train_cost"]
    assert set(report["totals"]) >= {"ga", "grid", "default"}
    saved = json.loads((out / "summary.json").read_text())
    assert all(len(c["grid"]["history"]) == 12 for c in saved["categories"].values())
    assert (out / "convergence.png").stat().st_size > 0
    assert "totals: GA" in stdout


def test_tune_command_reads_a_long_table_with_price_bands(tmp_path: Path, cli: Cli) -> None:
    rng = np.random.default_rng(2)
    dates = pd.date_range("2024-01-01", periods=90, freq="D")
    rows = [(f"sku{i}|S1", d.date(), int(q), 1.0 + i) for i in range(4)
            for d, q in zip(dates, rng.poisson(2.0, len(dates)), strict=True) if q > 0]  # fmt: skip
    path = tmp_path / "table.csv"
    pd.DataFrame(rows, columns=["id", "date", "quantity", "price"]).to_csv(path, index=False)
    code, stdout, err = cli("tune", "--data", str(path), *SMALL, "--price-bands", "2", "--budget", "1e9",
                            "--out", str(tmp_path / "o"))  # fmt: skip
    assert code == 0, err
    report = json.loads(stdout.strip().splitlines()[-1])
    assert sorted(report["categories"]) == ["price 1.00-2.00", "price 3.00-4.00"]
    assert report["budget_per_category"] == 1e9 and "price bands" in report["source"]
    code, _, err = cli("tune", "--synthetic", "--service-levels", "0.4", "--out", str(tmp_path))
    assert code == 2 and "service_levels" in err
    code, _, err = cli("tune", "--data", str(path), "--train-days", "60", "--test-days", "30", "--out", str(tmp_path))
    assert code == 2 and "warm-up" in err
