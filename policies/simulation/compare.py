"""Policies compared over the same demand: the worker's order-up-to at several targets, an ERP min/max, an oracle.

Why: a target service level is a promise; this shows what each policy delivers on the same demand, lead
times and costs (fill rate, achieved CSL, stock, orders, cost), and what the forecast-driven policy saves
against the min/max rule an ERP ships with. Pure: arrays in, dataclasses out, no I/O.

Warm-up: of the ``[n, W + D]`` demand given, the last ``D = simulate_days`` days are simulated and the first
``W`` are the prior sales history the forecaster (and the min/max rate) sees at the first review (as sales,
with the given observed mask: days before a series' launch are not observed). Nothing is simulated during the
warm-up, and the starting stock is ``round(rate x (L + 7))`` units, with rate the mean of the warm-up's last 28
observed days and L the series' mean lead time, the same for every policy.

What runs, each over the same :class:`~policies.simulation.setup.SimulationSetup` (one per review period,
all with the same realised lead times):

- ``order_up_to_R{R}_{censored|uncensored}``: :func:`~policies.simulation.deciders.order_up_to_decider` with
  the forecaster (the worker's default moving average unless another is given) at each target CSL and
  review period R, with stockout days censored (missing, as the worker treats them) or read as low sales;
  with the suffix ``_calibrated`` the same with its target recalibrated on the visible history
  (:mod:`policies.calibration`);
- ``exchange_R1_x{m}_{censored|uncensored}``: :func:`~policies.simulation.deciders.exchange_decider`, daily
  (s, S) with EOQ batches for an order budget of m times min/max's orders per day and service levels from one
  penalty per unit short, one point per penalty (multiples of the mean unit value; :mod:`policies.exchange`);
- ``min_max``: :func:`~policies.simulation.deciders.min_max_decider`, min = 7 and max = 21 days of the mean
  sales of the trailing 28 days, reviewed daily;
- ``oracle``: :func:`~policies.simulation.deciders.oracle_decider` run at every oracle review period; each
  series keeps the cheapest of them (perfect foresight may choose how often to look), the cost yardstick.

Headline figures (:class:`ComparisonResult`): ``inventory_reduction_vs_minmax`` (see :func:`inventory_reduction`)
and ``oracle_cost_gap`` = (cost of the cheapest non-oracle policy and target - oracle cost) / oracle cost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from forecasting.base import Forecaster
from forecasting.moving_average import MovingAverageForecaster
from policies._arrays import check_condition, vector
from policies.calibration import Calibration
from policies.costs import CostParams
from policies.errors import PolicyError
from policies.simulation.deciders import exchange_decider, min_max_decider, oracle_decider, order_up_to_decider
from policies.simulation.outcome import SimulationResult
from policies.simulation.setup import SimulationSetup, whole_units
from policies.simulation.view import Decider
from policies.simulator import simulate

__all__ = [
    "MIN_MAX",
    "ORACLE",
    "ComparisonInput",
    "ComparisonPlan",
    "ComparisonResult",
    "FamilyReduction",
    "PolicyPoint",
    "compare_policies",
    "draw_supplier_lead_times",
    "inventory_reduction",
    "value_at_fill_rate",
]

MIN_MAX = "min_max"
ORACLE = "oracle"
DAYS_PER_YEAR = 365.0
_RATE_DAYS = 28  # warm-up days behind the starting stock's rate
_POOLED = ("demanded", "filled", "sold", "cycles", "cycles_met", "stockout_days", "average_on_hand",
           "average_on_hand_value", "orders_placed", "ordering_cost", "holding_cost", "stockout_cost",
           "total_cost")  # fmt: skip


def family_name(review_days: int, censored: bool, calibrated: bool = False) -> str:
    """``order_up_to_R{R}_censored`` or ``..._uncensored`` (``_calibrated`` appended): one curve of the trade-off."""
    suffix = "_calibrated" if calibrated else ""
    return f"order_up_to_R{review_days}_{'censored' if censored else 'uncensored'}{suffix}"


def exchange_name(order_multiple: float, censored: bool, by_value: bool = False) -> str:
    """``exchange_R1_x{m}_censored`` or ``..._uncensored`` (``exchange_value_...`` with the penalty proportional
    to the unit value): the exchange-curve policy at one order budget."""
    kind = "exchange_value" if by_value else "exchange"
    return f"{kind}_R1_x{order_multiple:g}_{'censored' if censored else 'uncensored'}"


def draw_supplier_lead_times(
    n: int, seed: int, *, low: int = 2, high: int = 14, cv: float = 0.2
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """``(mean, std)`` ``[n]`` lead times: means whole days uniform in ``low .. high``, std = ``cv`` x mean.

    Seeded by ``(seed, 1)``, a stream apart from the one that draws each order's realised lead time around
    them (:func:`~policies.simulation.setup.draw_lead_times`, seeded by ``seed``).
    """
    if n < 1 or not 1 <= low <= high or not (np.isfinite(cv) and cv >= 0):
        raise PolicyError(f"lead times: need n >= 1, 1 <= low <= high and cv >= 0, got {n}, {low}, {high}, {cv}")
    mean = np.random.default_rng((seed, 1)).integers(low, high + 1, size=n).astype(np.float64)
    return mean, cv * mean


@dataclass(frozen=True, slots=True)
class ComparisonInput:
    """The demand and economics the policies are compared on, ``n`` series over ``W + D`` days.

    Attributes:
        demand: ``[n, W + D]`` true daily demand in whole units; the first ``W`` days are the warm-up.
        unit_value: ``[n]`` value of one unit on hand (> 0): the inventory value, and the base of the costs.
        lead_time_days, lead_time_std_days: ``[n]`` mean and std of the supplier lead time in days.
        simulate_days: D, days simulated (the last ones); ``W = total - D`` must be >= 1.
        observed: ``[n, W + D]`` bool, False where the warm-up history is not demand (before launch, a
            censored day); empty means all observed. Only the warm-up part is used.
        series_ids: ``[n]`` keys; empty means ``"0"``, ``"1"``, ...
        start_day: day number (days since 1970-01-01) of column 0.
        ordering_cost: K, money per order placed.
        holding_rate: holding cost per year as a fraction of the unit value (h = rate / 365 x value per day).
        stockout_penalty: money per unit of demand not met on its day, as a multiple of the unit value.
        lost_sales: True: unmet demand is lost (a shop); False: backordered.
        seed: seeds the realised lead times.
    """

    demand: npt.NDArray[np.int64]
    unit_value: npt.NDArray[np.float64]
    lead_time_days: npt.NDArray[np.float64]
    lead_time_std_days: npt.NDArray[np.float64]
    simulate_days: int = 180
    observed: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros((0, 0), dtype=np.bool_))
    series_ids: npt.NDArray[np.str_] = field(default_factory=lambda: np.zeros(0, dtype=np.str_))
    start_day: int = 0
    ordering_cost: float = 10.0
    holding_rate: float = 0.25
    stockout_penalty: float = 1.0
    lost_sales: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        demand = whole_units("demand", self.demand, 2)
        n, total = demand.shape
        if isinstance(self.simulate_days, bool) or not 1 <= self.simulate_days < total:
            raise PolicyError(f"simulate_days: must be in 1 .. {total - 1} (a warm-up must remain), "
                              f"got {self.simulate_days}")  # fmt: skip
        value = vector("unit_value", self.unit_value, n)
        check_condition("unit_value", np.isfinite(value) & (value > 0), "must be finite and > 0")
        for name in ("ordering_cost", "holding_rate", "stockout_penalty"):
            number = getattr(self, name)
            if not (np.isfinite(number) and number >= 0):
                raise PolicyError(f"{name}: must be finite and >= 0, got {number!r}")
        seen = np.asarray(self.observed)
        if seen.size == 0:
            seen = np.ones(demand.shape, dtype=np.bool_)
        if seen.shape != demand.shape or seen.dtype != np.bool_:
            raise PolicyError(f"observed: expected a bool array of shape {demand.shape}")
        ids = np.asarray(self.series_ids)
        ids = np.arange(n).astype(np.str_) if ids.size == 0 else ids.astype(np.str_)
        if ids.shape != (n,):
            raise PolicyError(f"series_ids: expected shape [{n}], got {ids.shape}")
        object.__setattr__(self, "demand", demand)
        object.__setattr__(self, "unit_value", value)
        object.__setattr__(self, "observed", seen)
        object.__setattr__(self, "series_ids", ids)

    @property
    def n(self) -> int:
        """Number of series."""
        return int(self.demand.shape[0])

    @property
    def warmup_days(self) -> int:
        """W, the days of prior history before the simulation."""
        return int(self.demand.shape[1]) - self.simulate_days

    def initial_on_hand(self) -> npt.NDArray[np.int64]:
        """``[n]`` starting stock: round(rate x (L + 7)), rate the mean of the warm-up's last 28 observed days."""
        prior = self.demand[:, : self.warmup_days].astype(np.float64)
        seen = self.observed[:, : self.warmup_days]
        from_end = np.cumsum(seen[:, ::-1], axis=1)[:, ::-1]
        window = seen & (from_end <= _RATE_DAYS)
        rate = np.where(window, prior, 0.0).sum(axis=1) / np.maximum(window.sum(axis=1), 1)
        hand: npt.NDArray[np.int64] = np.rint(rate * (self.lead_time_days + 7.0)).astype(np.int64)
        return hand

    def setup(self, review_days: int) -> SimulationSetup:
        """The :class:`SimulationSetup` of the last ``simulate_days`` days at review period ``review_days``."""
        w, n, value = self.warmup_days, self.n, self.unit_value
        costs = CostParams(
            unit_cost=value,
            price=np.full(n, np.nan),
            holding_cost=self.holding_rate / DAYS_PER_YEAR * value,
            stockout_penalty=self.stockout_penalty * value,
            ordering_cost=np.full(n, float(self.ordering_cost)),
            salvage=np.full(n, np.nan),
        )
        return SimulationSetup(
            demand=self.demand[:, w:],
            initial_on_hand=self.initial_on_hand(),
            lead_time_days=self.lead_time_days,
            lead_time_std_days=self.lead_time_std_days,
            lost_sales=np.full(n, self.lost_sales),
            costs=costs,
            review_days=review_days,
            seed=self.seed,
            prior_sales=self.demand[:, :w].astype(np.float32),
            prior_observed=self.observed[:, :w],
            series_ids=self.series_ids,
            start_day=self.start_day + w,
        )


