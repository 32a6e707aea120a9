"""Seeded synthetic demand for a catalogue of SKUs at locations, and a warehouse that replenishes it naively.

Two pure, vectorised steps (arrays over series; only time is looped):

1. :func:`generate_catalog` draws the item master (category, price, cost, lead time, case pack, MOQ, shelf
   capacity) and latent daily demand ``[n_series, days]`` for every SKU at every location. Demand has

   - heavy-tailed popularity: a log-normal rate per SKU times a log-normal factor per location (a few fast
     movers, many slow ones);
   - weekly seasonality: a cosine profile per series whose peak day depends on the category;
   - a slow multiplicative trend over the horizon;
   - promotions: windows of 4-10 days with a 10-35 % price cut and a lift of ``(1 - cut) ** -elasticity``,
     recorded in ``promo`` and in the daily ``price``;
   - intermittent sellers: the slowest ``intermittent_share`` of series sell on few days (Bernoulli
     occurrence times a 1 + negative-binomial size, Croston's model); the others are negative binomial
     (gamma-Poisson) around the seasonal mean.

2. :func:`simulate_inventory` runs a min/max (s, S) policy with daily review, case packs, MOQ and random
   lead times over a demand matrix and returns on hand, on order, receipts, orders, realised sales and
   stockouts. Sales are censored: ``sales = min(demand, on hand after the morning's receipts)``; the rest of
   the day's demand is lost. :func:`simulate_warehouse` is the warehouse's own *naive* replenishment of a
   catalogue: it sizes (s, S) from a noisy, flat estimate of the base rate that ignores promotions, trend and
   seasonality, so stockouts happen, as they do in real order history.

Every random draw comes from one ``numpy.random.Generator`` seeded by the caller: the same arguments give the
same arrays, bit for bit. Returned arrays are read-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
StrArray = NDArray[np.str_]

CATEGORIES: tuple[str, ...] = ("grocery", "household", "personal_care", "toys", "electronics", "garden")
"""Categories, each with its own price level, weekly peak and promotion elasticity."""
_CATEGORY_PRICE = np.array([3.0, 6.0, 5.0, 15.0, 45.0, 12.0])
_CATEGORY_PEAK_DOW = np.array([5, 5, 4, 5, 6, 6])  # Monday = 0: most categories peak at the weekend
_CATEGORY_ELASTICITY = np.array([1.8, 2.0, 2.2, 2.8, 3.0, 2.4])

CASE_PACKS: tuple[int, ...] = (1, 6, 12, 24)
LOCATIONS: tuple[str, ...] = ("LON", "MAN", "BHM", "GLA", "DUB", "AMS", "PAR", "FRA")
"""Location ids of the first locations; further ones are ``L009``, ``L010``, ..."""


class SyntheticError(ValueError):
    """An argument of the synthetic generator is out of range (the message names it)."""


_T = TypeVar("_T", bound=np.generic)


def _frozen(array: NDArray[_T]) -> NDArray[_T]:
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class SyntheticCatalog:
    """Item master and daily demand of ``n_skus * n_locations`` series (every SKU stocked at every location).

    Per-series arrays have shape ``[n_series]``, daily arrays ``[n_series, days]``; series ``i`` is SKU
    ``sku_index[i]`` at location ``location_index[i]``, ordered SKU-major. Day ``t`` is ``start_day + t``.
    """

    start_day: date
    sku_ids: StrArray
    location_ids: StrArray
    sku_index: IntArray
    location_index: IntArray
    category: StrArray
    unit_price: FloatArray
    """List price (currency units per unit, before promotions)."""
    unit_cost: FloatArray
    lead_time_days: FloatArray
    lead_time_std_days: FloatArray
    case_pack: IntArray
    moq: IntArray
    """Minimum order quantity in units (a multiple of the case pack)."""
    shelf_capacity: IntArray
    base_rate: FloatArray
    """Mean daily units at list price, before seasonality, trend and promotions."""
    intermittent: BoolArray
    weekly_profile: FloatArray
    """``[n_series, 7]`` multiplier by weekday (Monday = 0), mean 1."""
    trend: FloatArray
    """``[n_series, days]`` multiplicative trend, 1 on day 0."""
    promo: BoolArray
    price: FloatArray
    """``[n_series, days]`` selling price: ``unit_price`` less the promotion's cut on promo days."""
    expected: FloatArray
    """``[n_series, days]`` mean of the demand distribution (seasonality, trend and promotion lift applied)."""
    demand: FloatArray
    """``[n_series, days]`` latent demand in whole units (float dtype)."""

    @property
    def n_series(self) -> int:
        return int(self.sku_ids.shape[0])

    @property
    def days(self) -> int:
        return int(self.demand.shape[1])

    @property
    def keys(self) -> list[str]:
        """Message keys ``sku|location`` of the series, in series order."""
        return [f"{s}|{loc}" for s, loc in zip(self.sku_ids.tolist(), self.location_ids.tolist(), strict=True)]

    def weekday(self, day: int) -> int:
        """Weekday of day ``day`` (Monday = 0)."""
        return (self.start_day.weekday() + day) % 7


