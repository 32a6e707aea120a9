"""What ``restock simulate`` reads, prints and writes around :func:`policies.simulation.compare.compare_policies`.

Cases: daily demand per series from a long table (``--data``) or from order lines (``--orders``; the UCI
Online Retail file with ``--preset online-retail``), and/or the seeded generator (``--synthetic``). Real
demand is what was sold (the history has no stockout records), unit values are the quantity-weighted mean
selling price of each series' order lines, and supplier lead times are drawn per series, seeded, uniform in
2 .. 14 days (std 20 % of the mean). Out: a table per case, ``tradeoff.png`` (average inventory value vs fill
rate, one curve per policy family, min/max and the oracle as points) and ``summary.json``, the same object
the command prints as its last line.
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

from forecasting.base import Forecaster
from forecasting.long_table import SeriesTable
from policies.simulation.compare import (
    MIN_MAX,
    ORACLE,
    ComparisonInput,
    ComparisonPlan,
    ComparisonResult,
    PolicyPoint,
    compare_policies,
    draw_supplier_lead_times,
)
from streams.errors import ConfigurationError

__all__ = ["Economics", "SimulationCase", "run_simulate", "synthetic_case", "table", "table_case"]

ONLINE_RETAIL_PATH = Path("../shared/data/online_retail/orders.parquet")
"""Where this project keeps its copy of UCI Online Retail; only a default for ``--preset online-retail``."""
CALIBRATION_TARGETS = (0.90, 0.95, 0.98)
"""Targets at which the calibration goal is read: achieved CSL within 2 points of each."""
SYNTHETIC_WARMUP_DAYS = 120
SYNTHETIC_SERIES = 500


@dataclass(frozen=True, slots=True)
class Economics:
    """Costs and lead times shared by every case of a run (see :class:`ComparisonInput`)."""

    fixed_order_cost: float = 10.0
    holding_rate: float = 0.25
    stockout_penalty: float = 1.0
    lead_time_low: int = 2
    lead_time_high: int = 14
    lead_time_cv: float = 0.2
    seed: int = 0


@dataclass(frozen=True, slots=True)
class SimulationCase:
    """One demand set to compare the policies on."""

    name: str
    source: str
    data: ComparisonInput


def _input(
    demand: npt.NDArray[np.int64],
    value: npt.NDArray[np.float64],
    observed: npt.NDArray[np.bool_],
    ids: npt.NDArray[np.str_],
    start_day: int,
    days: int,
    economics: Economics,
) -> ComparisonInput:
    mean, std = draw_supplier_lead_times(
        demand.shape[0], economics.seed, low=economics.lead_time_low, high=economics.lead_time_high,
        cv=economics.lead_time_cv,
    )  # fmt: skip
    return ComparisonInput(
        demand=demand,
        unit_value=value,
        lead_time_days=mean,
        lead_time_std_days=std,
        simulate_days=days,
        observed=observed,
        series_ids=ids,
        start_day=start_day,
        ordering_cost=economics.fixed_order_cost,
        holding_rate=economics.holding_rate,
        stockout_penalty=economics.stockout_penalty,
        seed=economics.seed,
    )


def table_case(
    name: str, table: SeriesTable, *, days: int, max_series: int | None, economics: Economics
) -> SimulationCase:
    """The case of a long table's series, the last ``days`` simulated after a warm-up of the rest.

    Series kept: those with sales in both the warm-up and the simulated days and (when the table has prices)
    a positive unit value; of those, the ``max_series`` with the most days with sales (ties by id).
    Without a price column every unit is worth 1.
    """
    history = table.history
    demand = np.rint(history.demand.astype(np.float64)).astype(np.int64)
    total = demand.shape[1]
    if not 1 <= days < total:
        raise ConfigurationError(f"--days: the data has {total} days; simulate 1 .. {total - 1} to leave a warm-up")
    if history.price is not None:
        price = history.price.astype(np.float64)
        priced = np.where(np.isfinite(price), demand, 0)
        value = np.where(priced > 0, price * priced, 0.0).sum(axis=1) / np.maximum(priced.sum(axis=1), 1)
        note = "unit value = mean selling price"
    else:
        value = np.ones(demand.shape[0])
        note = "no price column: unit value 1"
    warm = demand[:, : total - days].sum(axis=1) > 0
    keep = np.flatnonzero(warm & (demand[:, total - days :].sum(axis=1) > 0) & (value > 0))
    if keep.size == 0:
        raise ConfigurationError(f"{name}: no series sells in both the warm-up and the last {days} days")
    sale_days = (demand[keep] > 0).sum(axis=1)
    keep = keep[np.argsort(-sale_days, kind="stable")][: max_series or None]
    keep.sort()
    start = history.end_day - total + 1
    data = _input(demand[keep], value[keep], history.observed[keep], history.series_ids[keep].astype(np.str_), start,
                  days, economics)  # fmt: skip
    source = f"{len(keep)} of {demand.shape[0]} series (most days with sales); {note}"
    return SimulationCase(name, source, data)


def synthetic_case(*, days: int, series: int | None, economics: Economics) -> SimulationCase:
    """The seeded generator's demand (:func:`forecasting.synthetic.generate_catalog`), unit value = unit cost."""
    from forecasting.synthetic import generate_catalog

    count = series or SYNTHETIC_SERIES
    start = date(2024, 1, 1)
    catalog = generate_catalog(count, 1, SYNTHETIC_WARMUP_DAYS + days, economics.seed, start)
    demand = np.rint(catalog.demand).astype(np.int64)
    ids = np.array(catalog.keys, dtype=np.str_)
    start_day = (start - date(1970, 1, 1)).days
    data = _input(demand, np.asarray(catalog.unit_cost, dtype=np.float64), np.ones(demand.shape, dtype=np.bool_),
                  ids, start_day, days, economics)  # fmt: skip
    return SimulationCase("synthetic", f"{count} generated series (seed {economics.seed}); unit value = unit cost",
                          data)  # fmt: skip


