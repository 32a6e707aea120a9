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

The safety factor z follows ``params.service_measure``: z = Phi^-1(alpha) for a cycle service level, or the
fill-rate z of :func:`policies.z_for_fill_rate` with the demand per review cycle d * R as Q, i.e.
sigma_P G(z) = (1 - beta) d R (backorders) or (1 - beta) / beta * d R (lost sales, ``params.lost_sales``):
the periodic-review form of the P2 criterion (Silver, Pyke & Peterson, 4th ed., ch. 6, (R, S) systems).
With R = 1 and sigma_L = 0, s is the newsvendor base-stock level mu(L+1) + z sigma sqrt(L+1) of Snyder & Shen,
eq. (4.30) (the tests check it against stockpyl's ``newsvendor_normal``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from forecasting.period import PeriodDemand
from policies._arrays import check_condition, vector
from policies._decide import checked_inputs, finish
from policies.decision import OrderDecision
from policies.kinds import PolicyKind
from policies.params import ItemParams
from policies.rules import Rule
from policies.service import protection_std, safety_factor

__all__ = ["order_up_to"]


def order_up_to(
    position: npt.ArrayLike,
    protection: PeriodDemand,
    daily_mean: npt.ArrayLike,
    params: ItemParams,
    *,
    shelf_stock: npt.ArrayLike,
    z: npt.ArrayLike | None = None,
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
        z: optional ``[n]`` finite safety factors that replace the ones of ``params``' targets, e.g. the
            calibrated ones of :meth:`policies.calibration.Calibration.safety_factors`; the decision still
            records ``params.service_level`` as its target.

    Returns:
        An :class:`OrderDecision` (policy PERIODIC_ORDER_UP_TO); use :func:`policies.explain` for a sentence.
    """
    inputs = checked_inputs(position, protection, daily_mean, params, shelf_stock)
    demand = inputs.daily_mean
    sigma_p = protection_std(protection.std, demand, params.lead_time_std_days)
    cycle = demand * params.review_days
    if z is None:
        factor = safety_factor(params, cycle, sigma_p)
    else:
        factor = vector("z", z, params.n)
        check_condition("z", np.isfinite(factor), "must be finite")
    safety = factor * sigma_p
    reorder_point = protection.mean + safety
    level = reorder_point + cycle
    orders = inputs.position < reorder_point
    return finish(
        inputs,
        params,
        orders=orders,
        need=level - inputs.position,
        base_rule=Rule.ORDER_UP_TO,
        policy=PolicyKind.PERIODIC_ORDER_UP_TO,
        reorder_point=reorder_point,
        level=level,
        safety=safety,
        demand_mean=protection.mean,
        demand_std=sigma_p,
        z=factor,
        target=params.service_level,
    )
