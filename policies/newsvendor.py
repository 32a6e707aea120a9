"""Newsvendor (critical-ratio) sizing: order up to the demand quantile at the ratio of underage to total cost.

Symbols (see :mod:`policies.costs`): c unit cost, p price, h holding cost per unit left over at the end of the
period, g goodwill penalty per unit short, v salvage value per unit left over of a perishable item.
With underage cost c_u (what one unit short costs) and overage cost c_o (what one unit too many costs), the
expected cost of stocking y against demand D is c_o E[(y - D)^+] + c_u E[(D - y)^+], minimised at

    F(S*) = CR = c_u / (c_u + c_o)

(Porteus, "Foundations of Stochastic Inventory Theory", 2002, ch. 1; Snyder & Shen, "Fundamentals of Supply
Chain Theory", ch. 4; Silver, Pyke & Peterson, 4th ed., the newsvendor of the style-goods chapter)

with, per series,

    c_u = (p - c) [lost sales] + g       a lost sale costs its margin and the goodwill; a backordered one
                                         only the penalty g (the sale is kept)
    c_o = h + (c - v) [perishable]       a leftover unit is carried one more period at h, or, when perishable
                                         (salvage v known), is also sold off at a loss of c - v

So for a lost-sales item that keeps, CR = (p - c + g) / (p - c + g + h); for a perishable one
CR = (p - c + g) / (p - v + g + h) (stockpyl's ``newsvendor_normal_explicit`` alpha = (p + r - c)/(h + p + r - v)
in its symbols); for a backordered item that keeps, CR = g / (g + h) (stockpyl's ``newsvendor_normal``
alpha = p / (p + h) with p its per-unit stockout cost).

S* is the quantile of demand over the protection period at CR: with a normal forecast
``max(0, mu + Phi^-1(CR) sigma)``; with sample paths the ceil(CR N)-th smallest of the N samples, the exact
optimum of the sample-average problem (Levi, Roundy & Shmoys, "Provably near-optimal sampling-based policies
for stochastic inventory control models", Math. Oper. Res. 32(4), 2007).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from forecasting.normal import standard_normal_ppf
from forecasting.period import PeriodDemand
from policies._arrays import check_condition, vector
from policies._decide import checked_inputs, finish
from policies.costs import CostParams, known
from policies.decision import OrderDecision
from policies.errors import PolicyError
from policies.kinds import PolicyKind, ServiceMeasure
from policies.params import ItemParams, flags
from policies.rules import Rule
from policies.service import protection_std

__all__ = ["critical_ratio", "critical_ratio_from_costs", "newsvendor", "newsvendor_level"]


def _broadcast(name: str, value: npt.ArrayLike, n: int) -> npt.NDArray[np.float64]:
    array = np.asarray(value, dtype=np.float64)
    if array.ndim == 0:
        array = np.full(n, float(array))
    return vector(name, array, n)


def critical_ratio(
    *,
    unit_cost: npt.ArrayLike,
    price: npt.ArrayLike,
    holding_cost: npt.ArrayLike,
    penalty: npt.ArrayLike = 0.0,
    salvage: npt.ArrayLike | None = None,
    lost_sales: npt.ArrayLike = True,
) -> npt.NDArray[np.float64]:
    """``[n]`` critical ratio CR = c_u / (c_u + c_o) (formula and symbols in the module docstring).

    Args:
        unit_cost: c, ``[n]`` (scalars broadcast), finite and >= 0.
        price: p, ``[n]``, finite and >= 0.
        holding_cost: h, cost of carrying a leftover unit one period, finite and >= 0.
        penalty: g, goodwill penalty per unit short, finite and >= 0.
        salvage: v per unit for perishable items; nan (or None for all) for items that keep.
        lost_sales: True (default) where a short unit is a lost sale, False where it is backordered.

    Raises :class:`~policies.errors.PolicyError` naming the parameter when c_u <= 0 (``price``: nothing to
    gain from stock) or c_o <= 0 (``holding_cost``: nothing to lose from stock), which leave no interior ratio.
    Example (Snyder & Shen, Example 4.2): p = 1, c = 0.3, v = 0.12, h = g = 0 -> CR = 0.7 / 0.88 = 0.7955.
    """
    shapes = [np.shape(x) for x in (unit_cost, price, holding_cost, penalty, lost_sales)]
    if salvage is not None:
        shapes.append(np.shape(salvage))
    n = max((s[0] for s in shapes if len(s) == 1), default=1)
    c = _broadcast("unit_cost", unit_cost, n)
    p = _broadcast("price", price, n)
    h = _broadcast("holding_cost", holding_cost, n)
    g = _broadcast("penalty", penalty, n)
    for name, array in (("unit_cost", c), ("price", p), ("holding_cost", h), ("penalty", g)):
        check_condition(name, np.isfinite(array) & (array >= 0), "must be finite and >= 0")
    lost_raw = np.asarray(lost_sales)
    lost = flags("lost_sales", np.full(n, bool(lost_raw)) if lost_raw.ndim == 0 else lost_raw, n)
    if salvage is None:
        v = np.full(n, np.nan)
    else:
        raw = np.asarray(salvage, dtype=np.float64)
        v = np.full(n, float(raw)) if raw.ndim == 0 else raw
        if v.shape != (n,):
            raise PolicyError(f"salvage: expected shape [{n}], got {v.shape}")
        check_condition("salvage", np.isnan(v) | (np.isfinite(v) & (v >= 0)), "must be finite and >= 0 or nan")
    perishable = ~np.isnan(v)
    underage = np.where(lost, p - c, 0.0) + g
    overage = h + np.where(perishable, c - np.where(perishable, v, 0.0), 0.0)
    check_condition("price", underage > 0, "underage cost (p - c if lost sales) + penalty must be > 0")
    check_condition("holding_cost", overage > 0, "overage cost holding_cost (+ c - salvage) must be > 0")
    result: npt.NDArray[np.float64] = underage / (underage + overage)
    return result


def critical_ratio_from_costs(
    costs: CostParams, params: ItemParams, *, period_days: npt.ArrayLike | None = None
) -> npt.NDArray[np.float64]:
    """:func:`critical_ratio` from per-day :class:`~policies.costs.CostParams` and the item's sales mode.

    The holding cost of a leftover unit is ``costs.holding_cost * period_days`` (default ``params.review_days``,
    at least one day: a unit left when the next order arrives is carried until the one after); lost sales or
    backorders come from ``params.lost_sales``; ``costs.salvage`` marks perishable rows. Unknown (nan) c, p,
    h or g raise a :class:`~policies.errors.PolicyError` naming the cost; g unknown counts as 0.
    """
    if costs.n != params.n:
        raise PolicyError(f"costs: expected {params.n} series, got {costs.n}")
    days = np.maximum(params.review_days, 1.0) if period_days is None else vector("period_days", period_days)
    lost = params.lost_sales
    known("unit_cost", costs.unit_cost, lost)
    known("price", costs.price, lost)
    known("holding_cost", costs.holding_cost)
    penalty = np.where(np.isnan(costs.stockout_penalty), 0.0, costs.stockout_penalty)
    return critical_ratio(
        unit_cost=np.where(np.isnan(costs.unit_cost), 0.0, costs.unit_cost),
        price=np.where(np.isnan(costs.price), 0.0, costs.price),
        holding_cost=costs.holding_cost * days,
        penalty=penalty,
        salvage=costs.salvage,
        lost_sales=lost,
    )


def _check_ratio(ratio: npt.ArrayLike, n: int) -> npt.NDArray[np.float64]:
    cr = vector("ratio", ratio, n)
    check_condition("ratio", (cr > 0.0) & (cr < 1.0), "must lie strictly between 0 and 1")
    return cr


def newsvendor_level(demand: PeriodDemand, ratio: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """``[n]`` newsvendor level S* = F^-1(CR) of period demand (normal, or the sample order statistic).

    Without samples: ``max(0, mean + Phi^-1(CR) std)`` (the censored normal quantile of
    :meth:`forecasting.PeriodDemand.quantile`, here with a ratio per row). With samples ``[n, N]``: the
    ceil(CR N)-th smallest sample, i.e. the smallest y with empirical F(y) >= CR (for integer-valued samples an
    integer, like the discrete newsvendor of stockpyl's ``newsvendor_poisson``).
    """
    if not isinstance(demand, PeriodDemand):
        raise PolicyError(f"demand: expected a PeriodDemand, got {type(demand).__name__}")
    cr = _check_ratio(ratio, demand.n)
    if demand.samples is None:
        z = standard_normal_ppf(cr)
        normal: npt.NDArray[np.float64] = np.maximum(demand.mean + z * demand.std, 0.0)
        return normal
    samples = np.sort(demand.samples, axis=1)
    count = samples.shape[1]
    # ceil(CR N) - 1 as a 0-based index; the slack keeps CR N = 37.0000000001 (float noise) at 37.
    index = np.clip(np.ceil(cr * count - 1e-9).astype(np.int64) - 1, 0, count - 1)
    empirical: npt.NDArray[np.float64] = samples[np.arange(demand.n), index]
    return empirical


def newsvendor(
    position: npt.ArrayLike,
    protection: PeriodDemand,
    daily_mean: npt.ArrayLike,
    ratio: npt.ArrayLike,
    params: ItemParams,
    *,
    shelf_stock: npt.ArrayLike,
) -> OrderDecision:
    """Base-stock orders at the newsvendor level: order S* - position when position < S*.

    Args:
        position: ``[n]`` inventory position.
        protection: demand over the period the order protects, L + R
            (``forecast.over_period(params.protection_days)``).
        daily_mean: ``[n]`` mean daily demand d, for the lead-time-uncertainty term d^2 sigma_LT^2.
        ratio: ``[n]`` critical ratio in (0, 1), from :func:`critical_ratio` or
            :func:`critical_ratio_from_costs`; ``params.service_level`` is not used.
        params: item parameters (case pack, MOQ, caps, lead-time std).
        shelf_stock: ``[n]`` on hand + on order + pending, for the shelf cap.

    With a normal forecast the level is max(0, mean + z sigma_P), z = Phi^-1(CR), sigma_P including the
    lead-time term (:func:`policies.protection_std`). With sample paths the level is their order statistic and
    the samples must already carry any lead-time uncertainty; the recorded z is then (S* - mean) / sigma_P.
    The decision records reorder point = order-up-to level = S*, target = CR and the cycle-service measure
    (CR is the probability that S* covers the period's demand).
    """
    inputs = checked_inputs(position, protection, daily_mean, params, shelf_stock)
    cr = _check_ratio(ratio, params.n)
    sigma_p = protection_std(protection.std, inputs.daily_mean, params.lead_time_std_days)
    if protection.samples is None:
        level = newsvendor_level(PeriodDemand(mean=protection.mean, std=sigma_p), cr)
        z = standard_normal_ppf(cr)
    else:
        level = newsvendor_level(protection, cr)
        positive = sigma_p > 0
        z = np.where(positive, (level - protection.mean) / np.where(positive, sigma_p, 1.0), 0.0)
    orders = inputs.position < level
    return finish(
        inputs,
        params,
        orders=orders,
        need=level - inputs.position,
        base_rule=Rule.ORDER_UP_TO,
        policy=PolicyKind.NEWSVENDOR,
        reorder_point=level,
        level=level,
        safety=level - protection.mean,
        demand_mean=protection.mean,
        demand_std=sigma_p,
        z=z,
        target=cr,
        measure=np.full(params.n, ServiceMeasure.CYCLE_SERVICE_LEVEL, dtype=np.int8),
    )
