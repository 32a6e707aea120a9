"""Cost parameters per series and the economic order quantity.

Symbols (per series, money per unit unless stated; the time unit is the day throughout):
    c  unit_cost        purchase cost of one unit
    p  price            selling price of one unit
    h  holding_cost     cost of holding one unit for one day (capital, space, shrinkage)
    g  stockout_penalty goodwill / expediting penalty per unit short, beyond any lost margin
    K  ordering_cost    fixed cost of placing one order
    v  salvage          value of a unit left over at the end of a selling period, for perishable items only

Unknown values are nan; a function that needs one raises :class:`~policies.errors.PolicyError` naming it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from policies._arrays import check_condition, vector
from policies.errors import PolicyError

__all__ = ["CostParams", "economic_order_quantity", "known"]

_FIELDS = ("unit_cost", "price", "holding_cost", "stockout_penalty", "ordering_cost", "salvage")


def _maybe(name: str, value: npt.ArrayLike, n: int | None) -> npt.NDArray[np.float64]:
    """Like :func:`policies._arrays.vector` but nan (unknown) is allowed; known values finite and >= 0."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise PolicyError(f"{name}: expected numbers, got {type(value).__name__}") from exc
    if array.ndim != 1:
        raise PolicyError(f"{name}: expected shape [n], got {array.shape}")
    if n is not None and array.shape[0] != n:
        raise PolicyError(f"{name}: expected length {n}, got {array.shape[0]}")
    check_condition(name, np.isnan(array) | (np.isfinite(array) & (array >= 0)), "must be finite and >= 0 or nan")
    return array


def known(name: str, values: npt.NDArray[np.float64], rows: npt.NDArray[np.bool_] | None = None) -> None:
    """Raise :class:`PolicyError` naming ``name`` when a value a computation needs is nan (unknown)."""
    needed = np.ones(values.shape, dtype=np.bool_) if rows is None else rows
    check_condition(name, ~(needed & np.isnan(values)), "is unknown (nan) but required here")


@dataclass(frozen=True, slots=True)
class CostParams:
    """Money parameters per series, every field ``[n]`` float64, finite and >= 0, or nan for unknown.

    Attributes:
        unit_cost: c, purchase cost per unit.
        price: p, selling price per unit.
        holding_cost: h, cost of holding one unit for one day.
        stockout_penalty: g, goodwill / expediting penalty per unit short (beyond the lost margin).
        ordering_cost: K, fixed cost per order placed.
        salvage: v, value per unit left over at the end of a period of a perishable item; nan for items
            that keep (the default: leftover stock is simply carried to the next period).
    """

    unit_cost: npt.NDArray[np.float64]
    price: npt.NDArray[np.float64]
    holding_cost: npt.NDArray[np.float64]
    stockout_penalty: npt.NDArray[np.float64]
    ordering_cost: npt.NDArray[np.float64]
    salvage: npt.NDArray[np.float64]

    def __post_init__(self) -> None:
        n: int | None = None
        for name in _FIELDS:
            array = _maybe(name, getattr(self, name), n)
            n = array.shape[0]
            object.__setattr__(self, name, array)

    @property
    def n(self) -> int:
        """Number of series."""
        return int(self.unit_cost.shape[0])

    @classmethod
    def uniform(
        cls,
        n: int,
        *,
        unit_cost: float = float("nan"),
        price: float = float("nan"),
        holding_cost: float = float("nan"),
        stockout_penalty: float = float("nan"),
        ordering_cost: float = float("nan"),
        salvage: float = float("nan"),
    ) -> CostParams:
        """The same costs for ``n`` series; omitted ones are unknown (nan)."""
        return cls(
            unit_cost=np.full(n, unit_cost),
            price=np.full(n, price),
            holding_cost=np.full(n, holding_cost),
            stockout_penalty=np.full(n, stockout_penalty),
            ordering_cost=np.full(n, ordering_cost),
            salvage=np.full(n, salvage),
        )


def economic_order_quantity(
    ordering_cost: npt.ArrayLike, holding_cost: npt.ArrayLike, demand_rate: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """``[n]`` economic order quantity Q* = sqrt(2 K D / h) (Harris 1913; Silver, Pyke & Peterson, 4th ed.,
    ch. 4; Snyder & Shen, eq. (3.4); stockpyl's ``economic_order_quantity``).

    Args:
        ordering_cost: K, fixed cost per order, finite and >= 0.
        holding_cost: h, holding cost per unit per unit of time, finite and > 0.
        demand_rate: D, mean demand per the same unit of time (units per day with h per unit-day), >= 0.

    Q* minimises K D / Q + h Q / 2 (ordering plus average cycle-stock holding cost per unit of time).
    Example (Snyder & Shen, Example 3.1): K = 8, h = 0.225, D = 1300 -> Q* = 304.05.
    """
    k = vector("ordering_cost", ordering_cost)
    n = k.shape[0]
    check_condition("ordering_cost", np.isfinite(k) & (k >= 0), "must be finite and >= 0")
    h = vector("holding_cost", holding_cost, n)
    check_condition("holding_cost", np.isfinite(h) & (h > 0), "must be finite and > 0")
    d = vector("demand_rate", demand_rate, n)
    check_condition("demand_rate", np.isfinite(d) & (d >= 0), "must be finite and >= 0")
    result: npt.NDArray[np.float64] = np.sqrt(2.0 * k * d / h)
    return result
