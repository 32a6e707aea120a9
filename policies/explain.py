"""One-sentence human reasons for order decisions, with the numbers, for the outbound command and logs.

Why separate from the rule: the worker only formats the series it actually sends a command for, so this is
scalar code per requested row, while :func:`policies.order_up_to` stays vectorised.
"""

from __future__ import annotations

import math

from policies.decision import OrderDecision
from policies.errors import PolicyError
from policies.params import ItemParams
from policies.rules import Rule

__all__ = ["explain"]


def _units(value: float) -> str:
    if math.isinf(value):
        return "unlimited"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _constraint_steps(decision: OrderDecision, params: ItemParams, i: int) -> list[str]:
    """Replay :func:`policies.constraints.constrain_quantity` for row ``i`` to name every step that acted."""
    pack = int(params.case_pack[i])
    moq = int(params.moq[i])
    max_order = float(params.max_order_qty[i])
    room = float(decision.shelf_room[i])
    q = float(decision.needed[i])
    steps: list[str] = []
    if q < moq:
        q = moq
        steps.append(f"raised to the minimum order quantity {moq}")
    packed = math.ceil(q / pack) * pack
    if packed != q:
        q = packed
        steps.append(f"rounded up to {q:.0f} (case pack {pack})")
    if q > max_order:
        q = math.floor(max_order / pack) * pack
        steps.append(f"capped at {q:.0f} by the maximum order quantity {_units(max_order)}")
    if q > room:
        q = max(math.floor(room / pack) * pack, 0)
        capacity = _units(float(params.shelf_capacity[i]))
        steps.append(f"capped at {q:.0f} by the shelf (capacity {capacity}, room {_units(room)})")
    if q < moq:
        steps.append(f"which is below the minimum order quantity {moq}")
    return steps


def explain(decision: OrderDecision, params: ItemParams, i: int) -> str:
    """A sentence saying why series ``i`` orders what it orders, e.g.

    ``order 108 units (rounded_to_case_pack): inventory position 35 is below the reorder point 80.4 (mean
    demand 60.0 over 10 days + safety stock 20.4 = z 1.64 x sigma 12.4 for a 95.0% cycle service level);
    reaching the order-up-to level 110.4 needs 76, raised to the minimum order quantity 100, rounded up to
    108 (case pack 12).``
    """
    if isinstance(i, bool) or not 0 <= i < decision.n:
        raise PolicyError(f"i: expected a row index in [0, {decision.n}), got {i!r}")
    if params.n != decision.n:
        raise PolicyError(f"params: expected {decision.n} series, got {params.n}")
    rule = decision.rule_at(i)
    position = _units(float(decision.position[i]))
    context = (
        f"mean demand {decision.protection_mean[i]:.1f} over {params.protection_days[i]:g} days"
        f" + safety stock {decision.safety_stock[i]:.1f} = z {decision.z[i]:.2f}"
        f" x sigma {decision.protection_std[i]:.1f} for a {params.service_level[i]:.1%} cycle service level"
    )
    reorder_point = f"{decision.reorder_point[i]:.1f}"
    if rule is Rule.NO_ORDER_ABOVE_REORDER_POINT:
        return (
            f"no order ({rule.label}): inventory position {position} is at or above the reorder point"
            f" {reorder_point} ({context})."
        )
    quantity = int(decision.quantity[i])
    head = f"order {quantity} units" if quantity > 0 else "no order"
    steps = ", ".join([f"needs {int(decision.needed[i])}", *_constraint_steps(decision, params, i)])
    return (
        f"{head} ({rule.label}): inventory position {position} is below the reorder point {reorder_point}"
        f" ({context}); reaching the order-up-to level {decision.order_up_to[i]:.1f} {steps}."
    )
