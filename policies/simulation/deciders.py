"""Deciders to plug into :func:`policies.simulator.simulate`: the worker's policy, an exchange-curve policy, an
ERP min/max, an oracle.

Why these: the worker-style decider is what restock does (the same forecaster and policy calls as
``streams.decision.DecisionEngine.decide``, replicated here because policies must not import streams),
optionally with its target recalibrated (:mod:`policies.calibration`); the exchange-curve decider shares a
location's orders and service across items by value (:mod:`policies.exchange`); the min/max rule is what a
typical ERP does instead; the oracle is the yardstick no real policy can beat on holding and stockouts.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt

from forecasting.base import Forecaster
from policies._decide import UNIT_SLACK
from policies.calibration import Calibration, level_residuals
from policies.continuous import s_s_policy
from policies.errors import PolicyError
from policies.exchange import batches_for_order_rate, service_for_shortage_penalty
from policies.kinds import ServiceMeasure
from policies.order_up_to import order_up_to
from policies.params import ItemParams
from policies.position import inventory_position, shelf_stock
from policies.simulation.setup import SimulationSetup
from policies.simulation.view import Decider, SystemView

__all__ = ["exchange_decider", "min_max_decider", "oracle_decider", "order_up_to_decider"]


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise PolicyError(f"{name}: expected an int >= 1, got {value!r}")
    return int(value)


def _check_inputs(forecaster: object, params: object) -> None:
    if not isinstance(forecaster, Forecaster):
        raise PolicyError(f"forecaster: expected a Forecaster, got {type(forecaster).__name__}")
    if not isinstance(params, ItemParams):
        raise PolicyError(f"params: expected ItemParams, got {type(params).__name__}")


def _position_and_stock(
    view: SystemView, params: ItemParams
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Inventory position and shelf stock at the review; no pending commands: an order reaches the pipeline
    at once."""
    if view.n != params.n:
        raise PolicyError(f"params: built for {params.n} series, the run has {view.n}")
    on_hand = view.on_hand.astype(np.float64)
    on_order = view.on_order.astype(np.float64)
    no_pending = np.zeros(params.n)
    position = inventory_position(on_hand, on_order, view.backorders, no_pending, lost_sales=params.lost_sales)
    return position, shelf_stock(on_hand, on_order, no_pending)


def order_up_to_decider(
    forecaster: Forecaster, params: ItemParams, *, history_days: int = 120, calibration: Calibration | None = None
) -> Decider:
    """The worker's decision pass: history -> ``forecaster.predict`` -> protection demand -> order-up-to.

    Args:
        forecaster: any :class:`~forecasting.Forecaster` (e.g. ``MovingAverageForecaster``), as the worker holds.
        params: item parameters, ``[n]`` aligned with the setup (``SimulationSetup.item_params`` makes ones
            whose lead time, review period and lost-sales flags match the run).
        history_days: trailing visible days passed to the forecaster (the worker's ``history_days``).
        calibration: when given, each pass first scores the forecaster's past levels on the visible history
            (:func:`~policies.calibration.level_residuals`, cycle = R days for S = s + d R) and orders with
            the calibrated safety factors (:meth:`~policies.calibration.Calibration.safety_factors`).

    At each review: ``history = view.history(history_days)``; ``forecast = forecaster.predict(history,
    ceil(max protection_days))``; ``protection = forecast.over_period(params.protection_days)``; position =
    :func:`~policies.inventory_position` (on hand + on order - backorders; no pending commands: an order
    reaches the pipeline at once); :func:`~policies.order_up_to` with the first forecast day's mean as d.
    """
    _check_inputs(forecaster, params)
    window = _positive_int("history_days", history_days)
    horizon = max(1, int(np.ceil(params.protection_days.max())))

    def decide(view: SystemView) -> npt.NDArray[np.int64]:
        position, stock = _position_and_stock(view, params)
        forecast = forecaster.predict(view.history(window), horizon)
        protection = forecast.over_period(params.protection_days)
        daily_mean = forecast.mean[:, 0].astype(np.float64)
        z = None
        if calibration is not None:
            residuals, censored = level_residuals(
                forecaster, view.history(view.sales.shape[1]), params.protection_days, params.lead_time_std_days,
                params.review_days, origins=calibration.origins,
                step_days=calibration.step_days, history_days=window,
            )  # fmt: skip
            z = calibration.safety_factors(residuals, censored, params.service_level)
        return order_up_to(position, protection, daily_mean, params, shelf_stock=stock, z=z).quantity

    return decide


