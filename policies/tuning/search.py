"""Two searches over one :class:`~policies.tuning.space.SearchSpace`: a seeded genetic algorithm and the grid.

Both take ``score: TuningParams -> Evaluation`` (a :class:`~policies.tuning.objective.TuningObjective`, or any
function in tests), rank points by :func:`~policies.tuning.objective.rank` with ties broken by the genome (the
first in lexicographic order wins), and return a :class:`SearchResult` with the best point, the number of
distinct evaluations, the seconds taken and the best-so-far cost after each evaluation.

Genetic algorithm (:func:`genetic_search`), on genomes of indices into the three dimensions:

1. initial population: ``population`` distinct genomes drawn uniformly (seeded);
2. each generation keeps the ``elite`` best, then fills the population with children: two parents by
   tournament selection (the best of ``tournament`` members drawn with replacement), uniform crossover with
   probability ``crossover_rate`` (else a copy of the first parent), then per-gene mutation with probability
   ``mutation_rate`` (half the time one step up or down the ordered values, half the time a uniform redraw);
   a child already evaluated, or already in the new population, is mutated again (up to ``fresh_tries``
   times) so that the budget goes to unseen points;
3. evaluations are cached by genome: a genome met again costs nothing and does not count;
4. it stops after ``generations`` generations, when ``max_evaluations`` distinct points have been evaluated
   (the fixed budget), or when every point of the space has been.

Grid search (:func:`grid_search`) evaluates every point once, so its best is the exact optimum of the space.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from policies.errors import PolicyError
from policies.tuning.objective import Evaluation, rank
from policies.tuning.space import Genome, SearchSpace, TuningParams

__all__ = ["GeneticSettings", "Method", "Score", "SearchResult", "genetic_search", "grid_search"]

Score = Callable[[TuningParams], Evaluation]
Method = Literal["ga", "grid"]


@dataclass(frozen=True, slots=True)
class SearchResult:
    """What a search found.

    Attributes:
        method: ``"ga"`` or ``"grid"``.
        best: the best evaluation (by :func:`~policies.tuning.objective.rank`); infeasible only when no
            evaluated point met the budget.
        evaluations: distinct points evaluated (simulations run).
        seconds: wall-clock seconds of the search, simulations included.
        history: best-so-far feasible total cost after each evaluation (nan until a feasible point is found);
            ``len(history) == evaluations``.
        generations: generations run after the initial population (0 for the grid).
        cache_hits: genomes met again and answered from the cache (0 for the grid).
    """

    method: Method
    best: Evaluation
    evaluations: int
    seconds: float
    history: tuple[float, ...]
    generations: int = 0
    cache_hits: int = 0


@dataclass(frozen=True, slots=True)
class GeneticSettings:
    """Parameters of :func:`genetic_search` (see the module docstring).

    ``max_evaluations`` None means ``population x generations``.
    """

    population: int = 12
    generations: int = 8
    max_evaluations: int | None = None
    elite: int = 2
    tournament: int = 3
    crossover_rate: float = 0.9
    mutation_rate: float = 0.25
    fresh_tries: int = 8
    seed: int = 0

    def __post_init__(self) -> None:
        for name, low in (("population", 2), ("generations", 0), ("elite", 0), ("tournament", 1),
                          ("fresh_tries", 0)):  # fmt: skip
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise PolicyError(f"{name}: expected an int >= {low}, got {value!r}")
        if self.elite >= self.population:
            raise PolicyError(f"elite: must be below population ({self.population}), got {self.elite}")
        if self.max_evaluations is not None and (isinstance(self.max_evaluations, bool) or self.max_evaluations < 1):
            raise PolicyError(f"max_evaluations: expected an int >= 1 or None, got {self.max_evaluations!r}")
        for name in ("crossover_rate", "mutation_rate"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0.0 <= value <= 1.0):
                raise PolicyError(f"{name}: must lie in [0, 1], got {value!r}")

    @property
    def budget(self) -> int:
        """The most distinct evaluations the search may run."""
        return self.population * self.generations if self.max_evaluations is None else self.max_evaluations


def _key(genome: Genome, evaluation: Evaluation) -> tuple[tuple[int, float], Genome]:
    return rank(evaluation), genome


class _Ledger:
    """Evaluations by genome, the best so far and its history."""

    def __init__(self, space: SearchSpace, score: Score) -> None:
        self.space, self.score = space, score
        self.cache: dict[Genome, Evaluation] = {}
        self.history: list[float] = []
        self.best: tuple[Genome, Evaluation] | None = None
        self.hits = 0

    def evaluate(self, genome: Genome) -> Evaluation:
        if genome in self.cache:
            self.hits += 1
            return self.cache[genome]
        evaluation = self.score(self.space.params(genome))
        self.cache[genome] = evaluation
        if self.best is None or _key(genome, evaluation) < _key(*self.best):
            self.best = (genome, evaluation)
        best = self.best[1]
        self.history.append(best.total_cost if best.feasible else math.nan)
        return evaluation

    def result(self, method: Method, began: float, generations: int = 0) -> SearchResult:
        if self.best is None:
            raise PolicyError("search: nothing was evaluated")
        return SearchResult(method, self.best[1], len(self.cache), time.perf_counter() - began, tuple(self.history),
                            generations, self.hits)  # fmt: skip


def grid_search(space: SearchSpace, score: Score) -> SearchResult:
    """Every point of ``space`` once, in lexicographic genome order; the best is the space's exact optimum."""
    began = time.perf_counter()
    ledger = _Ledger(space, score)
    for genome in space.genomes():
        ledger.evaluate(genome)
    return ledger.result("grid", began)