def finite_json(value: Any) -> Any:
    """nan -> None, recursively, so that the JSON is valid."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): finite_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(v) for v in value]
    return value


def _point_dict(point: PolicyPoint) -> dict[str, Any]:
    row = asdict(point)
    del row["policy"]
    return row


def summary(case: SimulationCase, result: ComparisonResult, economics: Economics) -> dict[str, Any]:
    """The case's JSON object (nan written as null)."""
    curves = result.curves()
    gaps = {
        name: float(np.mean([p.csl - p.target_csl for p in points if p.target_csl is not None]))
        for name, points in curves.items()
        if any(p.target_csl is not None for p in points)
    }
    calibration = {
        name: {f"{p.target_csl:g}": round(p.csl - p.target_csl, 4) for p in points
               if p.target_csl is not None and p.target_csl in CALIBRATION_TARGETS}
        for name, points in curves.items()
    }  # fmt: skip
    calibration = {name: gaps_at for name, gaps_at in calibration.items() if gaps_at}
    out = {
        "case": case.name,
        "source": case.source,
        "series": result.n,
        "warmup_days": result.warmup_days,
        "simulated_days": result.simulated_days,
        "forecaster": result.forecaster,
        "lead_time_days": [economics.lead_time_low, economics.lead_time_high],
        "costs": {
            "fixed_order_cost": economics.fixed_order_cost,
            "holding_rate_per_year": economics.holding_rate,
            "stockout_penalty_per_unit_value": economics.stockout_penalty,
        },
        "policies": {name: [_point_dict(p) for p in points] for name, points in curves.items()},
        "inventory_reduction_vs_minmax": result.inventory_reduction_vs_minmax,
        "inventory_reduction_policy": result.reduction_policy,
        "inventory_reduction_by_policy": {
            r.policy: {
                "fill_rate_range": list(r.fill_rate_range),
                "inventory_value": r.inventory_value,
                "orders": r.orders,
                "eligible": r.eligible,
                "reduction": r.reduction,
                "total_cost": r.total_cost,
                "value_fill_rate": r.value_fill_rate,
            }
            for r in result.families
        },
        "min_max_fill_rate": result.min_max.fill_rate,
        "min_max_orders": result.min_max.orders,
        "oracle_cost_gap": result.oracle_cost_gap,
        "oracle_cost_gap_policy": result.cheapest,
        "oracle_review_choice": result.oracle_review_choice,
        "csl_minus_target_by_policy": gaps,
        "csl_minus_target_at_90_95_98": calibration,
        "csl_within_2_points": {
            name: len(gaps_at) == len(CALIBRATION_TARGETS) and all(abs(g) <= 0.02 for g in gaps_at.values())
            for name, gaps_at in calibration.items()
        },
    }
    return dict(finite_json(out))


_COLUMNS = ("policy", "R", "target_csl", "fill_rate", "value_fill", "csl", "stockout_days", "avg_inv_units",
            "avg_inv_value", "turns", "orders", "total_cost")  # fmt: skip


