"""The outcome of a run: the daily trace, then per-series and total measures of service and cost.

Definitions (see :mod:`policies.simulator` for the event order they rest on):

- filled: units of a day's demand met from stock on that day; fill rate = filled / demanded (units).
- sold: units handed to customers: filled, plus backorders served later from arrivals.
- stockout day: a day whose stock after the morning's arrivals (and backorders served) was 0, or whose demand
  was not fully met; the same days the decider sees as censored.
- average on hand: mean end-of-day units on hand; its value multiplies by ``unit_cost``.
- costs: ordering = K x orders placed; holding = h x sum of end-of-day on hand; stockout = g x units of demand
  not met from stock on their day (lost or backordered, each counted once); total = their sum. Purchase cost is
  left out: it is price x units and rewards no policy for anything but selling less.
- achieved cycle service level: see :func:`cycle_outcomes`.

Identities that hold exactly (whole units, int64), per series::

    initial_on_hand + received == sold + final_on_hand
    demanded == sold + lost + final_backorders
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from policies.simulation.setup import SimulationSetup

__all__ = ["DailyTrace", "SimulationResult", "SimulationTotals", "cycle_outcomes", "summarise"]

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class DailyTrace:
    """Day-by-day record of a run; every field is ``[n, D]`` (int64 units unless stated).

    Attributes:
        received: units arriving on the morning of the day.
        available: units on the shelf for the day's demand, after arrivals and after serving backorders.
        sales: units of the day's demand met from stock (what the decider sees as the day's sales).
        short: units of the day's demand not met from stock (lost, or added to the backorders).
        backlog_served: backorders of earlier days served from the day's arrivals.
        on_hand: units on the shelf at the end of the day.
        backorders: units owed to customers at the end of the day.
        on_order: units in the pipeline at the end of the day, after the day's order.
        ordered: units ordered at the end of the day.
        stockout: bool, ``available == 0`` or ``short > 0``.
        observed: bool, what the decider saw as observed (``~stockout`` when censoring, else all True).
    """

    received: Ints
    available: Ints
    sales: Ints
    short: Ints
    backlog_served: Ints
    on_hand: Ints
    backorders: Ints
    on_order: Ints
    ordered: Ints
    stockout: npt.NDArray[np.bool_]
    observed: npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class SimulationTotals:
    """The measures of :class:`SimulationResult` summed (or pooled) over all series."""

    demanded: int
    filled: int
    sold: int
    lost: int
    backordered: int
    final_backorders: int
    fill_rate: float
    stockout_days: int
    average_on_hand: float
    average_on_hand_value: float
    orders_placed: int
    ordering_cost: float
    holding_cost: float
    stockout_cost: float
    total_cost: float
    cycles: int
    cycles_met: int
    cycle_service_level: float


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """Per-series measures of a run (every field but ``daily`` is ``[n]``); :meth:`totals` pools them.

    Attributes:
        daily: the :class:`DailyTrace`.
        demanded, filled, sold: units (see the module docstring).
        lost: units of demand lost (lost-sales series; 0 elsewhere).
        backordered: units of demand that went into the backorders (backorder series; 0 elsewhere).
        initial_on_hand, received, final_on_hand, final_on_order, final_backorders: units.
        fill_rate: filled / demanded (nan without demand).
        stockout_days: days counted as stockouts.
        average_on_hand, average_on_hand_value: mean end-of-day units on hand, and times the unit cost.
        orders_placed, units_ordered: orders (quantity > 0) and their units.
        ordering_cost, holding_cost, stockout_cost, total_cost: money over the run.
        cycles, cycles_met: review cycles evaluated and those without a stockout (:func:`cycle_outcomes`).
        cycle_service_level: cycles_met / cycles (nan without an evaluated cycle).
    """

    daily: DailyTrace
    demanded: Ints
    filled: Ints
    sold: Ints
    lost: Ints
    backordered: Ints
    initial_on_hand: Ints
    received: Ints
    final_on_hand: Ints
    final_on_order: Ints
    final_backorders: Ints
    fill_rate: Floats
    stockout_days: Ints
    average_on_hand: Floats
    average_on_hand_value: Floats
    orders_placed: Ints
    units_ordered: Ints
    ordering_cost: Floats
    holding_cost: Floats
    stockout_cost: Floats
    total_cost: Floats
    cycles: Ints
    cycles_met: Ints
    cycle_service_level: Floats

    @property
    def n(self) -> int:
        """Number of series."""
        return int(self.demanded.shape[0])

    def totals(self) -> SimulationTotals:
        """Sums over the series; fill rate and cycle service level pooled (units and cycles, not averaged)."""
        demanded = int(self.demanded.sum())
        cycles = int(self.cycles.sum())
        return SimulationTotals(
            demanded=demanded,
            filled=int(self.filled.sum()),
            sold=int(self.sold.sum()),
            lost=int(self.lost.sum()),
            backordered=int(self.backordered.sum()),
            final_backorders=int(self.final_backorders.sum()),
            fill_rate=float(self.filled.sum() / demanded) if demanded else float("nan"),
            stockout_days=int(self.stockout_days.sum()),
            average_on_hand=float(self.average_on_hand.sum()),
            average_on_hand_value=float(self.average_on_hand_value.sum()),
            orders_placed=int(self.orders_placed.sum()),
            ordering_cost=float(self.ordering_cost.sum()),
            holding_cost=float(self.holding_cost.sum()),
            stockout_cost=float(self.stockout_cost.sum()),
            total_cost=float(self.total_cost.sum()),
            cycles=cycles,
            cycles_met=int(self.cycles_met.sum()),
            cycle_service_level=float(self.cycles_met.sum() / cycles) if cycles else float("nan"),
        )


def cycle_outcomes(short: Ints, lead_times: Ints, review_days: int) -> tuple[Ints, Ints]:
    """``(cycles, met)``, each ``[n]``: review cycles evaluated and those in which all demand was met.

    The protection interval of the review at the end of day t is days t+1 .. t+R+L', until the next review's
    order (lead time L', placed at t+R) reaches the shelf on the morning of day t+R+L'+1. The review's own
    order arrives on day t+L+1; the days before belong to the previous review's cycle, which left the stock
    that serves them. So cycle t is *met* when no demand went unmet on days t+L+1 .. t+R+L' (with backorders and
    orders that do not cross, exactly when the position after the review covered the protection-interval
    demand; counting the earlier days too would charge one stockout to several cycles). A cycle is evaluated
    when the next review falls inside the run, its order arrives inside the run, and the two orders did not
    cross (t+L+1 <= t+R+L'). The achieved CSL is met / cycles, the textbook "probability of no stockout per
    replenishment cycle" that :func:`policies.order_up_to` targets.
    """
    n, days = short.shape
    reviews = np.arange(0, days, review_days)
    if reviews.size < 2:
        return np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    this, nxt = reviews[:-1], reviews[1:]
    first = this[None, :] + lead_times[:, this] + 1  # [n, K-1] day the review's order first serves
    last = nxt[None, :] + lead_times[:, nxt]  # [n, K-1] day before the next review's order arrives
    valid = (first <= last) & (last <= days - 1)
    unmet = np.concatenate([np.zeros((n, 1), dtype=np.int64), np.cumsum(short > 0, axis=1)], axis=1)
    lo = np.minimum(first, days)
    hi = np.minimum(last + 1, days)
    failed = (np.take_along_axis(unmet, hi, axis=1) - np.take_along_axis(unmet, lo, axis=1)) > 0
    cycles: Ints = valid.sum(axis=1, dtype=np.int64)
    met: Ints = (valid & ~failed).sum(axis=1, dtype=np.int64)
    return cycles, met


def summarise(setup: SimulationSetup, trace: DailyTrace) -> SimulationResult:
    """Measures of a finished run from its trace (vectorised over series and days)."""
    costs = setup.costs
    lost_mode = setup.lost_sales
    demanded = setup.demand.sum(axis=1)
    filled = trace.sales.sum(axis=1)
    short = trace.short.sum(axis=1)
    days = setup.days
    average = trace.on_hand.sum(axis=1) / days
    orders = (trace.ordered > 0).sum(axis=1)
    ordering = costs.ordering_cost * orders
    holding = costs.holding_cost * trace.on_hand.sum(axis=1)
    stockout_cost = costs.stockout_penalty * short
    cycles, met = cycle_outcomes(trace.short, setup.lead_times, setup.review_days)
    with np.errstate(invalid="ignore", divide="ignore"):
        fill_rate = np.where(demanded > 0, filled / np.maximum(demanded, 1), np.nan)
        csl = np.where(cycles > 0, met / np.maximum(cycles, 1), np.nan)
    return SimulationResult(
        daily=trace,
        demanded=demanded,
        filled=filled,
        sold=filled + trace.backlog_served.sum(axis=1),
        lost=np.where(lost_mode, short, 0),
        backordered=np.where(lost_mode, 0, short),
        initial_on_hand=setup.initial_on_hand,
        received=trace.received.sum(axis=1),
        final_on_hand=trace.on_hand[:, -1].copy(),
        final_on_order=trace.on_order[:, -1].copy(),
        final_backorders=trace.backorders[:, -1].copy(),
        fill_rate=fill_rate,
        stockout_days=trace.stockout.sum(axis=1, dtype=np.int64),
        average_on_hand=average,
        average_on_hand_value=average * costs.unit_cost,
        orders_placed=orders.astype(np.int64),
        units_ordered=trace.ordered.sum(axis=1),
        ordering_cost=ordering,
        holding_cost=holding,
        stockout_cost=stockout_cost,
        total_cost=ordering + holding + stockout_cost,
        cycles=cycles,
        cycles_met=met,
        cycle_service_level=csl,
    )