@dataclass(frozen=True)
class InventorySimulation:
    """Day-by-day result of a replenishment policy over a demand matrix (all ``[n_series, days]`` ints).

    Within a day: receipts arrive first (morning), then demand is served from on hand, then the policy reviews
    the inventory position (on hand + on order) and may order; the order arrives ``lead_time`` days later.
    """

    reorder_point: IntArray
    order_up_to: IntArray
    initial_on_hand: IntArray
    initial_on_order: IntArray
    receipts: IntArray
    sales: IntArray
    """Realised (censored) sales: ``min(demand, on hand after receipts)``."""
    lost_sales: IntArray
    stockout: BoolArray
    """Demand exceeded what was on hand: that day's sales are censored."""
    orders: IntArray
    """Units ordered at the end of the day (0 when no order)."""
    order_lead_time: IntArray
    """Realised lead time in days of the order placed that day (0 when no order)."""
    on_hand: IntArray
    """On hand at the end of the day."""
    on_order: IntArray
    """Outstanding orders at the end of the day, the day's own order included."""


WarehouseSimulation = InventorySimulation
"""The warehouse's own replenishment history is an :class:`InventorySimulation`."""


def _location_ids(n_locations: int) -> list[str]:
    return [LOCATIONS[j] if j < len(LOCATIONS) else f"L{j + 1:03d}" for j in range(n_locations)]


def _promotions(rng: np.random.Generator, n: int, days: int, promos_per_90_days: float) -> tuple[BoolArray, FloatArray]:
    """Promotion windows (a loop over days, vectorised over series): mask and price cut per day."""
    promo = np.zeros((n, days), dtype=np.bool_)
    cut = np.zeros((n, days), dtype=np.float64)
    remaining = np.zeros(n, dtype=np.int64)
    current_cut = np.zeros(n, dtype=np.float64)
    cooldown = np.zeros(n, dtype=np.int64)
    mean_length = 7.0
    start_probability = promos_per_90_days / max(90.0 - promos_per_90_days * mean_length, 1.0)
    for t in range(days):
        starting = (remaining == 0) & (cooldown == 0) & (rng.random(n) < start_probability)
        remaining[starting] = rng.integers(4, 11, size=int(starting.sum()))
        current_cut[starting] = np.round(rng.uniform(0.10, 0.35, size=int(starting.sum())), 2)
        active = remaining > 0
        promo[:, t] = active
        cut[:, t] = np.where(active, current_cut, 0.0)
        ending = active & (remaining == 1)
        cooldown[ending] = 14  # at least two weeks between promotions of a series
        remaining[active] -= 1
        cooldown[~active & (cooldown > 0)] -= 1
    return promo, cut