@dataclass(frozen=True, slots=True)
class ComparisonPlan:
    """What to run: targets and review periods of the order-up-to policy, the min/max rule, the oracle.

    Attributes:
        targets: target cycle service levels of the order-up-to policy, each in (0.5, 1) (the low ones stretch
            the curves towards min/max's fill rate).
        review_days: its review periods R (1: daily; 7 and 14: nearer min/max's order count).
        censor_modes: True (stockout days missing) and/or False (read as sales).
        calibrate_modes: False (the forecast's own quantiles) and/or True (recalibrated, see ``calibration``).
        calibration: how the calibrated runs score past levels.
        exchange_penalties: the exchange policy's penalties per unit short, as multiples of the mean unit
            value (one point of its curve each); empty skips the exchange policy.
        exchange_value_penalties: the same policy with each item's penalty a multiple of its unit value (a lost
            sale costs what it is worth); empty skips it.
        exchange_order_multiples: its order budgets, as multiples of min/max's orders per day (one curve each).
        min_days, max_days, min_max_window_days: the min/max rule (days of mean sales over the window).
        oracle_review_days: review periods the oracle may choose from, per series.
        history_days: trailing days handed to the forecaster (the worker's ``history_days``).
    """

    targets: tuple[float, ...] = (0.55, 0.70, 0.80, 0.90, 0.95, 0.98, 0.99)
    review_days: tuple[int, ...] = (1, 7, 14)
    censor_modes: tuple[bool, ...] = (True, False)
    calibrate_modes: tuple[bool, ...] = (False, True)
    calibration: Calibration = field(default_factory=Calibration)
    exchange_penalties: tuple[float, ...] = (0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.3)
    exchange_value_penalties: tuple[float, ...] = (0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5, 1.0)
    exchange_order_multiples: tuple[float, ...] = (1.0, 1.25, 1.5, 1.75, 2.0)
    min_days: float = 7.0
    max_days: float = 21.0
    min_max_window_days: int = 28
    oracle_review_days: tuple[int, ...] = (1, 7, 14, 28)
    history_days: int = 120

    def __post_init__(self) -> None:
        if not self.targets or not all(0.5 < t < 1.0 for t in self.targets):
            raise PolicyError(f"targets: need at least one, each in (0.5, 1), got {self.targets}")
        for name in ("review_days", "oracle_review_days"):
            values = getattr(self, name)
            if not values or not all(isinstance(r, int) and not isinstance(r, bool) and r >= 1 for r in values):
                raise PolicyError(f"{name}: need at least one int >= 1, got {values}")
        if not self.censor_modes:
            raise PolicyError("censor_modes: need at least one of True, False")
        if not self.calibrate_modes:
            raise PolicyError("calibrate_modes: need at least one of False, True")
        for name in ("exchange_penalties", "exchange_value_penalties", "exchange_order_multiples"):
            values = getattr(self, name)
            if not all(np.isfinite(v) and v > 0 for v in values):
                raise PolicyError(f"{name}: each must be finite and > 0, got {values}")
        if (self.exchange_penalties or self.exchange_value_penalties) and not self.exchange_order_multiples:
            raise PolicyError("exchange_order_multiples: need at least one when exchange_penalties are given")


