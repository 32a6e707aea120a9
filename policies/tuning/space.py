"""The search space of :mod:`policies.tuning`: service level x review period x safety-stock multiplier.

Each dimension is a finite, ascending tuple of values, so the genetic algorithm and the grid search range over
one and the same discrete space; a genome is the tuple of indices into the three dimensions.

The multiplier m scales the safety stock: with the cycle-service-level policy the safety stock is z sigma_P,
z = Phi^-1(alpha), so m x (z sigma_P) is exactly the policy at the effective level Phi(m z) (capped at
z = :data:`policies.normal.Z_MAX`). Only m z matters; the multiplier is there to reach levels beyond the
level dimension (m < 1 below its lowest level, m > 1 above 0.995) and gives the space a second axis.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise, product

import numpy as np

from forecasting.normal import standard_normal_ppf
from policies.errors import PolicyError
from policies.normal import Z_MAX, standard_normal_cdf

__all__ = [
    "DEFAULT_MULTIPLIERS",
    "DEFAULT_REVIEW_DAYS",
    "DEFAULT_SERVICE_LEVELS",
    "Genome",
    "SearchSpace",
    "TuningParams",
]

DEFAULT_SERVICE_LEVELS = (0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.975, 0.99, 0.995)
DEFAULT_REVIEW_DAYS = (1, 3, 7, 14)
DEFAULT_MULTIPLIERS = (0.5, 0.75, 1.0, 1.25, 1.5)

Genome = tuple[int, int, int]
"""Indices into (service levels, review days, multipliers) of a :class:`SearchSpace`."""


@dataclass(frozen=True, slots=True, order=True)
class TuningParams:
    """One point of the space: target cycle service level alpha, review period R (days), multiplier m."""

    service_level: float
    review_days: int
    multiplier: float = 1.0

    @property
    def effective_service_level(self) -> float:
        """Phi(m Phi^-1(alpha)): the level whose safety stock is m times alpha's (z capped at Z_MAX)."""
        if self.multiplier == 1.0:
            return self.service_level
        z = float(standard_normal_ppf(np.array([self.service_level]))[0])
        return float(standard_normal_cdf(np.array([min(self.multiplier * z, Z_MAX)]))[0])

    def as_dict(self) -> dict[str, float | int]:
        return {
            "service_level": self.service_level,
            "review_days": self.review_days,
            "multiplier": self.multiplier,
            "effective_service_level": round(self.effective_service_level, 6),
        }


def _ascending(name: str, values: tuple[float, ...]) -> None:
    if not values or any(b <= a for a, b in pairwise(values)):
        raise PolicyError(f"{name}: need at least one value, strictly ascending, got {values}")


@dataclass(frozen=True, slots=True)
class SearchSpace:
    """The discrete space searched.

    Attributes:
        service_levels: target cycle service levels, each in (0.5, 1), ascending (default 0.55 .. 0.995).
        review_days: review periods R, ints >= 1, ascending (default 1, 3, 7, 14).
        multipliers: safety-stock multipliers, each > 0, ascending; ``(1.0,)`` switches the dimension off.
    """

    service_levels: tuple[float, ...] = DEFAULT_SERVICE_LEVELS
    review_days: tuple[int, ...] = DEFAULT_REVIEW_DAYS
    multipliers: tuple[float, ...] = DEFAULT_MULTIPLIERS

    def __post_init__(self) -> None:
        levels = tuple(float(v) for v in self.service_levels)
        _ascending("service_levels", levels)
        if not all(0.5 < v < 1.0 for v in levels):
            raise PolicyError(f"service_levels: each must lie strictly between 0.5 and 1, got {levels}")
        reviews = tuple(self.review_days)
        if not all(isinstance(r, int | np.integer) and not isinstance(r, bool) and r >= 1 for r in reviews):
            raise PolicyError(f"review_days: need ints >= 1, got {reviews}")
        reviews = tuple(int(r) for r in reviews)
        _ascending("review_days", tuple(float(r) for r in reviews))
        multipliers = tuple(float(v) for v in self.multipliers)
        _ascending("multipliers", multipliers)
        if not all(np.isfinite(v) and v > 0 for v in multipliers):
            raise PolicyError(f"multipliers: each must be finite and > 0, got {multipliers}")
        object.__setattr__(self, "service_levels", levels)
        object.__setattr__(self, "review_days", reviews)
        object.__setattr__(self, "multipliers", multipliers)

    @property
    def shape(self) -> Genome:
        """Number of values per dimension."""
        return len(self.service_levels), len(self.review_days), len(self.multipliers)

    @property
    def size(self) -> int:
        """Number of points of the grid."""
        a, b, c = self.shape
        return a * b * c

    def params(self, genome: Genome) -> TuningParams:
        """The point a genome names; errors name a gene out of range."""
        for gene, (index, count) in enumerate(zip(genome, self.shape, strict=True)):
            if not 0 <= index < count:
                raise PolicyError(f"genome: gene {gene} is {index}, outside 0 .. {count - 1}")
        i, j, k = genome
        return TuningParams(self.service_levels[i], self.review_days[j], self.multipliers[k])

    def genomes(self) -> Iterator[Genome]:
        """Every genome, in lexicographic order (the service level slowest, the multiplier fastest)."""
        a, b, c = self.shape
        yield from product(range(a), range(b), range(c))

    def as_dict(self) -> dict[str, list[float] | list[int]]:
        return {
            "service_levels": list(self.service_levels),
            "review_days": list(self.review_days),
            "multipliers": list(self.multipliers),
        }
