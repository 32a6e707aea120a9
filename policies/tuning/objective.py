"""The objective of :mod:`policies.tuning`: the total cost of simulating one category's series at one point.

What is simulated is what ``restock simulate`` runs: :func:`~policies.simulation.deciders.order_up_to_decider`
with the worker's moving-average forecaster over a :class:`~policies.simulation.compare.ComparisonInput`
(warm-up history, then the simulated days; starting stock, costs and seeded lead times as there), stockout
days censored as the worker censors them. Total cost = ordering + holding + stockout cost, summed over the
category's series (:mod:`policies.simulation.outcome`).

Budget: with ``budget`` set, a point whose average inventory value (mean end-of-day on-hand value, summed over
the series) exceeds it is infeasible. Points rank by :func:`rank`: every feasible point before every
infeasible one; feasible points by total cost, infeasible ones by how far they exceed the budget (the
feasibility rules of Deb, 2000, "An efficient constraint handling method for genetic algorithms": no penalty
weight to tune, and a search without a feasible point yet is still led towards one).

Periods: :func:`split_periods` turns ``[n, W + train + test]`` days into the training input (warm-up W, then
``train`` simulated days) and the test input (warm-up W + train, then ``test`` simulated days): the test
period is later and never seen by the search.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from forecasting.base import Forecaster
from forecasting.moving_average import MovingAverageForecaster
from policies.errors import PolicyError
from policies.simulation.compare import ComparisonInput
from policies.simulation.deciders import order_up_to_decider
from policies.simulation.setup import SimulationSetup
from policies.simulator import simulate
from policies.tuning.space import TuningParams

__all__ = ["Evaluation", "TuningObjective", "rank", "split_periods", "subset"]


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One simulated point, pooled over the category's series.

    Attributes:
        params: the point.
        total_cost, ordering_cost, holding_cost, stockout_cost: money over the simulated days.
        avg_inventory_value: mean end-of-day on-hand value, summed over the series.
        fill_rate: units met from stock on their day / units demanded (nan without demand).
        cycle_service_level: achieved CSL, met / evaluated cycles (nan without a cycle).
        orders: orders placed.
        feasible: False when ``avg_inventory_value`` exceeds the objective's budget.
        excess: ``max(0, avg_inventory_value - budget)`` (0 without a budget).
    """

    params: TuningParams
    total_cost: float
    ordering_cost: float
    holding_cost: float
    stockout_cost: float
    avg_inventory_value: float
    fill_rate: float
    cycle_service_level: float
    orders: int
    feasible: bool
    excess: float

    def as_dict(self) -> dict[str, object]:
        return {
            **self.params.as_dict(),
            "total_cost": self.total_cost,
            "ordering_cost": self.ordering_cost,
            "holding_cost": self.holding_cost,
            "stockout_cost": self.stockout_cost,
            "avg_inventory_value": self.avg_inventory_value,
            "fill_rate": self.fill_rate,
            "cycle_service_level": self.cycle_service_level,
            "orders": self.orders,
            "feasible": self.feasible,
        }


def rank(evaluation: Evaluation) -> tuple[int, float]:
    """Sort key, smaller is better: ``(0, total cost)`` when feasible, else ``(1, excess over the budget)``."""
    if evaluation.feasible:
        return 0, evaluation.total_cost
    return 1, evaluation.excess


def split_periods(data: ComparisonInput, train_days: int, test_days: int) -> tuple[ComparisonInput, ComparisonInput]:
    """``(train, test)`` inputs from the last ``train_days + test_days`` days of ``data`` (see the module docstring).

    The split ignores ``data.simulate_days``: of its ``W + train + test`` columns, W >= 1 must remain.
    """
    for name, value in (("train_days", train_days), ("test_days", test_days)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise PolicyError(f"{name}: expected an int >= 1, got {value!r}")
    total = int(data.demand.shape[1])
    if train_days + test_days >= total:
        raise PolicyError(f"train_days + test_days: the data has {total} days; {train_days} + {test_days} leaves no "
                          "warm-up")  # fmt: skip
    end_train = total - test_days
    train = replace(data, demand=data.demand[:, :end_train], observed=data.observed[:, :end_train],
                    simulate_days=int(train_days))  # fmt: skip
    test = replace(data, simulate_days=int(test_days))
    return train, test


def subset(data: ComparisonInput, rows: npt.ArrayLike) -> ComparisonInput:
    """The input restricted to the series ``rows`` (e.g. one category), in their order."""
    index = np.asarray(rows, dtype=np.int64)
    if index.ndim != 1 or index.size == 0:
        raise PolicyError("rows: expected a non-empty 1-D array of series positions")
    return replace(
        data,
        demand=data.demand[index],
        unit_value=data.unit_value[index],
        lead_time_days=data.lead_time_days[index],
        lead_time_std_days=data.lead_time_std_days[index],
        observed=data.observed[index],
        series_ids=data.series_ids[index],
    )


class TuningObjective:
    """``objective(params) -> Evaluation``: one simulation of ``data`` at ``params`` (module docstring).

    Args:
        data: the category's series; its ``simulate_days`` are the period scored.
        budget: optional cap on the average inventory value (> 0); None for none.
        forecaster: the order-up-to policy's forecaster; the worker's default ``MovingAverageForecaster()``.
        history_days: trailing days handed to the forecaster (the worker's ``history_days``).

    Setups are built once per review period (the realised lead times are the same for every R, see
    :meth:`ComparisonInput.setup`); evaluations are not cached here, the searches cache them.
    """

    def __init__(
        self,
        data: ComparisonInput,
        *,
        budget: float | None = None,
        forecaster: Forecaster | None = None,
        history_days: int = 120,
    ) -> None:
        if not isinstance(data, ComparisonInput):
            raise PolicyError(f"data: expected a ComparisonInput, got {type(data).__name__}")
        if budget is not None and not (math.isfinite(budget) and budget > 0):
            raise PolicyError(f"budget: must be finite and > 0 (or None), got {budget!r}")
        self.data = data
        self.budget = budget
        self.forecaster = MovingAverageForecaster() if forecaster is None else forecaster
        self.history_days = history_days
        self._setups: dict[int, SimulationSetup] = {}

    def setup(self, review_days: int) -> SimulationSetup:
        if review_days not in self._setups:
            self._setups[review_days] = self.data.setup(review_days)
        return self._setups[review_days]

    def __call__(self, params: TuningParams) -> Evaluation:
        setup = self.setup(params.review_days)
        items = setup.item_params(params.effective_service_level)
        decide = order_up_to_decider(self.forecaster, items, history_days=self.history_days)
        totals = simulate(setup, decide, censor_stockouts=True).totals()
        value = totals.average_on_hand_value
        excess = 0.0 if self.budget is None else max(0.0, value - self.budget)
        return Evaluation(
            params=params,
            total_cost=totals.total_cost,
            ordering_cost=totals.ordering_cost,
            holding_cost=totals.holding_cost,
            stockout_cost=totals.stockout_cost,
            avg_inventory_value=value,
            fill_rate=totals.fill_rate,
            cycle_service_level=totals.cycle_service_level,
            orders=totals.orders_placed,
            feasible=excess == 0.0,
            excess=excess,
        )
