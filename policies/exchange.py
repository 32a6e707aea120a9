"""Sharing a location's ordering effort and service across its items: the exchange-curve rules.

Why: a location is judged in aggregate (units of demand met, money tied up in stock, orders its buyers place)
while an ERP's min/max rule gives every item the same time supply and the same service whatever it is worth.
Two classic multi-item results do better for the same aggregate effort (Silver, Pyke & Peterson, "Inventory
Management and Production Planning and Scheduling", 3rd ed., the exchange curves for cycle stock of
ch. 5 and the shortage-cost decision rules of ch. 7; Brown, "Decision Rules for Inventory Management", 1967).

Symbols, per item i: d_i mean demand per day, h_i holding cost per unit-day (value x yearly rate / 365),
Q_i the order batch, N the orders per day the whole location may place, B the cost of a unit short.

Batches under an order budget. Minimising the cycle-stock cost sum_i h_i Q_i / 2 subject to
sum_i d_i / Q_i = N gives, with the Lagrange multiplier in the place of the fixed cost K, the EOQ at an
implied K (SPP ch. 5):

    Q_i = sqrt(2 K d_i / h_i),      sqrt(K) = sum_j sqrt(d_j h_j / 2) / N

so an item orders sqrt(d_i h_i / 2K) times a day: in proportion to the square root of the value it moves,
where equal time supplies (min/max) order every item equally often.

Service from one penalty per unit short. With the same cost B for every unit short (the Lagrange multiplier
of a location-wide unit fill-rate target: every unit short counts once, whatever its value), the reorder
point minimising h_i (s_i - mu_i) + B (d_i / Q_i) E[(X_i - s_i)^+] per day satisfies

    P(X_i > s_i) = h_i Q_i / (B d_i)        (SPP ch. 7, the rule for a cost B_2 v per unit short, B = B_2 v)

so the cycle service level is alpha_i = 1 - h_i Q_i / (B d_i), clipped to [floor, ceiling]: cheap, fast
items get high service and dear, slow ones low. Sweeping B traces the exchange curve between the aggregate
fill rate and the stock value.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from policies._arrays import check_condition, vector
from policies.errors import PolicyError

__all__ = ["batches_for_order_rate", "service_for_shortage_penalty"]


def batches_for_order_rate(
    orders_per_day: float, holding_cost: npt.ArrayLike, demand_rate: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], float]:
    """``(Q, K)``: ``[n]`` batches (>= 1 unit) with sum_i d_i / Q_i = ``orders_per_day``, and the implied K.

    Args:
        orders_per_day: N, the location's order budget per day, finite and > 0.
        holding_cost: ``[n]`` h_i per unit-day, finite and > 0.
        demand_rate: ``[n]`` d_i per day, finite and >= 0; items without demand get Q = 1 and no share.

    The floor of one unit (an item whose EOQ is below a unit orders every time it is short) means the
    budget is an upper bound when some batches hit it; with no demand anywhere K is 0 and every Q is 1.
    """
    if not (np.isfinite(orders_per_day) and orders_per_day > 0):
        raise PolicyError(f"orders_per_day: must be finite and > 0, got {orders_per_day!r}")
    h = vector("holding_cost", holding_cost)
    check_condition("holding_cost", np.isfinite(h) & (h > 0), "must be finite and > 0")
    d = vector("demand_rate", demand_rate, h.shape[0])
    check_condition("demand_rate", np.isfinite(d) & (d >= 0), "must be finite and >= 0")
    root_k = float(np.sqrt(d * h / 2.0).sum()) / orders_per_day
    batch: npt.NDArray[np.float64] = np.maximum(np.sqrt(2.0 * d / h) * root_k, 1.0)
    return batch, root_k**2


def service_for_shortage_penalty(
    holding_cost: npt.ArrayLike,
    batch: npt.ArrayLike,
    demand_rate: npt.ArrayLike,
    penalty: npt.ArrayLike,
    *,
    floor: float = 0.01,
    ceiling: float = 0.999,
) -> npt.NDArray[np.float64]:
    """``[n]`` cycle service levels alpha_i = 1 - h_i Q_i / (B d_i), clipped to [``floor``, ``ceiling``].

    Args:
        holding_cost: ``[n]`` h_i per unit-day, finite and > 0.
        batch: ``[n]`` Q_i, finite and > 0.
        demand_rate: ``[n]`` d_i per day, finite and >= 0 (no demand: ``floor``).
        penalty: B, money per unit short, finite and > 0: one number for every item (the location-wide unit
            fill-rate multiplier), or ``[n]``, e.g. a multiple of each unit value (lost sales valued at what
            they are worth: then alpha depends only on the time supply Q / d, not on the value).
        floor, ceiling: bounds on alpha, 0 < floor <= ceiling < 1 (the policy's z stays finite).
    """
    if not 0.0 < floor <= ceiling < 1.0:
        raise PolicyError(f"floor, ceiling: need 0 < floor <= ceiling < 1, got {floor!r}, {ceiling!r}")
    h = vector("holding_cost", holding_cost)
    check_condition("holding_cost", np.isfinite(h) & (h > 0), "must be finite and > 0")
    n = h.shape[0]
    q = vector("batch", batch, n)
    check_condition("batch", np.isfinite(q) & (q > 0), "must be finite and > 0")
    d = vector("demand_rate", demand_rate, n)
    check_condition("demand_rate", np.isfinite(d) & (d >= 0), "must be finite and >= 0")
    b = np.broadcast_to(np.asarray(penalty, dtype=np.float64), (n,)) if np.ndim(penalty) == 0 else vector(
        "penalty", penalty, n)  # fmt: skip
    check_condition("penalty", np.isfinite(b) & (b > 0), "must be finite and > 0")
    stockout = np.divide(h * q, b * d, out=np.full(n, np.inf), where=d > 0)
    alpha: npt.NDArray[np.float64] = np.clip(1.0 - stockout, floor, ceiling)
    return alpha