@dataclass(frozen=True, slots=True)
class PolicyPoint:
    """One policy at one target, pooled over the series (units and cycles pooled, not averaged).

    Attributes:
        policy: the family (curve) name, e.g. ``order_up_to_R7_censored``, ``min_max``, ``oracle``.
        review_days: R of the run (the oracle's most common choice).
        censored: whether stockout days were missing to the forecaster; None for min/max and the oracle.
        target_csl: the target cycle service level; None for min/max and the oracle.
        fill_rate: units met from stock on their day / units demanded.
        value_fill_rate: the same at unit value (what share of the demand's value was served): a policy
            that serves cheap units first can match a fill rate in units while losing dearer sales.
        csl: achieved cycle service level, met cycles / evaluated cycles (see :mod:`policies.simulator`).
        stockout_days: series-days out of stock.
        avg_inventory_units, avg_inventory_value: mean end-of-day on hand, summed over series (units, money).
        turns: value sold per year / average inventory value.
        orders: orders placed.
        ordering_cost, holding_cost, stockout_cost, total_cost: money over the run.
        shortage_penalty: the exchange policy's penalty per unit short: money for ``exchange_``, a multiple of
            the unit value for ``exchange_value_``; None for the others.
    """

    policy: str
    review_days: int
    censored: bool | None
    target_csl: float | None
    fill_rate: float
    value_fill_rate: float
    csl: float
    stockout_days: int
    avg_inventory_units: float
    avg_inventory_value: float
    turns: float
    orders: int
    ordering_cost: float
    holding_cost: float
    stockout_cost: float
    total_cost: float
    shortage_penalty: float | None = None

    @property
    def label(self) -> str:
        """``policy@target``, ``policy@B=penalty``, or the policy alone."""
        if self.target_csl is not None:
            return f"{self.policy}@{self.target_csl:g}"
        return self.policy if self.shortage_penalty is None else f"{self.policy}@B={self.shortage_penalty:.4g}"


