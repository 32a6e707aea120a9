"""Periodic-review (R, s, S) order-up-to policy with safety stock for a cycle service level, vectorised.

Every R days the position is reviewed; an order placed now arrives after L days, and the next one can arrive
only L + R days from now, so the stock must protect against demand over L + R (the protection period).
With uncertain lead time (Silver, Pyke & Peterson, "Inventory and Production Management in Supply
Chains", 4th ed., ch. 6: var = E[L] sigma_d^2 + d^2 sigma_L^2, applied to the protection period):

    sigma_P = sqrt(std_{L+R}^2 + d^2 * sigma_L^2)
    safety stock SS = z * sigma_P,          z = Phi^-1(service level)
    reorder point s = mean_{L+R} + SS
    order-up-to  S = s + d * R               (one review period of cycle stock)

and when position < s the need is S - position (see :mod:`policies.constraints` for MOQ, case pack and caps).
With R = 1 and sigma_L = 0, s is the newsvendor base-stock level mu(L+1) + z sigma sqrt(L+1) of Snyder & Shen,
eq. (4.30) (the tests check it against stockpyl's ``newsvendor_normal``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from forecasting.period import PeriodDemand
from policies._arrays import check_condition, vector
from policies.constraints import constrain_quantity
from policies.decision import OrderDecision
from policies.errors import PolicyError
from policies.params import ItemParams
from policies.rules import Rule
from policies.service import z_for_service_level

__all__ = ["order_up_to"]

# S - position is rounded up to whole units; this slack keeps 76.000000001 (float noise) at 76.
_UNIT_SLACK = 1e-9


def order_up_to(
    position: npt.ArrayLike,
    protection: PeriodDemand,
    daily_mean: npt.ArrayLike,
    params: ItemParams,
    *,
    shelf_stock: npt.ArrayLike,
) -> OrderDecision:
    """Decide order quantities for ``n`` series at once.

    Args:
        position: ``[n]`` inventory position (:func:`policies.inventory_position`), finite.
        protection: demand over each series' protection period L + R, i.e.
            ``forecast.over_period(params.protection_days)``.
        daily_mean: ``[n]`` mean daily demand d (finite, >= 0) for the cycle stock d * R and the lead-time
            variance term d^2 * sigma_L^2.
        params: item parameters and service targets, ``[n]`` each.
        shelf_stock: ``[n]`` on hand + on order + pending (:func:`policies.shelf_stock`), for the shelf cap.

    Returns:
        An :class:`OrderDecision`; use :func:`policies.explain` for a sentence per series.
    """
    n = params.n
    pos = vector("position", position, n)
    check_condition("position", np.isfinite(pos), "must be finite")
    demand = vector("daily_mean", daily_mean, n)
    check_condition("daily_mean", np.isfinite(demand) & (demand >= 0), "must be finite and >= 0")
    stock = vector("shelf_stock", shelf_stock, n)
    check_condition("shelf_stock", np.isfinite(stock), "must be finite")
    if not isinstance(protection, PeriodDemand):
        raise PolicyError(f"protection: expected a PeriodDemand, got {type(protection).__name__}")
    if protection.n != n:
        raise PolicyError(f"protection: expected {n} series, got {protection.n}")

    z = z_for_service_level(params.service_level)
    sigma_p = np.sqrt(protection.std**2 + (demand * params.lead_time_std_days) ** 2)
    safety = z * sigma_p
    reorder_point = protection.mean + safety
    level = reorder_point + demand * params.review_days
    shelf_room = params.shelf_capacity - stock

    orders = pos < reorder_point
    needed = np.where(orders, np.ceil(np.maximum(level - pos, 0.0) - _UNIT_SLACK), 0.0).astype(np.int64)
    # S >= s > position, so needed >= 1 on ordering rows; the max() guards float noise all the same.
    needed = np.where(orders, np.maximum(needed, 1), 0)
    quantity, rule = constrain_quantity(needed, params, shelf_room)
    quantity = np.where(orders, quantity, 0)
    rule = np.where(orders, rule, np.int8(Rule.NO_ORDER_ABOVE_REORDER_POINT)).astype(np.int8)

    return OrderDecision(
        quantity=quantity,
        rule=rule,
        reorder_point=reorder_point,
        order_up_to=level,
        safety_stock=safety,
        protection_mean=protection.mean,
        protection_std=sigma_p,
        position=pos,
        z=z,
        needed=needed,
        shelf_room=shelf_room,
    )
