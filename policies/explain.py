"""One-sentence human reasons for order decisions, with the numbers, for the outbound command and logs.

Why separate from the rule: the worker only formats the series it actually sends a command for, so this is
scalar code per requested row, while :func:`policies.order_up_to` stays vectorised.
"""

from __future__ import annotations

import math

from policies._decide import UNIT_SLACK
from policies.decision import OrderDecision
from policies.errors import PolicyError
from policies.kinds import PolicyKind, ServiceMeasure
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


def _target(decision: OrderDecision, params: ItemParams, i: int) -> float:
    target = float(decision.target[i])
    return float(params.service_level[i]) if math.isnan(target) else target


def _service(decision: OrderDecision, params: ItemParams, i: int) -> str:
    """How the safety factor was set: the target and, for a fill rate, the shortage it allows per cycle."""
    target = _target(decision, params, i)
    if int(decision.service_measure[i]) != ServiceMeasure.FILL_RATE:
        return f"for a {target:.1%} cycle service level"
    if decision.policy_at(i) is PolicyKind.PERIODIC_ORDER_UP_TO:
        cycle = float(decision.order_up_to[i] - decision.reorder_point[i])
        per = "demand per review"
    else:
        cycle = float(decision.batch_quantity[i])
        per = "the batch Q"
    share = (1.0 - target) / target if bool(params.lost_sales[i]) else 1.0 - target
    form = "(1 - beta)/beta" if bool(params.lost_sales[i]) else "(1 - beta)"
    return (
        f"for a {target:.1%} fill rate: expected shortage per cycle sigma x G(z) = {share * cycle:.2f}"
        f" = {form} x {per} {cycle:.1f}"
    )


def _budget_tail(decision: OrderDecision, i: int) -> str:
    rule = decision.rule_at(i)
    if rule not in (Rule.TRIMMED_BY_BUDGET, Rule.CUT_BY_BUDGET):
        return ""
    action = f"trimmed to {int(decision.quantity[i])}" if rule is Rule.TRIMMED_BY_BUDGET else "cut"
    return (
        f"; {action} by the location budget: the order would cost {decision.order_cost[i]:.2f} with"
        f" {decision.budget_left[i]:.2f} left after higher-ranked orders (rank {int(decision.budget_rank[i]) + 1},"
        f" value {decision.value_per_money[i]:.4g} per unit of money)"
    )


def explain(decision: OrderDecision, params: ItemParams, i: int) -> str:
    """A sentence saying why series ``i`` orders what it orders, e.g.

    ``order 108 units (rounded_to_case_pack): inventory position 35 is below the reorder point 80.4 (mean
    demand 60.0 over 10 days + safety stock 20.4 = z 1.64 x sigma 12.4 for a 95.0% cycle service level);
    reaching the order-up-to level 110.4 needs 76, raised to the minimum order quantity 100, rounded up to
    108 (case pack 12).``

    The wording follows the row's policy ((R, S), (s, Q), (s, S), newsvendor), its service measure (cycle
    service level or fill rate, with the shortage allowance) and, after :func:`policies.apply_budget`, the
    budget's cut or trim with the order's rank and value per unit of money.
    """
    if isinstance(i, bool) or not 0 <= i < decision.n:
        raise PolicyError(f"i: expected a row index in [0, {decision.n}), got {i!r}")
    if params.n != decision.n:
        raise PolicyError(f"params: expected {decision.n} series, got {params.n}")
    rule = decision.rule_at(i)
    policy = decision.policy_at(i)
    position = _units(float(decision.position[i]))
    mean = float(decision.protection_mean[i])
    sigma = float(decision.protection_std[i])
    if policy is PolicyKind.NEWSVENDOR:
        ratio = _target(decision, params, i)
        trigger = f"the newsvendor level {decision.order_up_to[i]:.1f}"
        context = (
            f"the {ratio:.1%} quantile of demand over {params.protection_days[i]:g} days at the critical ratio"
            f" {ratio:.3f}; mean {mean:.1f}, sigma {sigma:.1f}"
        )
    else:
        period = (
            f"over {params.protection_days[i]:g} days"
            if policy is PolicyKind.PERIODIC_ORDER_UP_TO
            else "over the protection period"
        )
        trigger = f"the reorder point {decision.reorder_point[i]:.1f}"
        context = (
            f"mean demand {mean:.1f} {period}"
            f" + safety stock {decision.safety_stock[i]:.1f} = z {decision.z[i]:.2f}"
            f" x sigma {sigma:.1f} {_service(decision, params, i)}"
        )
    if rule is Rule.NO_ORDER_ABOVE_REORDER_POINT:
        return f"no order ({rule.label}): inventory position {position} is at or above {trigger} ({context})."
    quantity = int(decision.quantity[i])
    head = f"order {quantity} units" if quantity > 0 else "no order"
    steps = ", ".join([f"needs {int(decision.needed[i])}", *_constraint_steps(decision, params, i)])
    if policy is PolicyKind.REORDER_POINT_QUANTITY:
        batch = float(decision.batch_quantity[i])
        count = math.ceil((float(decision.reorder_point[i]) - float(decision.position[i])) / batch - UNIT_SLACK)
        plural = "batch" if max(count, 1) == 1 else "batches"
        action = f"{max(count, 1)} {plural} of Q {batch:.1f} lift it to the reorder point or above, {steps}"
    elif policy is PolicyKind.NEWSVENDOR:
        action = f"reaching it {steps}"
    else:
        action = f"reaching the order-up-to level {decision.order_up_to[i]:.1f} {steps}"
    return (
        f"{head} ({rule.label}): inventory position {position} is below {trigger} ({context}); {action}"
        f"{_budget_tail(decision, i)}."
    )
