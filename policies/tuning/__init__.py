"""Parameter tuning: the service level, review period and safety-stock multiplier that cost least, by simulation.

Per category, a seeded genetic algorithm and a plain grid search look over the same discrete space
(:mod:`policies.tuning.space`) for the point whose simulation on a training period costs least, under an
optional cap on the average inventory value (:mod:`policies.tuning.objective`); each method's choice is then
scored on a later test period it never saw (:mod:`policies.tuning.run`). The grid's best is the exact optimum
of the space on the training period, which is what the genetic algorithm is measured against, in cost and in
evaluations and seconds (:mod:`policies.tuning.search`). Pure: arrays in, dataclasses out, no I/O.
"""

from policies.tuning.objective import Evaluation, TuningObjective, rank, split_periods, subset
from policies.tuning.run import BASELINE, CategoryTuning, MethodOutcome, tune_category
from policies.tuning.search import GeneticSettings, Method, Score, SearchResult, genetic_search, grid_search
from policies.tuning.space import (
    DEFAULT_MULTIPLIERS,
    DEFAULT_REVIEW_DAYS,
    DEFAULT_SERVICE_LEVELS,
    Genome,
    SearchSpace,
    TuningParams,
)

__all__ = [
    "BASELINE",
    "DEFAULT_MULTIPLIERS",
    "DEFAULT_REVIEW_DAYS",
    "DEFAULT_SERVICE_LEVELS",
    "CategoryTuning",
    "Evaluation",
    "GeneticSettings",
    "Genome",
    "Method",
    "MethodOutcome",
    "Score",
    "SearchResult",
    "SearchSpace",
    "TuningObjective",
    "TuningParams",
    "genetic_search",
    "grid_search",
    "rank",
    "split_periods",
    "subset",
    "tune_category",
]
