"""What a simulation run is given: true demand, the starting stock, lead times, costs and the review period.

Stock quantities are whole units held as int64, so that the conservation identities of the outcome hold
exactly rather than to float rounding; money is float64. Realised lead times are drawn once, up front, from
a generator seeded by ``seed``: the same setup gives the same run with any decider, and the perfect-foresight
oracle can read the lead time each order will actually have.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from policies._arrays import check_condition, vector
from policies.costs import CostParams, known
from policies.errors import PolicyError
from policies.kinds import ServiceMeasure
from policies.params import ItemParams, flags

__all__ = ["SimulationSetup", "draw_lead_times"]


def whole_units(name: str, value: npt.ArrayLike, ndim: int) -> npt.NDArray[np.int64]:
    """``value`` as int64 after checking it is ``ndim``-D, finite, >= 0 and whole; errors name ``name``."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise PolicyError(f"{name}: expected numbers, got {type(value).__name__}") from exc
    if array.ndim != ndim:
        raise PolicyError(f"{name}: expected {ndim} dimensions, got shape {array.shape}")
    ok = np.isfinite(array) & (array >= 0) & (array == np.floor(array))
    if not np.all(ok):
        row = int(np.argwhere(~ok)[0][0])
        raise PolicyError(f"{name}: must be whole units, finite and >= 0 (first failing row {row})")
    return array.astype(np.int64)


def draw_lead_times(
    lead_time_days: npt.ArrayLike, lead_time_std_days: npt.ArrayLike, days: int, seed: int
) -> npt.NDArray[np.int64]:
    """``[n, days]`` realised lead time of an order placed on each day: max(1, round(Normal(L, sigma_L))).

    One draw per series and day, whether or not an order is placed that day, so the lead time of the order
    on day t does not depend on which earlier days ordered (two policies compared on one setup meet the same
    supplier). Draws are independent, so a later order can arrive before an earlier one (orders cross).
    """
    mean = vector("lead_time_days", lead_time_days)
    n = mean.shape[0]
    std = vector("lead_time_std_days", lead_time_std_days, n)
    check_condition("lead_time_days", np.isfinite(mean) & (mean >= 1), "must be finite and >= 1")
    check_condition("lead_time_std_days", np.isfinite(std) & (std >= 0), "must be finite and >= 0")
    if days < 1:
        raise PolicyError(f"days: must be >= 1, got {days}")
    rng = np.random.default_rng(seed)
    raw = rng.normal(size=(n, days)) * std[:, None] + mean[:, None]
    lead: npt.NDArray[np.int64] = np.maximum(np.rint(raw), 1.0).astype(np.int64)
    return lead


def _empty_int() -> npt.NDArray[np.int64]:
    return np.zeros((0, 0), dtype=np.int64)


def _empty_float() -> npt.NDArray[np.float32]:
    return np.zeros((0, 0), dtype=np.float32)


def _empty_bool() -> npt.NDArray[np.bool_]:
    return np.zeros((0, 0), dtype=np.bool_)


def _no_ids() -> npt.NDArray[np.str_]:
    return np.zeros(0, dtype=np.str_)