def generate_catalog(
    n_skus: int,
    n_locations: int,
    days: int,
    seed: int,
    start_day: date,
    *,
    mean_daily_units: float = 1.5,
    intermittent_share: float = 0.3,
    promos_per_90_days: float = 1.0,
) -> SyntheticCatalog:
    """Draw a catalogue of ``n_skus`` SKUs at ``n_locations`` locations with ``days`` days of demand.

    Args:
        n_skus: number of SKUs (ids ``SKU-00001``, ...), >= 1.
        n_locations: number of locations (ids from :data:`LOCATIONS`), >= 1.
        days: length of the demand history, >= 1.
        seed: seed of the one random generator behind every draw.
        start_day: calendar date of day 0 (sets the weekday of the weekly profile).
        mean_daily_units: mean over series of the base daily rate (the heavy tail makes the median lower).
        intermittent_share: share of series (the slowest) with intermittent, mostly-zero demand, in [0, 1].
        promos_per_90_days: mean number of promotions per series per 90 days, >= 0.
    """
    if n_skus < 1:
        raise SyntheticError(f"n_skus must be >= 1, got {n_skus}")
    if n_locations < 1:
        raise SyntheticError(f"n_locations must be >= 1, got {n_locations}")
    if days < 1:
        raise SyntheticError(f"days must be >= 1, got {days}")
    if mean_daily_units <= 0:
        raise SyntheticError(f"mean_daily_units must be > 0, got {mean_daily_units}")
    if not 0.0 <= intermittent_share <= 1.0:
        raise SyntheticError(f"intermittent_share must be in [0, 1], got {intermittent_share}")
    if promos_per_90_days < 0:
        raise SyntheticError(f"promos_per_90_days must be >= 0, got {promos_per_90_days}")

    rng = np.random.default_rng(seed)
    n = n_skus * n_locations
    sku_index = np.repeat(np.arange(n_skus, dtype=np.int64), n_locations)
    location_index = np.tile(np.arange(n_locations, dtype=np.int64), n_skus)
    sku_names = np.array([f"SKU-{k + 1:05d}" for k in range(n_skus)], dtype=np.str_)
    location_names = np.array(_location_ids(n_locations), dtype=np.str_)

    # --- item master, per SKU then per series ------------------------------------------------------------
    sku_category = rng.integers(0, len(CATEGORIES), size=n_skus)
    sku_price = np.round(_CATEGORY_PRICE[sku_category] * rng.lognormal(0.0, 0.5, size=n_skus), 2)
    sku_price = np.maximum(sku_price, 0.5)
    sku_margin = rng.uniform(0.25, 0.5, size=n_skus)
    sku_popularity = rng.lognormal(0.0, 1.2, size=n_skus)
    location_factor = rng.lognormal(0.0, 0.35, size=n_locations)

    category_code = sku_category[sku_index]
    unit_price = sku_price[sku_index]
    unit_cost = np.round(unit_price * (1.0 - sku_margin[sku_index]), 2)
    raw_rate = sku_popularity[sku_index] * location_factor[location_index] * rng.lognormal(0.0, 0.2, size=n)
    base_rate = raw_rate * (mean_daily_units / raw_rate.mean())

    lead_time = np.round(2.0 + 19.0 * rng.beta(1.3, 2.6, size=n), 1)  # 2 .. 21 days, most under 10
    lead_time_std = np.round(lead_time * rng.uniform(0.05, 0.3, size=n), 2)
    pack_choice = np.minimum(
        np.searchsorted(np.array([0.3, 2.0, 8.0]), base_rate) + rng.integers(-1, 2, size=n), len(CASE_PACKS) - 1
    )
    case_pack = np.array(CASE_PACKS, dtype=np.int64)[np.maximum(pack_choice, 0)]
    moq = case_pack * rng.choice(np.array([1, 1, 2, 4], dtype=np.int64), size=n)
    shelf_capacity = np.maximum(
        np.ceil(base_rate * (lead_time + 45.0) / case_pack) * case_pack, np.maximum(2 * moq, 12)
    ).astype(np.int64)

    # --- demand mean: weekly profile x trend x promotion lift --------------------------------------------
    amplitude = rng.uniform(0.15, 0.45, size=n)
    peak = (_CATEGORY_PEAK_DOW[category_code] + rng.integers(-1, 2, size=n)) % 7
    dow = np.arange(7, dtype=np.float64)
    weekly = 1.0 + amplitude[:, None] * np.cos(2.0 * np.pi * (dow[None, :] - peak[:, None]) / 7.0)
    weekly /= weekly.mean(axis=1, keepdims=True)
    weekdays = (start_day.weekday() + np.arange(days)) % 7

    slope = rng.normal(0.0, 0.25, size=n) * (days / 365.0)  # log-change over the horizon
    trend = np.exp(slope[:, None] * np.arange(days)[None, :] / max(days - 1, 1))

    promo, cut = _promotions(rng, n, days, promos_per_90_days)
    elasticity = _CATEGORY_ELASTICITY[category_code] * rng.uniform(0.8, 1.2, size=n)
    lift = np.where(promo, (1.0 - cut) ** (-elasticity[:, None]), 1.0)
    price = np.round(unit_price[:, None] * (1.0 - cut), 2)
    expected = base_rate[:, None] * weekly[:, weekdays] * trend * lift

    # --- intermittent (slowest share) vs negative-binomial sellers ---------------------------------------
    n_intermittent = round(intermittent_share * n)
    intermittent = np.zeros(n, dtype=np.bool_)
    intermittent[np.argsort(base_rate, kind="stable")[:n_intermittent]] = True

    shape = rng.uniform(2.0, 10.0, size=n)[:, None]  # NB dispersion: smaller is burstier
    gamma = rng.gamma(shape, expected / shape)
    regular_demand = rng.poisson(gamma).astype(np.float64)

    mean_size = rng.uniform(1.0, 3.0, size=n)  # mean units when a slow seller sells
    occurrence_p = np.clip(expected / mean_size[:, None], 0.0, 0.95)
    occurs = rng.random((n, days)) < occurrence_p
    extra = rng.poisson(rng.gamma(2.0, np.maximum(mean_size - 1.0, 1e-9)[:, None] / 2.0, size=(n, days)))
    intermittent_demand = np.where(occurs, 1.0 + extra, 0.0)
    demand = np.where(intermittent[:, None], intermittent_demand, regular_demand)

    return SyntheticCatalog(
        start_day=start_day,
        sku_ids=_frozen(sku_names[sku_index]),
        location_ids=_frozen(location_names[location_index]),
        sku_index=_frozen(sku_index),
        location_index=_frozen(location_index),
        category=_frozen(np.array(CATEGORIES, dtype=np.str_)[category_code]),
        unit_price=_frozen(unit_price.astype(np.float64)),
        unit_cost=_frozen(unit_cost.astype(np.float64)),
        lead_time_days=_frozen(lead_time.astype(np.float64)),
        lead_time_std_days=_frozen(lead_time_std.astype(np.float64)),
        case_pack=_frozen(case_pack),
        moq=_frozen(moq.astype(np.int64)),
        shelf_capacity=_frozen(shelf_capacity),
        base_rate=_frozen(base_rate.astype(np.float64)),
        intermittent=_frozen(intermittent),
        weekly_profile=_frozen(weekly.astype(np.float64)),
        trend=_frozen(trend.astype(np.float64)),
        promo=_frozen(promo),
        price=_frozen(price.astype(np.float64)),
        expected=_frozen(expected.astype(np.float64)),
        demand=_frozen(demand.astype(np.float64)),
    )