@dataclass(frozen=True, slots=True)
class FamilyReduction:
    """One curve read at the min/max rule's fill rate (None where the curve does not reach it).

    ``fill_rate_range`` is the lowest and highest fill rate along the curve: min/max's must lie inside;
    ``total_cost`` (ordering + holding + stockout) and ``value_fill_rate`` are interpolated there like the
    value and the orders.
    """

    policy: str
    fill_rate_range: tuple[float, float]
    inventory_value: float | None
    orders: float | None
    eligible: bool
    reduction: float | None
    total_cost: float | None = None
    value_fill_rate: float | None = None


@dataclass(frozen=True, slots=True)
class ComparisonResult:
    """Every point run, and the headline comparisons.

    Attributes:
        points: the order-up-to points, then the exchange policy's, then min/max, then the oracle.
        families: per order-up-to curve, its reading at the min/max fill rate (:func:`inventory_reduction`).
        inventory_reduction_vs_minmax: best reduction among the eligible curves (None when none is).
        reduction_policy: the curve it comes from.
        oracle_cost_gap: (cost of ``cheapest`` - oracle cost) / oracle cost.
        cheapest: label of the cheapest non-oracle point.
        oracle_review_choice: series per oracle review period chosen.
        n, warmup_days, simulated_days, forecaster: what was run.
    """

    points: tuple[PolicyPoint, ...]
    families: tuple[FamilyReduction, ...]
    inventory_reduction_vs_minmax: float | None
    reduction_policy: str | None
    oracle_cost_gap: float
    cheapest: str
    oracle_review_choice: dict[int, int]
    n: int
    warmup_days: int
    simulated_days: int
    forecaster: str

    @property
    def min_max(self) -> PolicyPoint:
        return next(p for p in self.points if p.policy == MIN_MAX)

    @property
    def oracle(self) -> PolicyPoint:
        return next(p for p in self.points if p.policy == ORACLE)

    def curves(self) -> dict[str, list[PolicyPoint]]:
        """Points by family, in run order (targets ascending)."""
        return _curves(self.points)


