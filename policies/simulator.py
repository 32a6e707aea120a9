"""A daily inventory simulation over ``n`` series x ``D`` days, vectorised across series, any policy plugged in.

Why: the policies are judged by what they would have done on real (or generated) demand, through the same
forecaster and policy code the worker runs, seeing only what the worker sees. The loop runs over days; every
step inside it is one numpy operation over all series.

Inputs are a :class:`~policies.simulation.setup.SimulationSetup` (true demand ``[n, D]``, initial on hand,
lead time mean and std with realised lead times drawn per order from a seeded generator, lost sales or
backorders per series, costs, the review period R) and a decider: a callable that receives a
:class:`~policies.simulation.view.SystemView` at each review and returns ``[n]`` order quantities. Ready-made
deciders: :func:`~policies.simulation.deciders.order_up_to_decider` (the worker's forecaster + order-up-to
glue), :func:`~policies.simulation.deciders.min_max_decider` (an ERP's min/max rule) and
:func:`~policies.simulation.deciders.oracle_decider` (perfect foresight, the cost yardstick).

Event order within day t (the same for every series):

1. Arrivals: orders due today are received (on hand up, on order down). An order placed at the end of day k
   with realised lead time L (an int >= 1) arrives on the morning of day k + L + 1: it spends L whole days in
   transit, as the worker's order for decision window k + 1 is due on day k + 1 + L. Orders may cross.
2. Demand: backorders are served first from on hand (oldest first); then the day's demand is served from what
   is left (``available``); the unmet part is lost (lost-sales series) or added to the backorders.
3. Costs: holding on the end-of-day on hand, the stockout penalty on the day's unmet units.
4. Review (days 0, R, 2R, ...): the decider sees the state after today's demand and sales up to today;
   a positive quantity is an order (ordering cost K) that enters the pipeline.

Censoring, as in the real system: the decider sees sales (demand met from stock on its day), never demand. A
day is a stockout day when ``available`` was 0 or demand went unmet; with ``censor_stockouts=True`` those
days are ``observed=False`` (the forecaster skips them, like the worker's on-hand <= 0 rule), with
``censor_stockouts=False`` every simulated day is observed and a stockout reads as low sales.

Achieved cycle service level (CSL), per series: for the review at the end of day t, whose order arrives on
day t+L+1, the protection interval runs from the review until the next review's order (placed at t+R, lead
time L') can arrive: days t+1 .. t+R+L'. The cycle is met when all demand was met from stock on the days of
that interval from the review's own order's arrival on, t+L+1 .. t+R+L' (the earlier days are served by the
stock the previous cycle left and are charged to it). CSL = met cycles / evaluated cycles, where a cycle is
evaluated when the next review and its arrival fall inside the run and the two orders do not cross.

Conservation holds exactly (whole units in int64) per series: ``initial_on_hand + received == sold +
final_on_hand`` and ``demanded == sold + lost + final_backorders``; see :mod:`policies.simulation.outcome`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from policies.errors import PolicyError
from policies.simulation.deciders import min_max_decider, oracle_decider, order_up_to_decider
from policies.simulation.outcome import DailyTrace, SimulationResult, SimulationTotals, summarise
from policies.simulation.setup import SimulationSetup, draw_lead_times, whole_units
from policies.simulation.view import Decider, SystemView

__all__ = [
    "DailyTrace",
    "Decider",
    "SimulationResult",
    "SimulationSetup",
    "SimulationTotals",
    "SystemView",
    "draw_lead_times",
    "min_max_decider",
    "oracle_decider",
    "order_up_to_decider",
    "simulate",
]


def _read_only(array: npt.NDArray[np.generic]) -> None:
    array.flags.writeable = False


def _quantities(value: npt.ArrayLike, n: int) -> npt.NDArray[np.int64]:
    quantity = whole_units("decide", value, 1)
    if quantity.shape != (n,):
        raise PolicyError(f"decide: expected {n} order quantities, got shape {quantity.shape}")
    return quantity


def simulate(setup: SimulationSetup, decide: Decider, *, censor_stockouts: bool = True) -> SimulationResult:
    """Run ``decide`` over ``setup`` day by day (event order in the module docstring) and measure the outcome.

    Args:
        setup: demand, starting stock, lead times, costs and review period of ``n`` series over ``D`` days.
        decide: called at the end of every review day with a :class:`SystemView`; returns ``[n]`` whole
            units >= 0 to order now.
        censor_stockouts: True to mark stockout days unobserved in the view (missing demand), False to show
            them as observed sales (the forecaster then reads a stockout as low demand).

    Returns:
        A :class:`SimulationResult`: the daily trace, per-series measures and :meth:`~SimulationResult.totals`.
    """
    if not callable(decide):
        raise PolicyError(f"decide: expected a callable, got {type(decide).__name__}")
    n, days, review = setup.n, setup.days, setup.review_days
    prior = setup.prior_sales.shape[1]
    lost = setup.lost_sales
    demand = np.ascontiguousarray(setup.demand.T)  # [D, n]: day rows are contiguous
    lead = np.ascontiguousarray(setup.lead_times.T)
    arrivals = np.zeros((days + int(lead.max()) + 1, n), dtype=np.int64)  # by arrival day
    sales_seen = np.zeros((n, prior + days), dtype=np.float32)
    sales_seen[:, :prior] = setup.prior_sales
    observed_seen = np.ones((n, prior + days), dtype=np.bool_)
    observed_seen[:, :prior] = setup.prior_observed
    # Per-day records, [D, n] so that each day writes one contiguous row; the trace exposes them as [n, D].
    received, available, sales, short, served, hand_end, back_end, order_end, ordered = (
        np.zeros((days, n), dtype=np.int64) for _ in range(9)
    )
    stockout = np.zeros((days, n), dtype=np.bool_)
    rows = np.arange(n)
    on_hand = setup.initial_on_hand.copy()
    backlog = np.zeros(n, dtype=np.int64)
    on_order = np.zeros(n, dtype=np.int64)
    for t in range(days):
        received[t] = arrivals[t]
        on_hand += arrivals[t]
        on_order -= arrivals[t]
        served[t] = np.minimum(backlog, on_hand)
        on_hand -= served[t]
        backlog -= served[t]
        available[t] = on_hand
        sales[t] = np.minimum(demand[t], on_hand)
        short[t] = demand[t] - sales[t]
        on_hand -= sales[t]
        backlog += np.where(lost, 0, short[t])
        stockout[t] = (available[t] == 0) | (short[t] > 0)
        sales_seen[:, prior + t] = sales[t]
        if censor_stockouts:
            observed_seen[:, prior + t] = ~stockout[t]
        if t % review == 0:
            view = _view(setup, t, sales_seen, observed_seen, ordered, on_hand, on_order, backlog)
            quantity = _quantities(decide(view), n)
            arrivals[t + lead[t] + 1, rows] += quantity
            on_order += quantity
            ordered[t] = quantity
        hand_end[t] = on_hand
        back_end[t] = backlog
        order_end[t] = on_order
    daily = DailyTrace(
        received=received.T,
        available=available.T,
        sales=sales.T,
        short=short.T,
        backlog_served=served.T,
        on_hand=hand_end.T,
        backorders=back_end.T,
        on_order=order_end.T,
        ordered=ordered.T,
        stockout=stockout.T,
        observed=observed_seen[:, prior:],
    )
    return summarise(setup, daily)


def _view(
    setup: SimulationSetup,
    t: int,
    sales: npt.NDArray[np.float32],
    observed: npt.NDArray[np.bool_],
    ordered: npt.NDArray[np.int64],
    on_hand: npt.NDArray[np.int64],
    on_order: npt.NDArray[np.int64],
    backlog: npt.NDArray[np.int64],
) -> SystemView:
    """The read-only view at the end of day ``t``: slices of the run's buffers, copies of today's counts."""
    visible = setup.prior_sales.shape[1] + t + 1
    arrays = (sales[:, :visible], observed[:, :visible], ordered[:t].T, on_hand.copy(), on_order.copy(),
              backlog.copy())  # fmt: skip
    for array in arrays:
        _read_only(array)
    seen_sales, seen_observed, past_orders, hand, order, back = arrays
    return SystemView(
        day=t,
        day_number=setup.start_day + t,
        review_days=setup.review_days,
        series_ids=setup.series_ids,
        sales=seen_sales,
        observed=seen_observed,
        ordered=past_orders,
        on_hand=hand,
        on_order=order,
        backorders=back,
        lost_sales=setup.lost_sales,
    )