@dataclass(frozen=True, slots=True)
class SimulationSetup:
    """The world a decider is simulated in: ``n`` series over ``D`` days.

    Attributes:
        demand: ``[n, D]`` true daily demand in whole units (from real history or the seeded generator).
        initial_on_hand: ``[n]`` whole units on the shelf before day 0 (nothing on order, no backorders).
        lead_time_days: ``[n]`` mean supplier lead time L in days, >= 1.
        lead_time_std_days: ``[n]`` std of the lead time in days, >= 0 (0: every order takes round(L) days).
        lost_sales: ``[n]`` bool; True where unmet demand is lost, False where it is backordered.
        costs: :class:`~policies.costs.CostParams` per series; ``unit_cost`` (on-hand value), ``holding_cost``
            (money per unit-day on hand), ``ordering_cost`` (per order) and ``stockout_penalty`` (per unit of
            demand not met from stock on its day) must be known.
        review_days: R, the decider is called at the end of days 0, R, 2R, ...; int >= 1.
        seed: seeds :func:`draw_lead_times`.
        prior_sales: optional ``[n, W]`` sales before day 0 that the decider sees as history (e.g. the first
            months of a real series); empty (the default) means none.
        prior_observed: ``[n, W]`` bool mask of ``prior_sales`` (False: pre-launch or a censored day); empty
            means all observed.
        series_ids: optional ``[n]`` keys for the decider's :class:`~forecasting.DemandHistory`; empty means
            ``"0"``, ``"1"``, ...
        start_day: day number (days since 1970-01-01) of day 0, the calendar of the decider's history.
        lead_times: ``[n, D]`` realised lead times (computed, see :func:`draw_lead_times`).
    """

    demand: npt.NDArray[np.int64]
    initial_on_hand: npt.NDArray[np.int64]
    lead_time_days: npt.NDArray[np.float64]
    lead_time_std_days: npt.NDArray[np.float64]
    lost_sales: npt.NDArray[np.bool_]
    costs: CostParams
    review_days: int = 1
    seed: int = 0
    prior_sales: npt.NDArray[np.float32] = field(default_factory=_empty_float)
    prior_observed: npt.NDArray[np.bool_] = field(default_factory=_empty_bool)
    series_ids: npt.NDArray[np.str_] = field(default_factory=_no_ids)
    start_day: int = 0
    lead_times: npt.NDArray[np.int64] = field(init=False, default_factory=_empty_int)

    def __post_init__(self) -> None:
        demand = whole_units("demand", self.demand, 2)
        n, days = demand.shape
        if n < 1 or days < 1:
            raise PolicyError(f"demand: needs at least one series and one day, got shape {demand.shape}")
        hand = whole_units("initial_on_hand", self.initial_on_hand, 1)
        if hand.shape != (n,):
            raise PolicyError(f"initial_on_hand: expected shape [{n}], got {hand.shape}")
        if not isinstance(self.costs, CostParams) or self.costs.n != n:
            raise PolicyError(f"costs: expected CostParams for {n} series")
        for name in ("unit_cost", "holding_cost", "ordering_cost", "stockout_penalty"):
            known(f"costs.{name}", getattr(self.costs, name))
        if isinstance(self.review_days, bool) or not isinstance(self.review_days, int | np.integer):
            raise PolicyError(f"review_days: expected an int, got {type(self.review_days).__name__}")
        if self.review_days < 1:
            raise PolicyError(f"review_days: must be >= 1, got {self.review_days}")
        lead = draw_lead_times(self.lead_time_days, self.lead_time_std_days, days, self.seed)
        prior = np.asarray(self.prior_sales, dtype=np.float32)
        if prior.size == 0 and prior.ndim == 2 and prior.shape[0] in (0, n):
            prior = np.zeros((n, 0), dtype=np.float32)
        if prior.ndim != 2 or prior.shape[0] != n:
            raise PolicyError(f"prior_sales: expected shape [{n}, W], got {prior.shape}")
        seen = np.asarray(self.prior_observed)
        if seen.size == 0:
            seen = np.ones(prior.shape, dtype=np.bool_)
        if seen.shape != prior.shape or seen.dtype != np.bool_:
            raise PolicyError(f"prior_observed: expected a bool array of shape {prior.shape}")
        check_condition("prior_sales", np.all(~seen | (np.isfinite(prior) & (prior >= 0)), axis=1), ">= 0 where seen")
        ids = np.asarray(self.series_ids)
        if ids.size == 0:
            ids = np.arange(n).astype(np.str_)
        if ids.shape != (n,):
            raise PolicyError(f"series_ids: expected shape [{n}], got {ids.shape}")
        object.__setattr__(self, "demand", demand)
        object.__setattr__(self, "initial_on_hand", hand)
        object.__setattr__(self, "lead_time_days", vector("lead_time_days", self.lead_time_days, n))
        object.__setattr__(self, "lead_time_std_days", vector("lead_time_std_days", self.lead_time_std_days, n))
        object.__setattr__(self, "lost_sales", flags("lost_sales", self.lost_sales, n))
        object.__setattr__(self, "review_days", int(self.review_days))
        object.__setattr__(self, "prior_sales", prior)
        object.__setattr__(self, "prior_observed", seen)
        object.__setattr__(self, "series_ids", ids)
        object.__setattr__(self, "start_day", int(self.start_day))
        object.__setattr__(self, "lead_times", lead)

    @property
    def n(self) -> int:
        """Number of series."""
        return int(self.demand.shape[0])

    @property
    def days(self) -> int:
        """Number of simulated days, ``D``."""
        return int(self.demand.shape[1])

    def item_params(
        self,
        service_level: float,
        *,
        service_measure: ServiceMeasure = ServiceMeasure.CYCLE_SERVICE_LEVEL,
        case_pack: int = 1,
        moq: int = 1,
    ) -> ItemParams:
        """:class:`~policies.ItemParams` that match this setup (L, sigma_L, R, lost sales) for one target.

        An order placed at the end of day t reaches the shelf on the morning of day t + L + 1, and the next
        review's order L days after day t + R, so the position must cover L + R days: the policy's
        ``protection_days`` is exactly the exposure the simulator creates.
        """
        n = self.n
        return ItemParams(
            lead_time_days=self.lead_time_days,
            lead_time_std_days=self.lead_time_std_days,
            review_days=np.full(n, float(self.review_days)),
            case_pack=np.full(n, case_pack, dtype=np.int64),
            moq=np.full(n, moq, dtype=np.int64),
            max_order_qty=np.full(n, np.inf),
            shelf_capacity=np.full(n, np.inf),
            service_level=np.full(n, service_level),
            lost_sales=self.lost_sales,
            service_measure=np.full(n, service_measure, dtype=np.int8),
        )
