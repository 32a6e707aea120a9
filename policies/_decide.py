"""The steps every policy shares: validate the batch inputs, then turn a need into a constrained order.

Why one place: the four policies differ only in how they set the reorder point and the need; MOQ, case pack,
caps, the no-order rule and the :class:`OrderDecision` they return must be identical across them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from forecasting.period import PeriodDemand
from policies._arrays import check_condition, vector
from policies.constraints import constrain_quantity
from policies.decision import OrderDecision
from policies.errors import PolicyError
from policies.kinds import PolicyKind
from policies.params import ItemParams
from policies.rules import Rule

__all__ = ["UNIT_SLACK", "Inputs", "checked_inputs", "finish"]

# A need is rounded up to whole units; this slack keeps 76.000000001 (float noise) at 76.
UNIT_SLACK = 1e-9


@dataclass(frozen=True, slots=True)
class Inputs:
    """Validated ``[n]`` arrays of one decision pass."""

    position: npt.NDArray[np.float64]
    daily_mean: npt.NDArray[np.float64]
    shelf_stock: npt.NDArray[np.float64]


def checked_inputs(
    position: npt.ArrayLike,
    demand: PeriodDemand,
    daily_mean: npt.ArrayLike,
    params: ItemParams,
    shelf_stock: npt.ArrayLike,
    *,
    demand_name: str = "protection",
) -> Inputs:
    """Check shapes and values of the common inputs; errors name the parameter."""
    n = params.n
    pos = vector("position", position, n)
    check_condition("position", np.isfinite(pos), "must be finite")
    mean = vector("daily_mean", daily_mean, n)
    check_condition("daily_mean", np.isfinite(mean) & (mean >= 0), "must be finite and >= 0")
    stock = vector("shelf_stock", shelf_stock, n)
    check_condition("shelf_stock", np.isfinite(stock), "must be finite")
    if not isinstance(demand, PeriodDemand):
        raise PolicyError(f"{demand_name}: expected a PeriodDemand, got {type(demand).__name__}")
    if demand.n != n:
        raise PolicyError(f"{demand_name}: expected {n} series, got {demand.n}")
    return Inputs(position=pos, daily_mean=mean, shelf_stock=stock)


def finish(
    inputs: Inputs,
    params: ItemParams,
    *,
    orders: npt.NDArray[np.bool_],
    need: npt.NDArray[np.float64],
    base_rule: Rule,
    policy: PolicyKind,
    reorder_point: npt.NDArray[np.float64],
    level: npt.NDArray[np.float64],
    safety: npt.NDArray[np.float64],
    demand_mean: npt.NDArray[np.float64],
    demand_std: npt.NDArray[np.float64],
    z: npt.NDArray[np.float64],
    target: npt.NDArray[np.float64],
    measure: npt.NDArray[np.int8] | None = None,
    batch_quantity: npt.NDArray[np.float64] | None = None,
) -> OrderDecision:
    """Round ``need`` up to whole units on the ``orders`` rows, apply the constraints, build the decision.

    ``base_rule`` is what an order unchanged by the constraints records (ORDER_UP_TO or ORDER_MULTIPLE_OF_Q);
    rows without an order record NO_ORDER_ABOVE_REORDER_POINT.
    """
    shelf_room = params.shelf_capacity - inputs.shelf_stock
    needed = np.where(orders, np.ceil(np.maximum(need, 0.0) - UNIT_SLACK), 0.0).astype(np.int64)
    # The policies order only where the position is below its trigger, so needed >= 1 there; max() guards noise.
    needed = np.where(orders, np.maximum(needed, 1), 0)
    quantity, rule = constrain_quantity(needed, params, shelf_room)
    rule = np.where(rule == Rule.ORDER_UP_TO, np.int8(base_rule), rule).astype(np.int8)
    quantity = np.where(orders, quantity, 0)
    rule = np.where(orders, rule, np.int8(Rule.NO_ORDER_ABOVE_REORDER_POINT)).astype(np.int8)
    n = params.n
    return OrderDecision(
        quantity=quantity,
        rule=rule,
        reorder_point=reorder_point,
        order_up_to=level,
        safety_stock=safety,
        protection_mean=demand_mean,
        protection_std=demand_std,
        position=inputs.position,
        z=z,
        needed=needed,
        shelf_room=shelf_room,
        policy=np.full(n, policy, dtype=np.int8),
        service_measure=params.service_measure if measure is None else measure,
        target=target,
        batch_quantity=np.full(n, np.nan) if batch_quantity is None else batch_quantity,
    )