def genetic_search(space: SearchSpace, score: Score, settings: GeneticSettings | None = None) -> SearchResult:
    """The seeded genetic algorithm of the module docstring; the same seed gives the same search."""
    settings = GeneticSettings() if settings is None else settings
    began = time.perf_counter()
    rng = np.random.default_rng(settings.seed)
    ledger = _Ledger(space, score)
    shape = space.shape
    budget = min(settings.budget, space.size)

    def spent() -> bool:
        return len(ledger.cache) >= budget

    def mutate(genome: Genome, *, force: bool) -> Genome:
        genes = list(genome)
        free = [d for d in range(3) if shape[d] > 1]
        chosen = [d for d in free if rng.random() < settings.mutation_rate]
        if force and not chosen and free:
            chosen = [free[int(rng.integers(len(free)))]]
        for d in chosen:
            if rng.random() < 0.5:
                step = 1 if rng.random() < 0.5 else -1
                moved = genes[d] + step
                genes[d] = moved if 0 <= moved < shape[d] else genes[d] - step
            else:
                other = int(rng.integers(shape[d] - 1))
                genes[d] = other if other < genes[d] else other + 1  # a different value
        return genes[0], genes[1], genes[2]

    def tournament(population: list[Genome]) -> Genome:
        picks = rng.integers(len(population), size=settings.tournament)
        return min((population[int(i)] for i in picks), key=lambda g: _key(g, ledger.cache[g]))

    flat = rng.choice(space.size, size=min(settings.population, budget), replace=False)
    population: list[Genome] = []
    for index in flat:
        i, j, k = np.unravel_index(int(index), shape)
        genome = (int(i), int(j), int(k))
        ledger.evaluate(genome)
        population.append(genome)
    generation = 0
    while generation < settings.generations and not spent():
        generation += 1
        ranked = sorted(population, key=lambda g: _key(g, ledger.cache[g]))
        offspring = ranked[: settings.elite]
        while len(offspring) < settings.population and not spent():
            first, second = tournament(ranked), tournament(ranked)
            if rng.random() < settings.crossover_rate:
                mask = rng.random(3) < 0.5
                child = tuple(int(a if m else b) for a, b, m in zip(first, second, mask, strict=True))
                genome = (child[0], child[1], child[2])
            else:
                genome = first
            genome = mutate(genome, force=False)
            for _ in range(settings.fresh_tries):
                if genome not in ledger.cache and genome not in offspring:
                    break
                genome = mutate(genome, force=True)
            ledger.evaluate(genome)
            offspring.append(genome)
        population = offspring
    return ledger.result("ga", began, generation)