def table(case: SimulationCase, result: ComparisonResult) -> str:
    """One row per policy and target, then the headline figures."""

    def number(value: float, digits: int) -> str:
        return "-" if not math.isfinite(value) else f"{value:,.{digits}f}"

    lines = [f"{case.name}: {case.source}; warm-up {result.warmup_days} days, {result.simulated_days} simulated",
             "  ".join(f"{c:>13}" if i else f"{c:<26}" for i, c in enumerate(_COLUMNS))]  # fmt: skip
    for p in result.points:
        target = "-" if p.target_csl is None else f"{p.target_csl:.2f}"
        if p.shortage_penalty is not None:
            target = f"B={p.shortage_penalty:.3g}"
        cells = [p.policy, str(p.review_days), target, number(p.fill_rate, 4), number(p.value_fill_rate, 4),
                 number(p.csl, 4), f"{p.stockout_days:,}", number(p.avg_inventory_units, 0),
                 number(p.avg_inventory_value, 0), number(p.turns, 1), f"{p.orders:,}",
                 number(p.total_cost, 0)]  # fmt: skip
        lines.append("  ".join(f"{c:>13}" if i else f"{c:<26}" for i, c in enumerate(cells)))
    reduction = result.inventory_reduction_vs_minmax
    lines.append(
        f"inventory reduction vs min/max at its fill rate {result.min_max.fill_rate:.4f}: "
        + (f"no curve with at most its {result.min_max.orders:,} orders reaches it" if reduction is None
           else f"{reduction:.1%} ({result.reduction_policy})")
        + f"; min/max: value {result.min_max.avg_inventory_value:,.0f}, orders {result.min_max.orders:,}, "
        f"total cost {result.min_max.total_cost:,.0f}, value fill {result.min_max.value_fill_rate:.4f}"
    )  # fmt: skip
    for r in result.families:
        at = "not reached" if r.inventory_value is None or r.orders is None or r.reduction is None else (
            f"value {r.inventory_value:,.0f}, orders {r.orders:,.0f}, total cost {r.total_cost or 0:,.0f}, "
            f"value fill {r.value_fill_rate or 0:.4f}, reduction {r.reduction:.1%}"
            + ("" if r.eligible else " (more orders than min/max)")
        )  # fmt: skip
        lines.append(f"  {r.policy}: fill rate {r.fill_rate_range[0]:.4f} .. {r.fill_rate_range[1]:.4f}; {at}")
    lines.append(f"oracle cost gap: {result.oracle_cost_gap:.1%} ({result.cheapest} vs the oracle)")
    return "\n".join(lines)


def plot_tradeoff(results: Sequence[tuple[SimulationCase, ComparisonResult]], path: Path) -> Path:
    """Average inventory value vs fill rate: one curve per family over its targets, min/max and oracle points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(7.5 * len(results), 5.5), squeeze=False)
    for ax, (case, result) in zip(axes[0], results, strict=True):
        for index, (name, points) in enumerate(result.curves().items()):
            x = [p.fill_rate for p in points]
            y = [p.avg_inventory_value for p in points]
            if name == MIN_MAX:
                ax.scatter(x, y, marker="s", s=60, color="black", zorder=3, label="min/max 7/21 days")
                ax.axvline(x[0], color="black", lw=0.6, ls=":")
            elif name == ORACLE:
                ax.scatter(x, y, marker="*", s=140, color="gold", edgecolor="black", zorder=3, label="oracle")
            else:
                style = "-" if "_censored" in name else "--"
                marker = "x" if name.endswith("_calibrated") else "^" if name.startswith("exchange") else "o"
                ax.plot(x, y, style, marker=marker, ms=3, lw=1, color=plt.cm.tab20(index // 2 % 20), label=name)
                last = points[-1]
                tag = f"B={last.shortage_penalty:.2g}" if last.target_csl is None else f"{last.target_csl:g}"
                ax.annotate(tag, (x[-1], y[-1]), fontsize=6)
        ax.set_yscale("log")
        ax.set_xlabel("fill rate (units)")
        ax.set_ylabel("average inventory value")
        ax.set_title(f"{case.name}: {result.n} series, {result.simulated_days} days", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=5, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run_simulate(
    cases: Sequence[SimulationCase],
    out: Path,
    plan: ComparisonPlan,
    economics: Economics,
    *,
    forecaster: Forecaster | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[str], dict[str, Any]]:
    """Compare the policies on every case; returns the tables and the report (the first case's summary at the
    top level, a second case under its own name) and writes ``tradeoff.png`` and ``summary.json``.

    ``forecaster``: what the forecast-driven policies use (e.g. a trained model, :func:`forecasting.load_model`);
    the worker's moving-average baseline when None.
    """
    began = time.perf_counter()
    results: list[tuple[SimulationCase, ComparisonResult]] = []
    for case in cases:
        say = (lambda line, name=case.name: progress(f"{name}: {line}")) if progress else None
        results.append((case, compare_policies(case.data, plan, forecaster=forecaster, progress=say)))
    out.mkdir(parents=True, exist_ok=True)
    png = plot_tradeoff(results, out / "tradeoff.png")
    first, *others = (summary(case, result, economics) for case, result in results)
    report: dict[str, Any] = {**first}
    for other in others:
        report[str(other["case"])] = other
    report["files"] = {"tradeoff_png": str(png), "summary_json": str(out / "summary.json")}
    report["seconds"] = round(time.perf_counter() - began, 2)
    (out / "summary.json").write_text(json.dumps(report, indent=1) + "\n")
    return [table(case, result) for case, result in results], report