def exchange_decider(
    forecaster: Forecaster,
    params: ItemParams,
    holding_cost: npt.ArrayLike,
    *,
    orders_per_day: float,
    shortage_penalty: npt.ArrayLike,
    history_days: int = 120,
) -> Decider:
    """(s, S) with the batches and service levels of :mod:`policies.exchange`, re-planned at every review.

    Args:
        forecaster, history_days: as :func:`order_up_to_decider`.
        params: item parameters; the service level is replaced per series at each pass (its measure must be
            the cycle service level), lead times and review period set the protection period L + R.
        holding_cost: ``[n]`` h_i per unit-day.
        orders_per_day: N, the location's order budget per day (over all series).
        shortage_penalty: B, money per unit short: one for every unit, or ``[n]`` (e.g. proportional to value).

    At each review: d_i = the forecast's first-day mean; Q = :func:`~policies.exchange.batches_for_order_rate`
    (N, h, d); alpha = :func:`~policies.exchange.service_for_shortage_penalty` (h, Q, d, B); then
    :func:`~policies.s_s_policy` with s from the protection demand at alpha and S = s + Q.
    """
    _check_inputs(forecaster, params)
    if np.any(params.service_measure != ServiceMeasure.CYCLE_SERVICE_LEVEL):
        raise PolicyError("params: the exchange decider sets cycle service levels; give service_measure cycle")
    window = _positive_int("history_days", history_days)
    holding = np.asarray(holding_cost, dtype=np.float64)
    batches_for_order_rate(orders_per_day, holding, np.zeros(params.n))  # checks N and h before the run
    service_for_shortage_penalty(holding, np.ones(params.n), np.zeros(params.n), shortage_penalty)
    horizon = max(1, int(np.ceil(params.protection_days.max())))

    def decide(view: SystemView) -> npt.NDArray[np.int64]:
        position, stock = _position_and_stock(view, params)
        forecast = forecaster.predict(view.history(window), horizon)
        lead_demand = forecast.over_period(params.protection_days)
        daily_mean = forecast.mean[:, 0].astype(np.float64)
        batch, _ = batches_for_order_rate(orders_per_day, holding, daily_mean)
        alpha = service_for_shortage_penalty(holding, batch, daily_mean, shortage_penalty)
        planned = dataclasses.replace(params, service_level=alpha)
        return s_s_policy(position, lead_demand, daily_mean, planned, batch, shelf_stock=stock).quantity

    return decide


def min_max_decider(*, window_days: int = 28, min_days: float = 7.0, max_days: float = 21.0) -> Decider:
    """An ERP's min/max rule: when the position is at or below min, order up to max (whole units, rounded up).

    min = ``min_days`` x d and max = ``max_days`` x d, with d the mean of the visible sales over the trailing
    ``window_days`` (stockout days included: an ERP does not know a zero sale from an empty shelf). Position
    = on hand + on order - backorders. No forecast, no safety stock from variability: the rule as ERPs ship it.
    """
    window = _positive_int("window_days", window_days)
    if not (np.isfinite(min_days) and min_days >= 0):
        raise PolicyError(f"min_days: must be finite and >= 0, got {min_days!r}")
    if not (np.isfinite(max_days) and max_days >= min_days):
        raise PolicyError(f"max_days: must be finite and >= min_days ({min_days}), got {max_days!r}")

    def decide(view: SystemView) -> npt.NDArray[np.int64]:
        rate = view.sales[:, -window:].astype(np.float64).mean(axis=1)
        position = (view.on_hand + view.on_order - view.backorders).astype(np.float64)
        top = max_days * rate
        orders = position <= min_days * rate
        need = np.ceil(np.maximum(top - position, 0.0) - UNIT_SLACK)
        quantity: npt.NDArray[np.int64] = np.where(orders, np.maximum(need, 0.0), 0.0).astype(np.int64)
        return quantity

    return decide


def oracle_decider(setup: SimulationSetup) -> Decider:
    """Perfect foresight: knows the true demand and every order's realised lead time; orders just enough.

    Definition: at the review on day t the order arrives on day a = t + L_t + 1 and the next review's order on
    day b = t + R + L_{t+R} + 1 (b = D past the last review or the run's end). The oracle projects its stock
    without the new order (the true demand, the pipeline of its own earlier orders, lost sales truncated at
    zero before a) and orders the least q with no unmet demand on days a .. b-1: q = max(0, max over those days
    of the projected shortfall). Nothing when the orders cross (b <= a): the next order arrives first.

    Why a lower bound: with the same review days, stock on hand at a and after is only what demand up to b
    needs, and the only stockouts left are those no order placed in time could prevent (before the first
    arrival, or when crossing leaves a gap). So no policy with those reviews has lower holding cost without
    more stockouts. Its total cost is a lower bound whenever a unit short costs more than holding it for a
    cycle and an order every review is cheap; with a high fixed cost K, ordering less often (e.g. min/max)
    can cost less. MOQ and case packs are ignored.
    """
    if not isinstance(setup, SimulationSetup):
        raise PolicyError(f"setup: expected a SimulationSetup, got {type(setup).__name__}")
    demand, lead = setup.demand, setup.lead_times
    days, review, lost = setup.days, setup.review_days, setup.lost_sales
    longest = int(lead.max())
    rows = np.arange(setup.n)

    def decide(view: SystemView) -> npt.NDArray[np.int64]:
        t = view.day
        arrive = t + lead[:, t] + 1
        following = t + review
        cover_end = following + lead[:, following] + 1 if following < days else np.full(setup.n, days)
        cover_end = np.minimum(cover_end, days)
        span = int(cover_end.max()) - (t + 1)  # days t+1 .. t+span are projected
        if span <= 0:
            return np.zeros(setup.n, dtype=np.int64)
        incoming = np.zeros((span, setup.n), dtype=np.int64)
        for k in range(max(0, t - longest), t):  # earlier orders still in the pipeline
            offset = k + lead[:, k] + 1 - (t + 1)
            due = (offset >= 0) & (offset < span) & (view.ordered[:, k] > 0)
            incoming[offset[due], rows[due]] += view.ordered[due, k]
        stock = (view.on_hand - view.backorders).astype(np.int64)  # net stock, < 0 for a backlog
        shortfall = np.zeros(setup.n, dtype=np.int64)
        for h in range(span):
            day = t + 1 + h
            before = day < arrive
            inside = (day >= arrive) & (day < cover_end)
            stock = stock + incoming[h] - demand[:, day]
            stock = np.where(before & lost, np.maximum(stock, 0), stock)
            shortfall = np.where(inside, np.maximum(shortfall, -stock), shortfall)
        quantity: npt.NDArray[np.int64] = np.where(arrive < cover_end, shortfall, 0)
        return quantity

    return decide
