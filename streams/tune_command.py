"""What ``restock tune`` reads, prints and writes around :func:`policies.tuning.tune_category`.

Demand comes as in ``restock simulate`` (:mod:`streams.simulate_command`): a long table (``--data``), order
lines (``--orders``, the UCI Online Retail file with ``--preset online-retail``) or the seeded generator
(``--synthetic``), with the same unit values, costs and seeded supplier lead times. Of each series' days, the
last ``test_days`` are the test period, the ``train_days`` before them the training period, the rest the
warm-up. Categories: the long table's ``category`` column (the generator's categories for ``--synthetic``);
without one every series is in ``all``, or with ``price_bands`` > 1 in one of that many bands of unit value
(equal counts of series; Online Retail has no categories, so this is how it can be split).

Out: a table per category and method, ``summary.json`` (the report, with each search's best-so-far history)
and ``convergence.png`` (best-so-far training cost against evaluations, GA and grid, one panel per category);
the command prints the report without the histories as its last line.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from forecasting.long_table import SeriesTable
from policies.simulation.compare import ComparisonInput, draw_supplier_lead_times
from policies.tuning import (
    CategoryTuning,
    Evaluation,
    GeneticSettings,
    MethodOutcome,
    SearchSpace,
    split_periods,
    subset,
    tune_category,
)
from streams.errors import ConfigurationError
from streams.simulate_command import SYNTHETIC_SERIES, SYNTHETIC_WARMUP_DAYS, Economics, finite_json, table_case

__all__ = ["TuneCase", "price_bands", "run_tune", "synthetic_tune_case", "table", "table_tune_case"]

ALL = "all"


@dataclass(frozen=True, slots=True)
class TuneCase:
    """The series to tune on (``W + train + test`` days each) and the category of each."""

    name: str
    source: str
    data: ComparisonInput
    categories: npt.NDArray[np.str_]


def price_bands(unit_value: npt.NDArray[np.float64], bands: int) -> npt.NDArray[np.str_]:
    """``[n]`` labels ``price A-B`` of ``bands`` bands of unit value holding about equal numbers of series."""
    n = unit_value.shape[0]
    order = np.argsort(unit_value, kind="stable")
    band = np.empty(n, dtype=np.int64)
    band[order] = np.arange(n) * bands // n
    labels = np.empty(n, dtype=object)
    for b in range(bands):
        members = band == b
        if members.any():
            low, high = unit_value[members].min(), unit_value[members].max()
            labels[members] = f"price {low:.2f}-{high:.2f}"
    return labels.astype(np.str_)


def _categories(raw: npt.NDArray[np.str_], value: npt.NDArray[np.float64], bands: int) -> tuple[npt.NDArray[np.str_],
                                                                                                 str]:  # fmt: skip
    if np.any(raw != ""):
        return np.where(raw == "", "unknown", raw).astype(np.str_), "categories from the data"
    if bands > 1:
        return price_bands(value, bands), f"no categories: {bands} price bands of unit value (derived)"
    return np.full(raw.shape[0], ALL, dtype=np.str_), f"no categories: one category {ALL!r}"


def table_tune_case(
    name: str,
    table: SeriesTable,
    *,
    train_days: int,
    test_days: int,
    max_series: int | None,
    economics: Economics,
    bands: int = 0,
) -> TuneCase:
    """A long table's series as ``restock simulate`` keeps them (sales in the warm-up and in the tuned days)."""
    case = table_case(name, table, days=train_days + test_days, max_series=max_series, economics=economics)
    position = {str(s): i for i, s in enumerate(table.history.series_ids)}
    rows = np.array([position[str(s)] for s in case.data.series_ids], dtype=np.int64)
    raw = np.array([str(c) for c in table.category[rows]], dtype=np.str_)
    categories, note = _categories(raw, case.data.unit_value, bands)
    return TuneCase(name, f"{case.source}; {note}", case.data, categories)


def synthetic_tune_case(
    *, train_days: int, test_days: int, series: int | None, economics: Economics, bands: int = 0
) -> TuneCase:
    """The seeded generator (:func:`forecasting.synthetic.generate_catalog`) with its categories; value = unit cost."""
    from forecasting.synthetic import generate_catalog

    count = series or SYNTHETIC_SERIES
    start = date(2024, 1, 1)
    catalog = generate_catalog(count, 1, SYNTHETIC_WARMUP_DAYS + train_days + test_days, economics.seed, start)
    demand = np.rint(catalog.demand).astype(np.int64)
    mean, std = draw_supplier_lead_times(count, economics.seed, low=economics.lead_time_low,
                                         high=economics.lead_time_high, cv=economics.lead_time_cv)  # fmt: skip
    data = ComparisonInput(
        demand=demand,
        unit_value=np.asarray(catalog.unit_cost, dtype=np.float64),
        lead_time_days=mean,
        lead_time_std_days=std,
        simulate_days=train_days + test_days,
        series_ids=np.array(catalog.keys, dtype=np.str_),
        start_day=(start - date(1970, 1, 1)).days,
        ordering_cost=economics.fixed_order_cost,
        holding_rate=economics.holding_rate,
        stockout_penalty=economics.stockout_penalty,
        seed=economics.seed,
    )
    raw = np.full(count, "", dtype=np.str_) if bands > 1 else np.asarray(catalog.category, dtype=np.str_)
    categories, note = _categories(raw, data.unit_value, bands)
    source = f"{count} generated series (seed {economics.seed}); unit value = unit cost; {note}"
    return TuneCase("synthetic", source, data, categories)