def value_at_fill_rate(fill_rates: Sequence[float], values: Sequence[float], at: float) -> float | None:
    """``values`` linearly interpolated at fill rate ``at`` along the curve, or None outside its range.

    Points are ordered by fill rate (nan points dropped); no extrapolation: a curve that never reaches ``at``
    (or never falls to it) says nothing about what it would cost there.
    """
    rate = np.asarray(fill_rates, dtype=np.float64)
    value = np.asarray(values, dtype=np.float64)
    if rate.shape != value.shape or rate.ndim != 1:
        raise PolicyError(f"fill_rates, values: expected two 1-D arrays of one length, got {rate.shape}, {value.shape}")
    keep = np.isfinite(rate) & np.isfinite(value)
    rate, value = rate[keep], value[keep]
    if rate.size == 0 or not np.isfinite(at) or at < rate.min() or at > rate.max():
        return None
    order = np.argsort(rate, kind="stable")
    return float(np.interp(at, rate[order], value[order]))


def inventory_reduction(
    curves: Mapping[str, Sequence[PolicyPoint]], min_max: PolicyPoint
) -> tuple[float | None, str | None, tuple[FamilyReduction, ...]]:
    """The fraction of average inventory value saved at the min/max rule's fill rate by the best curve.

    For each curve (a policy family over its targets): its average inventory value V and its orders O,
    each interpolated linearly in fill rate at min/max's fill rate (:func:`value_at_fill_rate`). A curve is
    eligible when it reaches that fill rate and O <= min/max's orders (it places no more orders, so the
    saving is not bought with ordering cost). Reduction = 1 - V / min/max's average inventory value;
    the result is the largest among eligible curves (negative when all of them hold more), with its name,
    and every curve's reading.
    """
    readings: list[FamilyReduction] = []
    for name, points in curves.items():
        rates = [p.fill_rate for p in points]
        value = value_at_fill_rate(rates, [p.avg_inventory_value for p in points], min_max.fill_rate)
        orders = value_at_fill_rate(rates, [float(p.orders) for p in points], min_max.fill_rate)
        cost = value_at_fill_rate(rates, [p.total_cost for p in points], min_max.fill_rate)
        value_fill = value_at_fill_rate(rates, [p.value_fill_rate for p in points], min_max.fill_rate)
        eligible = value is not None and orders is not None and orders <= min_max.orders
        reduction = None
        if value is not None and min_max.avg_inventory_value > 0:
            reduction = 1.0 - value / min_max.avg_inventory_value
        span = (float(np.nanmin(rates)), float(np.nanmax(rates))) if np.isfinite(rates).any() else (np.nan, np.nan)
        readings.append(FamilyReduction(name, span, value, orders, eligible, reduction, cost, value_fill))
    scored = [r for r in readings if r.eligible and r.reduction is not None]
    if not scored:
        return None, None, tuple(readings)
    best = max(scored, key=lambda r: r.reduction if r.reduction is not None else -np.inf)
    return best.reduction, best.policy, tuple(readings)


