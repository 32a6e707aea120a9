"""Continuous-review (s, Q) and (s, S) policies with levels from the lead-time demand distribution.

Symbols: L the lead time (days), d the mean daily demand, sigma_LT the lead-time std, mu_L and std_L the mean
and std of demand over L from the forecast (``forecast.over_period(params.lead_time_days)``), Q the order
batch (e.g. :func:`policies.economic_order_quantity`), z the safety factor, IP the inventory position.

    sigma_L = sqrt(std_L^2 + d^2 sigma_LT^2)          (:func:`policies.protection_std`)
    s = mu_L + z sigma_L                               reorder point
    (s, Q): when IP < s order n Q with n = ceil((s - IP) / Q), the smallest multiple lifting IP to [s, s + Q)
    (s, S): S = s + Q; when IP < s order S - IP

(Silver, Pyke & Peterson, 4th ed., ch. 6, the (s, Q) and (s, S) systems with the EOQ as Q and S - s;
Axsäter, "Inventory Control", 3rd ed., ch. 5, the (R, Q) policy ordering multiples of Q.) The trigger is
IP < s, the same as :func:`policies.order_up_to`, so an item with no demand and no stock never orders;
for integer demand it is the textbook "IP <= s" with s lowered by less than a unit.

z follows ``params.service_measure``: Phi^-1(alpha) for a cycle service level, or the fill-rate root of
sigma_L G(z) = (1 - beta) Q (lost sales: (1 - beta)/beta Q), the P2 criterion with Q the expected demand
per cycle (both policies order Q on average when the undershoot of s is ignored).

Reviewed every R days rather than continuously, the same rules protect L + R: pass
``forecast.over_period(params.protection_days)`` (the (R, s, Q) and (R, s, S) systems of SPP).
With R = 1 day, daily decisions approximate continuous review for slow movers.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from forecasting.period import PeriodDemand
from policies._arrays import check_condition, vector
from policies._decide import UNIT_SLACK, checked_inputs, finish
from policies.decision import OrderDecision
from policies.kinds import PolicyKind
from policies.params import ItemParams
from policies.rules import Rule
from policies.service import protection_std, safety_factor

__all__ = ["reorder_point", "s_q_policy", "s_s_policy"]


def reorder_point(
    lead_demand: PeriodDemand, daily_mean: npt.ArrayLike, params: ItemParams, order_quantity: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """``(s, z, sigma_L)``, each ``[n]``: s = mu_L + z sigma_L for the target in ``params`` and batch Q.

    ``order_quantity`` is Q (finite, > 0), needed for fill-rate targets; the cycle-service z ignores it.
    """
    n = params.n
    d = vector("daily_mean", daily_mean, n)
    check_condition("daily_mean", np.isfinite(d) & (d >= 0), "must be finite and >= 0")
    q = vector("order_quantity", order_quantity, n)
    check_condition("order_quantity", np.isfinite(q) & (q > 0), "must be finite and > 0")
    sigma = protection_std(lead_demand.std, d, params.lead_time_std_days)
    z = safety_factor(params, q, sigma)
    level: npt.NDArray[np.float64] = lead_demand.mean + z * sigma
    return level, z, sigma


def _policy(
    kind: PolicyKind,
    position: npt.ArrayLike,
    lead_demand: PeriodDemand,
    daily_mean: npt.ArrayLike,
    params: ItemParams,
    order_quantity: npt.ArrayLike,
    shelf_stock: npt.ArrayLike,
) -> OrderDecision:
    inputs = checked_inputs(position, lead_demand, daily_mean, params, shelf_stock, demand_name="lead_demand")
    s, z, sigma = reorder_point(lead_demand, inputs.daily_mean, params, order_quantity)
    q = vector("order_quantity", order_quantity, params.n)
    orders = inputs.position < s
    if kind is PolicyKind.REORDER_POINT_QUANTITY:
        gap = np.where(orders, (s - inputs.position) / q, 0.0)
        batches = np.maximum(np.ceil(gap - UNIT_SLACK), 1.0)
        need = batches * q
        base_rule = Rule.ORDER_MULTIPLE_OF_Q
    else:
        need = s + q - inputs.position
        base_rule = Rule.ORDER_UP_TO
    return finish(
        inputs,
        params,
        orders=orders,
        need=need,
        base_rule=base_rule,
        policy=kind,
        reorder_point=s,
        level=s + q,
        safety=z * sigma,
        demand_mean=lead_demand.mean,
        demand_std=sigma,
        z=z,
        target=params.service_level,
        batch_quantity=q,
    )


def s_q_policy(
    position: npt.ArrayLike,
    lead_demand: PeriodDemand,
    daily_mean: npt.ArrayLike,
    params: ItemParams,
    order_quantity: npt.ArrayLike,
    *,
    shelf_stock: npt.ArrayLike,
) -> OrderDecision:
    """(s, Q): when IP < s order the smallest multiple n Q of the batch with IP + n Q >= s.

    Args:
        position: ``[n]`` inventory position IP (:func:`policies.inventory_position`).
        lead_demand: demand over the lead time L (or L + R when reviewed every R days).
        daily_mean: ``[n]`` mean daily demand d (lead-time-uncertainty term).
        params: item parameters; ``service_level`` / ``service_measure`` set z, ``lost_sales`` the fill-rate form.
        order_quantity: ``[n]`` batch Q > 0, e.g. :func:`policies.economic_order_quantity`.
        shelf_stock: ``[n]`` on hand + on order + pending, for the shelf cap.

    The decision's ``order_up_to`` is s + Q (the highest position an order aims at), ``batch_quantity`` is Q,
    and an order unchanged by the constraints records :attr:`Rule.ORDER_MULTIPLE_OF_Q`.
    """
    return _policy(
        PolicyKind.REORDER_POINT_QUANTITY, position, lead_demand, daily_mean, params, order_quantity, shelf_stock
    )


def s_s_policy(
    position: npt.ArrayLike,
    lead_demand: PeriodDemand,
    daily_mean: npt.ArrayLike,
    params: ItemParams,
    order_quantity: npt.ArrayLike,
    *,
    shelf_stock: npt.ArrayLike,
) -> OrderDecision:
    """(s, S) with S = s + Q: when IP < s order S - IP (arguments as :func:`s_q_policy`).

    S - s = Q is the EOQ-based heuristic of Silver, Pyke & Peterson for (s, S) systems; pass the Q of another
    method (e.g. a power approximation) to get its S.
    """
    return _policy(
        PolicyKind.REORDER_POINT_ORDER_UP_TO, position, lead_demand, daily_mean, params, order_quantity, shelf_stock
    )