def simulate_inventory(
    demand: NDArray[np.floating] | NDArray[np.integer],
    *,
    reorder_point: NDArray[np.integer],
    order_up_to: NDArray[np.integer],
    lead_time_days: NDArray[np.floating],
    lead_time_std_days: NDArray[np.floating],
    case_pack: NDArray[np.integer],
    moq: NDArray[np.integer],
    initial_on_hand: NDArray[np.integer],
    seed: int,
) -> InventorySimulation:
    """Run a daily-review (s, S) policy over ``demand [n, days]`` (a loop over days, vectorised over series).

    At the end of each day a series whose inventory position (on hand + on order) is at or below
    ``reorder_point`` orders ``order_up_to - position`` rounded up to whole case packs and to at least
    ``moq``. Each order's lead time is ``max(1, round(Normal(lead_time_days, lead_time_std_days)))`` days; it
    is received at the start of that later day. Demand that on hand cannot serve is lost (censored).
    """
    demand_int = np.rint(np.asarray(demand, dtype=np.float64)).astype(np.int64)
    if demand_int.ndim != 2:
        raise SyntheticError(f"demand must be [n_series, days], got shape {demand_int.shape}")
    if (demand_int < 0).any():
        raise SyntheticError("demand must be >= 0")
    n, days = demand_int.shape
    s = np.asarray(reorder_point, dtype=np.int64)
    big_s = np.asarray(order_up_to, dtype=np.int64)
    pack = np.asarray(case_pack, dtype=np.int64)
    min_order = np.asarray(moq, dtype=np.int64)
    lead = np.asarray(lead_time_days, dtype=np.float64)
    lead_std = np.asarray(lead_time_std_days, dtype=np.float64)
    for name, arr in (
        ("reorder_point", s),
        ("order_up_to", big_s),
        ("case_pack", pack),
        ("moq", min_order),
        ("lead_time_days", lead),
        ("lead_time_std_days", lead_std),
        ("initial_on_hand", np.asarray(initial_on_hand)),
    ):
        if arr.shape != (n,):
            raise SyntheticError(f"{name} must have shape ({n},), got {arr.shape}")
    if (pack < 1).any() or (min_order < 1).any():
        raise SyntheticError("case_pack and moq must be >= 1")
    if (big_s < s).any():
        raise SyntheticError("order_up_to must be >= reorder_point")

    rng = np.random.default_rng(seed)
    max_lead = int(np.ceil((lead + 6.0 * lead_std).max())) + 2 if n else 2
    pipeline = np.zeros((n, days + max_lead + 1), dtype=np.int64)
    rows = np.arange(n)

    on_hand_now = np.asarray(initial_on_hand, dtype=np.int64).copy()
    on_order_now = np.zeros(n, dtype=np.int64)
    receipts = np.zeros((n, days), dtype=np.int64)
    sales = np.zeros((n, days), dtype=np.int64)
    orders = np.zeros((n, days), dtype=np.int64)
    order_lead = np.zeros((n, days), dtype=np.int64)
    on_hand = np.zeros((n, days), dtype=np.int64)
    on_order = np.zeros((n, days), dtype=np.int64)
    for t in range(days):
        arriving = pipeline[:, t]
        receipts[:, t] = arriving
        on_hand_now += arriving
        on_order_now -= arriving
        sold = np.minimum(demand_int[:, t], on_hand_now)
        sales[:, t] = sold
        on_hand_now -= sold
        position = on_hand_now + on_order_now
        need = position <= s
        quantity = np.maximum(-(-(big_s - position) // pack) * pack, min_order)
        quantity = np.where(need, quantity, 0)
        lead_draw = np.clip(np.rint(rng.normal(lead, lead_std)), 1, max_lead).astype(np.int64)
        lead_draw = np.where(need, lead_draw, 0)
        ordering = rows[need]
        pipeline[ordering, t + lead_draw[ordering]] += quantity[ordering]
        orders[:, t] = quantity
        order_lead[:, t] = lead_draw
        on_order_now += quantity
        on_hand[:, t] = on_hand_now
        on_order[:, t] = on_order_now

    lost = demand_int - sales
    return InventorySimulation(
        reorder_point=_frozen(s.copy()),
        order_up_to=_frozen(big_s.copy()),
        initial_on_hand=_frozen(np.asarray(initial_on_hand, dtype=np.int64).copy()),
        initial_on_order=_frozen(np.zeros(n, dtype=np.int64)),
        receipts=_frozen(receipts),
        sales=_frozen(sales),
        lost_sales=_frozen(lost),
        stockout=_frozen(lost > 0),
        orders=_frozen(orders),
        order_lead_time=_frozen(order_lead),
        on_hand=_frozen(on_hand),
        on_order=_frozen(on_order),
    )


def simulate_warehouse(
    catalog: SyntheticCatalog,
    seed: int,
    *,
    safety_days: float = 1.0,
    cycle_days: float = 14.0,
    estimate_error: float = 0.3,
) -> InventorySimulation:
    """The warehouse's own naive min/max replenishment of ``catalog``'s demand.

    The warehouse believes each series sells ``base_rate * LogNormal(0, estimate_error)`` units a day, every
    day (no promotions, trend or weekday effect). It sets ``s = ceil(rate * (lead_time + safety_days))`` and
    ``S = s + max(ceil(rate * cycle_days), case_pack, moq)``, capped at the shelf capacity. With little
    safety stock and the ignored promotions, stockouts (censored sales) happen on a few percent of days.
    """
    if safety_days < 0 or cycle_days <= 0 or estimate_error < 0:
        raise SyntheticError("safety_days must be >= 0, cycle_days > 0 and estimate_error >= 0")
    rng = np.random.default_rng(seed)
    n = catalog.n_series
    believed = catalog.base_rate * rng.lognormal(0.0, estimate_error, size=n)
    reorder_point = np.ceil(believed * (catalog.lead_time_days + safety_days)).astype(np.int64)
    cycle = np.maximum(np.ceil(believed * cycle_days).astype(np.int64), np.maximum(catalog.case_pack, catalog.moq))
    order_up_to = np.maximum(np.minimum(reorder_point + cycle, catalog.shelf_capacity), reorder_point)
    initial = rng.integers(reorder_point, order_up_to + 1)
    return simulate_inventory(
        catalog.demand,
        reorder_point=reorder_point,
        order_up_to=order_up_to,
        lead_time_days=catalog.lead_time_days,
        lead_time_std_days=catalog.lead_time_std_days,
        case_pack=catalog.case_pack,
        moq=catalog.moq,
        initial_on_hand=initial.astype(np.int64),
        seed=int(rng.integers(0, 2**63 - 1)),
    )