def _pooled(
    policy: str,
    fields: Mapping[str, npt.NDArray[np.generic]],
    unit_value: npt.NDArray[np.float64],
    days: int,
    review_days: int,
    censored: bool | None,
    target: float | None,
    penalty: float | None = None,
) -> PolicyPoint:
    def total(name: str) -> float:
        return float(np.asarray(fields[name], dtype=np.float64).sum())

    def worth(name: str) -> float:
        return float((np.asarray(fields[name], dtype=np.float64) * unit_value).sum())

    demanded, cycles, value = total("demanded"), total("cycles"), total("average_on_hand_value")
    demanded_value, sold_value = worth("demanded"), worth("sold")
    return PolicyPoint(
        policy=policy,
        review_days=review_days,
        censored=censored,
        target_csl=target,
        fill_rate=total("filled") / demanded if demanded else float("nan"),
        value_fill_rate=worth("filled") / demanded_value if demanded_value else float("nan"),
        csl=total("cycles_met") / cycles if cycles else float("nan"),
        stockout_days=int(total("stockout_days")),
        avg_inventory_units=total("average_on_hand"),
        avg_inventory_value=value,
        turns=sold_value * DAYS_PER_YEAR / days / value if value > 0 else float("nan"),
        orders=int(total("orders_placed")),
        ordering_cost=total("ordering_cost"),
        holding_cost=total("holding_cost"),
        stockout_cost=total("stockout_cost"),
        total_cost=total("total_cost"),
        shortage_penalty=penalty,
    )


def _point(
    policy: str,
    result: SimulationResult,
    setup: SimulationSetup,
    censored: bool | None,
    target: float | None,
    penalty: float | None = None,
) -> PolicyPoint:
    fields = {name: getattr(result, name) for name in _POOLED}
    return _pooled(policy, fields, setup.costs.unit_cost, setup.days, setup.review_days, censored, target, penalty)


def compare_policies(
    data: ComparisonInput,
    plan: ComparisonPlan | None = None,
    *,
    forecaster: Forecaster | None = None,
    progress: Callable[[str], None] | None = None,
) -> ComparisonResult:
    """Run every policy of ``plan`` over ``data`` (warm-up and policies in the module docstring).

    Args:
        data: demand, unit values, lead times and costs.
        plan: targets, review periods, censor modes, the min/max rule and the oracle's review periods.
        forecaster: the order-up-to policy's forecaster; the worker's default
            ``MovingAverageForecaster()`` (28-day window, 14 days minimum history) when None.
        progress: called with a short line before each run.
    """
    plan = ComparisonPlan() if plan is None else plan
    model = MovingAverageForecaster() if forecaster is None else forecaster
    say = progress or (lambda _line: None)
    setups: dict[int, SimulationSetup] = {}

    def setup_for(review: int) -> SimulationSetup:
        if review not in setups:
            setups[review] = data.setup(review)
        return setups[review]

    points: list[PolicyPoint] = []
    for review in plan.review_days:
        setup = setup_for(review)
        for calibrated in plan.calibrate_modes:
            calibration = plan.calibration if calibrated else None
            for censored in plan.censor_modes:
                name = family_name(review, censored, calibrated)
                for target in sorted(plan.targets):
                    say(f"{name} at {target:g}")
                    params = setup.item_params(target)
                    decide: Decider = order_up_to_decider(
                        model, params, history_days=plan.history_days, calibration=calibration
                    )
                    result = simulate(setup, decide, censor_stockouts=censored)
                    points.append(_point(name, result, setup, censored, target))
    say("min_max")
    daily = setup_for(1)
    rule = min_max_decider(window_days=plan.min_max_window_days, min_days=plan.min_days, max_days=plan.max_days)
    min_max = _point(MIN_MAX, simulate(daily, rule), daily, None, None)
    points.extend(_exchange_points(plan, model, daily, min_max, say))
    oracle, choice = _oracle(plan.oracle_review_days, setup_for, say)
    reduction, reduction_policy, families = inventory_reduction(_curves(points), min_max)
    cheapest = min([*points, min_max], key=lambda p: p.total_cost)
    gap = (cheapest.total_cost - oracle.total_cost) / oracle.total_cost if oracle.total_cost > 0 else float("nan")
    return ComparisonResult(
        points=(*points, min_max, oracle),
        families=families,
        inventory_reduction_vs_minmax=reduction,
        reduction_policy=reduction_policy,
        oracle_cost_gap=gap,
        cheapest=cheapest.label,
        oracle_review_choice=choice,
        n=data.n,
        warmup_days=data.warmup_days,
        simulated_days=data.simulate_days,
        forecaster=model.version,
    )