def _period(evaluation: Evaluation) -> dict[str, Any]:
    row = evaluation.as_dict()
    for name in ("service_level", "review_days", "multiplier", "effective_service_level"):
        del row[name]
    return row


def _method(outcome: MethodOutcome, budget: float | None) -> dict[str, Any]:
    search, test = outcome.search, outcome.test
    return {
        **search.best.params.as_dict(),
        "train_cost": search.best.total_cost,
        "test_cost": test.total_cost,
        "evaluations": search.evaluations,
        "seconds": round(search.seconds, 3),
        "generations": search.generations,
        "cache_hits": search.cache_hits,
        "train_feasible": search.best.feasible,
        "test_within_budget": budget is None or test.avg_inventory_value <= budget,
        "train": _period(search.best),
        "test": _period(test),
        "history": list(search.history),
    }


def _totals(results: Sequence[CategoryTuning]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for method in ("ga", "grid"):
        outcomes = [getattr(r, method) for r in results]
        out[method] = {
            "train_cost": sum(o.search.best.total_cost for o in outcomes),
            "test_cost": sum(o.test.total_cost for o in outcomes),
            "evaluations": sum(o.search.evaluations for o in outcomes),
            "seconds": round(sum(o.search.seconds for o in outcomes), 3),
        }
    out["default"] = {"train_cost": sum(r.baseline_train.total_cost for r in results),
                      "test_cost": sum(r.baseline_test.total_cost for r in results)}  # fmt: skip
    grid_train = out["grid"]["train_cost"]
    out["ga_train_cost_gap"] = (out["ga"]["train_cost"] - grid_train) / grid_train if grid_train > 0 else None
    out["ga_found_grid_optimum"] = sum(r.ga.search.best.params == r.grid.search.best.params for r in results)
    out["categories"] = len(results)
    return out


def _default(result: CategoryTuning) -> dict[str, Any]:
    train, test = result.baseline_train, result.baseline_test
    return {**train.params.as_dict(), "train_cost": train.total_cost, "test_cost": test.total_cost}


def summary(
    case: TuneCase,
    results: Sequence[CategoryTuning],
    *,
    train_days: int,
    test_days: int,
    space: SearchSpace,
    settings: GeneticSettings,
    budget: float | None,
    economics: Economics,
) -> dict[str, Any]:
    """The report (nan written as null); each method keeps its best-so-far ``history``."""
    out = {
        "case": case.name,
        "source": case.source,
        "series": case.data.n,
        "warmup_days": int(case.data.demand.shape[1]) - train_days - test_days,
        "train_days": train_days,
        "test_days": test_days,
        "budget_per_category": budget,
        "objective": "total cost (ordering + holding + stockout) of order-up-to with the moving-average forecaster",
        "costs": {
            "fixed_order_cost": economics.fixed_order_cost,
            "holding_rate_per_year": economics.holding_rate,
            "stockout_penalty_per_unit_value": economics.stockout_penalty,
        },
        "space": {**space.as_dict(), "size": space.size},
        "ga_settings": {**asdict(settings), "budget": min(settings.budget, space.size)},
        "categories": {
            r.category: {
                "series": r.series,
                "ga": _method(r.ga, budget),
                "grid": _method(r.grid, budget),
                "default": _default(r),
            }
            for r in results
        },
        "totals": _totals(results),
    }
    return dict(finite_json(out))


def without_history(report: dict[str, Any]) -> dict[str, Any]:
    """The report with the per-method ``history`` lists dropped (the printed last line)."""
    categories = {
        name: {k: ({f: v for f, v in m.items() if f != "history"} if k in ("ga", "grid") else m) for k, m in c.items()}
        for name, c in report["categories"].items()
    }
    return {**report, "categories": categories}


_COLUMNS = ("category", "method", "series", "level", "R", "mult", "eff_level", "train_cost", "test_cost",
            "test_value", "test_fill", "evals", "seconds")  # fmt: skip
_WIDTHS = (16, 8, 6, 6, 3, 5, 9, 11, 11, 11, 9, 6, 7)


def table(case: TuneCase, results: Sequence[CategoryTuning], *, train_days: int, test_days: int) -> str:
    """One row per category and method (the worker's default as a third), then the totals."""

    def row(cells: Sequence[str]) -> str:
        return " ".join(f"{c:<{w}}" if i < 2 else f"{c:>{w}}" for i, (c, w) in enumerate(zip(cells, _WIDTHS,
                                                                                             strict=True)))  # fmt: skip

    def money(value: float) -> str:
        return "-" if not math.isfinite(value) else f"{value:,.0f}"

    lines = [f"{case.name}: {case.source}; train {train_days} days, then test {test_days} days", row(_COLUMNS)]
    for r in results:
        for method, train, test, evals, seconds in (
            ("ga", r.ga.search.best, r.ga.test, str(r.ga.search.evaluations), f"{r.ga.search.seconds:.1f}"),
            ("grid", r.grid.search.best, r.grid.test, str(r.grid.search.evaluations), f"{r.grid.search.seconds:.1f}"),
            ("default", r.baseline_train, r.baseline_test, "-", "-"),
        ):
            p = train.params
            flag = "" if train.feasible else "!"
            lines.append(row([r.category[:16], method + flag, str(r.series), f"{p.service_level:g}",
                              str(p.review_days), f"{p.multiplier:g}", f"{p.effective_service_level:.4f}",
                              money(train.total_cost), money(test.total_cost), money(test.avg_inventory_value),
                              f"{test.fill_rate:.4f}", evals, seconds]))  # fmt: skip
    totals = _totals(results)
    ga, grid = totals["ga"], totals["grid"]
    if any(not o.search.best.feasible for r in results for o in (r.ga, r.grid)):
        lines.append("!: no point searched kept the average inventory value within the budget; the least over it")
    lines.append(
        f"totals: GA train {ga['train_cost']:,.0f} / test {ga['test_cost']:,.0f} in {ga['evaluations']} evaluations, "
        f"{ga['seconds']:.1f} s; grid train {grid['train_cost']:,.0f} / test {grid['test_cost']:,.0f} in "
        f"{grid['evaluations']} evaluations, {grid['seconds']:.1f} s; default (0.95, R=1) test "
        f"{totals['default']['test_cost']:,.0f}; GA found the grid's optimum in {totals['ga_found_grid_optimum']} of "
        f"{totals['categories']} categories"
    )
    return "\n".join(lines)


def plot_convergence(results: Sequence[CategoryTuning], path: Path) -> Path:
    """Best-so-far training cost against evaluations, GA and grid, one panel per category."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = min(3, len(results))
    rows = math.ceil(len(results) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(5.5 * columns, 4.0 * rows), squeeze=False)
    for ax in axes.flat[len(results) :]:
        ax.set_visible(False)
    for ax, r in zip(axes.flat, results, strict=False):
        for outcome, style, label in ((r.grid, "-", "grid"), (r.ga, "-", "genetic algorithm")):
            history = outcome.search.history
            ax.step(np.arange(1, len(history) + 1), history, style, where="post",
                    label=f"{label} ({outcome.search.evaluations} evals, {outcome.search.seconds:.1f} s)")  # fmt: skip
        ax.axhline(r.grid.search.best.total_cost, color="grey", lw=0.6, ls=":")
        ax.set_xlabel("evaluations (simulations)")
        ax.set_ylabel("best training cost so far")
        ax.set_title(f"{r.category}: {r.series} series", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run_tune(
    case: TuneCase,
    out: Path,
    *,
    train_days: int,
    test_days: int,
    space: SearchSpace,
    settings: GeneticSettings,
    budget: float | None,
    economics: Economics,
    progress: Callable[[str], None] | None = None,
) -> tuple[str, dict[str, Any]]:
    """Tune every category of ``case``; returns the table and the report, writes summary.json and the PNG."""
    began = time.perf_counter()
    say = progress or (lambda _line: None)
    total = int(case.data.demand.shape[1])
    if train_days + test_days >= total:
        raise ConfigurationError(f"--train-days + --test-days: the data has {total} days; {train_days} + {test_days} "
                                 "leaves no warm-up")  # fmt: skip
    results: list[CategoryTuning] = []
    for name in sorted(set(case.categories.tolist())):
        rows = np.flatnonzero(case.categories == name)
        say(f"{name}: {rows.size} series, GA then grid over {space.size} points")
        train, test = split_periods(subset(case.data, rows), train_days, test_days)
        results.append(tune_category(name, train, test, space, settings=settings, budget=budget))
    out.mkdir(parents=True, exist_ok=True)
    png = plot_convergence(results, out / "convergence.png")
    report = summary(case, results, train_days=train_days, test_days=test_days, space=space, settings=settings,
                     budget=budget, economics=economics)  # fmt: skip
    report["files"] = {"convergence_png": str(png), "summary_json": str(out / "summary.json")}
    report["seconds"] = round(time.perf_counter() - began, 2)
    (out / "summary.json").write_text(json.dumps(report, indent=1) + "\n")
    return table(case, results, train_days=train_days, test_days=test_days), without_history(report)
