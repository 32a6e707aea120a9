"""Per-location money budget: keep the orders worth most per unit of money, cut the rest.

Value of an order (documented choice). An order of q units lifts the stock available against the protection
period's demand D ~ N(mu, sigma^2) from IP to IP + q; the expected units short fall from ES(IP) to ES(IP + q),
with the normal loss function (Silver, Pyke & Peterson, 4th ed., ch. 6; :mod:`policies.normal`)

    ES(y) = E[(D - y)^+] = sigma G((y - mu) / sigma)          (sigma = 0: max(mu - y, 0))

The order's value per unit of money is

    v = w (ES(IP) - ES(IP + q)) / (q c)

with c the unit cost and w the value of a unit short (``shortage_value``, e.g. the underage cost p - c + g of
:mod:`policies.newsvendor`; 1 when not given, which ranks by units of shortage avoided per unit of money).
Because G is convex, the first units of an order are worth the most, so v is the order's average marginal
value; ranking by it is the greedy rule for the fractional knapsack "avoid the most shortage with the budget"
(Dantzig 1957), exact up to the indivisibility of orders.

Rule, per location, all locations at once: sort the ordering rows by v (highest first; ties by row for a
deterministic result); keep orders while the running spend fits the budget; the first order that does not
fit is trimmed to the case packs the money left buys (0 if that is below its MOQ); every order ranked below it
is cut, even one small enough to fit the rest, so a cut never skips rank.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import numpy.typing as npt

from policies._arrays import check_condition, vector
from policies.decision import OrderDecision
from policies.errors import PolicyError
from policies.normal import standard_normal_loss
from policies.params import ItemParams
from policies.rules import Rule

__all__ = ["apply_budget", "expected_shortage"]


def expected_shortage(mean: npt.ArrayLike, std: npt.ArrayLike, stock: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """``[n]`` E[(D - y)^+] = sigma G((y - mu) / sigma) for D ~ N(mu, sigma^2), y = ``stock``; max(mu - y, 0)
    where sigma = 0 (Silver, Pyke & Peterson, 4th ed., ch. 6, expected shortage per replenishment cycle)."""
    mu = vector("mean", mean)
    n = mu.shape[0]
    sigma = vector("std", std, n)
    check_condition("std", np.isfinite(sigma) & (sigma >= 0), "must be finite and >= 0")
    y = vector("stock", stock, n)
    certain = sigma == 0
    with np.errstate(over="ignore"):  # a tiny sigma gives z = +-inf: G(inf) = 0, G(-inf) = inf, both meant
        z = (y - mu) / np.where(certain, 1.0, sigma)
    result: npt.NDArray[np.float64] = np.where(
        certain, np.maximum(mu - y, 0.0), sigma * standard_normal_loss(np.where(certain, 0.0, z))
    )
    return result


def apply_budget(
    decision: OrderDecision,
    params: ItemParams,
    *,
    location: npt.ArrayLike,
    budget: npt.ArrayLike,
    unit_cost: npt.ArrayLike,
    shortage_value: npt.ArrayLike | None = None,
) -> OrderDecision:
    """Cut or trim ``decision``'s orders so that each location's spend sum(q c) fits its budget.

    Args:
        decision: the policy's decision for ``n`` series (any policy: the value uses its protection
            mean and std and its position).
        params: the same series' parameters (case pack and MOQ for trimming).
        location: ``[n]`` int location index in [0, m) of each series.
        budget: ``[m]`` money per location for this decision pass, >= 0 (inf: no budget).
        unit_cost: ``[n]`` c, money per unit, finite and >= 0.
        shortage_value: optional ``[n]`` w, money per unit short, finite and > 0 (default 1).

    Returns:
        A new :class:`OrderDecision`: quantities never larger than before; trimmed rows record
        :attr:`Rule.TRIMMED_BY_BUDGET`, cut rows :attr:`Rule.CUT_BY_BUDGET`; ``value_per_money``,
        ``budget_rank``, ``budget_left`` and ``order_cost`` are set on every row that ordered.
    """
    n = decision.n
    if params.n != n:
        raise PolicyError(f"params: expected {n} series, got {params.n}")
    where = vector("location", location, n)
    money = vector("budget", budget)
    m = money.shape[0]
    check_condition("location", (where == np.floor(where)) & (where >= 0) & (where < m), f"must be ints in [0, {m})")
    check_condition("budget", money >= 0, "must be >= 0 (inf allowed)")
    cost = vector("unit_cost", unit_cost, n)
    check_condition("unit_cost", np.isfinite(cost) & (cost >= 0), "must be finite and >= 0")
    if shortage_value is None:
        worth = np.ones(n)
    else:
        worth = vector("shortage_value", shortage_value, n)
        check_condition("shortage_value", np.isfinite(worth) & (worth > 0), "must be finite and > 0")
    loc = where.astype(np.int64)

    quantity = decision.quantity.astype(np.float64)
    ordering = quantity > 0
    spend = quantity * cost
    gain = worth * (
        expected_shortage(decision.protection_mean, decision.protection_std, decision.position)
        - expected_shortage(decision.protection_mean, decision.protection_std, decision.position + quantity)
    )
    with np.errstate(over="ignore"):  # a subnormal spend makes the value inf: ranked first, as a free order is
        value = np.where(spend > 0, gain / np.where(spend > 0, spend, 1.0), np.inf)
    value = np.where(ordering, value, np.nan)

    rows = np.flatnonzero(ordering)
    # Sort ordering rows by location, then value (highest first), then row index (deterministic ties).
    order = rows[np.lexsort((rows, -value[rows], loc[rows]))]
    sorted_loc = loc[order]
    sorted_spend = spend[order]
    running = np.cumsum(sorted_spend)
    first = np.ones(order.shape[0], dtype=np.bool_)
    first[1:] = sorted_loc[1:] != sorted_loc[:-1]
    group = np.cumsum(first) - 1
    start = np.flatnonzero(first)
    before_group = (running - sorted_spend)[start][group]
    spent_before = running - sorted_spend - before_group  # money taken by higher-ranked orders here
    within = spent_before + sorted_spend
    limit = money[sorted_loc]
    fits = within <= limit  # a prefix within each location, since spend >= 0
    rank = np.arange(order.shape[0]) - start[group]
    left = limit - spent_before

    # The first order of each location that does not fit is trimmed; those after it are cut.
    misfit = ~fits
    previous_fit = np.ones(order.shape[0], dtype=np.bool_)
    previous_fit[1:] = fits[:-1] | first[1:]
    boundary = misfit & (previous_fit | first)
    pack = params.case_pack[order].astype(np.float64)
    moq = params.moq[order].astype(np.float64)
    unit = cost[order]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # a tiny unit cost affords "inf" packs
        affordable = np.floor(np.where(unit > 0, left / (unit * pack), 0.0)) * pack
    trimmed = np.where(affordable >= moq, np.minimum(affordable, quantity[order]), 0.0)
    new_sorted = np.where(fits, quantity[order], np.where(boundary, trimmed, 0.0))

    new_quantity = quantity.copy()
    new_quantity[order] = new_sorted
    rule = decision.rule.copy()
    rule[order[boundary & (new_sorted > 0)]] = Rule.TRIMMED_BY_BUDGET
    rule[order[misfit & (new_sorted == 0)]] = Rule.CUT_BY_BUDGET

    ranks = np.full(n, -1, dtype=np.int64)
    ranks[order] = rank
    money_left = np.full(n, np.nan)
    money_left[order] = left
    return replace(
        decision,
        quantity=new_quantity.astype(np.int64),
        rule=rule,
        value_per_money=value,
        budget_rank=ranks,
        budget_left=money_left,
        order_cost=np.where(ordering, spend, np.nan),
    )