def _exchange_points(
    plan: ComparisonPlan, model: Forecaster, daily: SimulationSetup, min_max: PolicyPoint, say: Callable[[str], None]
) -> list[PolicyPoint]:
    """The exchange policy's curves: per kind of penalty, order budget (a multiple of min/max's orders per day)
    and censor mode, one point per penalty, penalties ascending. ``exchange_``: one penalty per unit, a
    multiple of the mean unit value (the point records it in money); ``exchange_value_``: each unit's a
    multiple of its own value (the point records the multiple)."""
    if min_max.orders == 0:
        return []
    value = daily.costs.unit_cost
    params = daily.item_params(plan.targets[0])
    kinds = ((False, plan.exchange_penalties), (True, plan.exchange_value_penalties))
    points: list[PolicyPoint] = []
    for by_value, factors in kinds:
        for multiple in plan.exchange_order_multiples if factors else ():
            rate = multiple * min_max.orders / daily.days
            for censored in plan.censor_modes:
                name = exchange_name(multiple, censored, by_value)
                for factor in sorted(factors):
                    recorded = factor if by_value else factor * float(np.mean(value))
                    say(f"{name} at B={recorded:.4g}")
                    penalty = factor * value if by_value else np.full(value.shape, recorded)
                    decide = exchange_decider(model, params, daily.costs.holding_cost, orders_per_day=rate,
                                              shortage_penalty=penalty, history_days=plan.history_days)  # fmt: skip
                    result = simulate(daily, decide, censor_stockouts=censored)
                    points.append(_point(name, result, daily, censored, None, recorded))
    return points


def _curves(points: Sequence[PolicyPoint]) -> dict[str, list[PolicyPoint]]:
    out: dict[str, list[PolicyPoint]] = {}
    for point in points:
        out.setdefault(point.policy, []).append(point)
    return out


def _oracle(
    reviews: Sequence[int], setup_for: Callable[[int], SimulationSetup], say: Callable[[str], None]
) -> tuple[PolicyPoint, dict[int, int]]:
    """The oracle at each review period; per series the cheapest run is kept."""
    runs: list[SimulationResult] = []
    for review in reviews:
        say(f"oracle R={review}")
        setup = setup_for(review)
        runs.append(simulate(setup, oracle_decider(setup)))
    best = np.argmin(np.stack([r.total_cost for r in runs]), axis=0)
    rows = np.arange(best.shape[0])
    fields = {name: np.stack([getattr(r, name) for r in runs])[best, rows] for name in _POOLED}
    setup = setup_for(reviews[0])
    counts = np.bincount(best, minlength=len(reviews))
    choice = {int(r): int(c) for r, c in zip(reviews, counts, strict=True)}
    usual = int(reviews[int(np.argmax(counts))])
    point = _pooled(ORACLE, fields, setup.costs.unit_cost, setup.days, usual, None, None)
    return point, choice
