"""Per-series item parameters of the policies, as arrays aligned with the decision batch."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from policies._arrays import check_condition, vector
from policies.errors import PolicyError
from policies.kinds import ServiceMeasure

__all__ = ["ItemParams"]


def _whole(name: str, array: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    check_condition(name, np.isfinite(array) & (array >= 1) & (array == np.floor(array)), "must be an int >= 1")
    return array.astype(np.int64)


def _no_flags() -> npt.NDArray[np.bool_]:
    return np.zeros(0, dtype=np.bool_)


def _no_measures() -> npt.NDArray[np.int8]:
    return np.zeros(0, dtype=np.int8)


def flags(name: str, value: npt.ArrayLike, n: int) -> npt.NDArray[np.bool_]:
    """``value`` as an ``[n]`` bool array; an empty array means "all False" (the default)."""
    array = np.asarray(value)
    if array.shape == (0,):
        return np.zeros(n, dtype=np.bool_)
    if array.shape != (n,):
        raise PolicyError(f"{name}: expected shape [{n}], got {array.shape}")
    if array.dtype != np.bool_:
        numbers = vector(name, array, n)
        check_condition(name, (numbers == 0) | (numbers == 1), "must be booleans (or 0/1)")
        return numbers.astype(np.bool_)
    return array.copy()


def measures(name: str, value: npt.ArrayLike, n: int) -> npt.NDArray[np.int8]:
    """``value`` as ``[n]`` int8 :class:`ServiceMeasure` codes; an empty array means all cycle service level."""
    array = np.asarray(value)
    if array.shape == (0,):
        return np.full(n, ServiceMeasure.CYCLE_SERVICE_LEVEL, dtype=np.int8)
    numbers = vector(name, array, n)
    codes = [int(m) for m in ServiceMeasure]
    check_condition(name, np.isin(numbers, codes), f"must be ServiceMeasure codes {codes}")
    return numbers.astype(np.int8)


@dataclass(frozen=True, slots=True)
class ItemParams:
    """Item master and service target per series; every field is ``[n]``.

    Attributes:
        lead_time_days: L, mean supplier lead time in days, finite and >= 0.
        lead_time_std_days: sigma_L, standard deviation of the lead time in days, finite and >= 0.
        review_days: R, days between decision passes for this item, finite and >= 0.
        case_pack: orders are multiples of this many units, int >= 1.
        moq: minimum order quantity in units, int >= 1.
        max_order_qty: largest order in units, >= 1 or inf; it must admit one order of ``moq`` rounded up
            to a case pack, otherwise the item could never be ordered.
        shelf_capacity: most units on hand + on order + pending, >= 1 or inf.
        service_level: the service target in (0, 1), read per ``service_measure``: a cycle service level
            alpha (below 0.5 the reorder point sits under the mean demand, what a cost-based level gives a dear,
            slow item: :mod:`policies.exchange`), or a fill rate beta.
        lost_sales: bool, True where demand met by an empty shelf is lost (the inventory position then
            ignores backorders); False (the default) where it is backordered. Optional: an empty array (the
            default) means False for every series.
        service_measure: int8 :class:`~policies.kinds.ServiceMeasure` code of ``service_level``; optional,
            an empty array (the default) means CYCLE_SERVICE_LEVEL for every series.
    """

    lead_time_days: npt.NDArray[np.float64]
    lead_time_std_days: npt.NDArray[np.float64]
    review_days: npt.NDArray[np.float64]
    case_pack: npt.NDArray[np.int64]
    moq: npt.NDArray[np.int64]
    max_order_qty: npt.NDArray[np.float64]
    shelf_capacity: npt.NDArray[np.float64]
    service_level: npt.NDArray[np.float64]
    lost_sales: npt.NDArray[np.bool_] = field(default_factory=_no_flags)
    service_measure: npt.NDArray[np.int8] = field(default_factory=_no_measures)

    def __post_init__(self) -> None:
        lead_time = vector("lead_time_days", self.lead_time_days)
        n = lead_time.shape[0]
        lead_std = vector("lead_time_std_days", self.lead_time_std_days, n)
        review = vector("review_days", self.review_days, n)
        for name, array in (
            ("lead_time_days", lead_time),
            ("lead_time_std_days", lead_std),
            ("review_days", review),
        ):
            check_condition(name, np.isfinite(array) & (array >= 0), "must be finite and >= 0")
        case_pack = _whole("case_pack", vector("case_pack", self.case_pack, n))
        moq = _whole("moq", vector("moq", self.moq, n))
        max_order = vector("max_order_qty", self.max_order_qty, n)
        shelf = vector("shelf_capacity", self.shelf_capacity, n)
        check_condition("max_order_qty", max_order >= 1, "must be >= 1 (inf allowed)")
        check_condition("shelf_capacity", shelf >= 1, "must be >= 1 (inf allowed)")
        smallest_order = np.ceil(moq / case_pack) * case_pack
        check_condition("max_order_qty", max_order >= smallest_order, "must admit the moq rounded up to a case pack")
        service = vector("service_level", self.service_level, n)
        lost_sales = flags("lost_sales", self.lost_sales, n)
        measure = measures("service_measure", self.service_measure, n)
        check_condition("service_level", (service > 0.0) & (service < 1.0), "must lie strictly in (0, 1)")
        object.__setattr__(self, "lead_time_days", lead_time)
        object.__setattr__(self, "lead_time_std_days", lead_std)
        object.__setattr__(self, "review_days", review)
        object.__setattr__(self, "case_pack", case_pack)
        object.__setattr__(self, "moq", moq)
        object.__setattr__(self, "max_order_qty", max_order)
        object.__setattr__(self, "shelf_capacity", shelf)
        object.__setattr__(self, "service_level", service)
        object.__setattr__(self, "lost_sales", lost_sales)
        object.__setattr__(self, "service_measure", measure)

    @property
    def n(self) -> int:
        """Number of series."""
        return int(self.lead_time_days.shape[0])

    @property
    def protection_days(self) -> npt.NDArray[np.float64]:
        """``[n]`` protection period L + R in days: what the caller passes to ``forecast.over_period``."""
        days: npt.NDArray[np.float64] = self.lead_time_days + self.review_days
        return days

    @classmethod
    def uniform(
        cls,
        n: int,
        *,
        lead_time_days: float,
        lead_time_std_days: float = 0.0,
        review_days: float = 1.0,
        case_pack: int = 1,
        moq: int = 1,
        max_order_qty: float = float("inf"),
        shelf_capacity: float = float("inf"),
        service_level: float = 0.95,
        lost_sales: bool = False,
        service_measure: ServiceMeasure = ServiceMeasure.CYCLE_SERVICE_LEVEL,
    ) -> ItemParams:
        """The same parameters for ``n`` series (simulator, tests, items without an item master)."""

        def fill(value: float) -> npt.NDArray[np.float64]:
            return np.full(n, value, dtype=np.float64)

        return cls(
            lead_time_days=fill(lead_time_days),
            lead_time_std_days=fill(lead_time_std_days),
            review_days=fill(review_days),
            case_pack=np.full(n, case_pack, dtype=np.int64),
            moq=np.full(n, moq, dtype=np.int64),
            max_order_qty=fill(max_order_qty),
            shelf_capacity=fill(shelf_capacity),
            service_level=fill(service_level),
            lost_sales=np.full(n, lost_sales, dtype=np.bool_),
            service_measure=np.full(n, service_measure, dtype=np.int8),
        )
