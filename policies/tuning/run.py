"""Tuning one category: both searches on the training period, their choices scored on the later test period.

Honest by construction: the searches see only the training input (its warm-up and simulated days); the test
input's simulated days come after them and are simulated once per method, at the chosen point. The worker's
default (:data:`BASELINE`: 95 % cycle service level, daily review, multiplier 1) is scored on both periods as
the reference the tuned points must beat.
"""

from __future__ import annotations

from dataclasses import dataclass

from forecasting.base import Forecaster
from policies.simulation.compare import ComparisonInput
from policies.tuning.objective import Evaluation, TuningObjective
from policies.tuning.search import GeneticSettings, SearchResult, genetic_search, grid_search
from policies.tuning.space import SearchSpace, TuningParams

__all__ = ["BASELINE", "CategoryTuning", "MethodOutcome", "tune_category"]

BASELINE = TuningParams(service_level=0.95, review_days=1, multiplier=1.0)
"""The worker's defaults (``Settings.service_level``, ``Settings.review_days``)."""


@dataclass(frozen=True, slots=True)
class MethodOutcome:
    """A search on the training period and its best point simulated on the test period."""

    search: SearchResult
    test: Evaluation


@dataclass(frozen=True, slots=True)
class CategoryTuning:
    """Both methods on one category, and the worker's default on both periods for reference."""

    category: str
    series: int
    ga: MethodOutcome
    grid: MethodOutcome
    baseline_train: Evaluation
    baseline_test: Evaluation


def tune_category(
    category: str,
    train: ComparisonInput,
    test: ComparisonInput,
    space: SearchSpace,
    *,
    settings: GeneticSettings | None = None,
    budget: float | None = None,
    forecaster: Forecaster | None = None,
) -> CategoryTuning:
    """Genetic algorithm and grid search over ``space`` on ``train``; each best point scored on ``test``.

    Each method gets its own :class:`TuningObjective` (nothing shared between them, so the seconds compare);
    ``budget`` caps the average inventory value on both periods (on the test period it is reported, not
    searched). ``train`` and ``test`` come from :func:`~policies.tuning.objective.split_periods`.
    """
    scored = TuningObjective(test, budget=budget, forecaster=forecaster)
    ga = genetic_search(space, TuningObjective(train, budget=budget, forecaster=forecaster), settings)
    grid = grid_search(space, TuningObjective(train, budget=budget, forecaster=forecaster))
    reference = TuningObjective(train, budget=budget, forecaster=forecaster)
    return CategoryTuning(
        category=category,
        series=train.n,
        ga=MethodOutcome(ga, scored(ga.best.params)),
        grid=MethodOutcome(grid, scored(grid.best.params)),
        baseline_train=reference(BASELINE),
        baseline_test=scored(BASELINE),
    )
