"""Sample Kafka messages for the three input topics, built from a synthetic catalogue (no broker here).

:func:`render_history` turns a :class:`~forecasting.synthetic.SyntheticCatalog` and the warehouse's own
replenishment (:func:`~forecasting.synthetic.simulate_warehouse`) into a list of :class:`OutboundMessage`
in event-time order, ready for a producer. Payloads follow CONTRACTS.md field by field (orjson, keys
``sku|location``):

- **orders**: each day's realised (censored) sales split into order lines of 1-3 units typically
  (geometric sizes), at times spread over the trading day, channel ``web``/``app``/``marketplace``, currency
  of the location (``EUR`` for DUB, AMS, PAR, FRA, else ``GBP``; EUR prices are GBP prices x 1.17).
  ``cancel_fraction`` of lines come with an extra sale and its ``cancellation`` minutes to hours later
  (``original_order_id`` set; the pair nets to zero, so net sales equal the simulation's realised sales);
  ``return_fraction`` of lines are partly ``return``-ed 1-14 days later (returned goods are not resold: on
  hand is unchanged).
- **inventory**: a ``snapshot`` per series at 00:00 of day 0 with the item master and ``on_order``;
  ``receipt`` events (``delta`` = units received, ``on_order`` after it) at 04:00-05:30; a ``shipment`` per
  series and day with sales (``delta`` = units shipped) at 23:30-23:50; a ``snapshot`` every 7th day at
  23:55 (``on_hand`` and ``on_order`` at the end of that day).
- **clicks**: about ``clicks_per_line`` clicks per order line: one ``purchase`` per sale line a little
  before it, and ``view``/``add_to_cart``/``remove_from_cart`` in proportion to *latent* demand (so
  stockout days still draw clicks). Every click carries its series' location (never null), so its key is
  always the payload's ``sku|location``.

``event_time`` is epoch milliseconds on most events and an ISO-8601 ``...Z`` string (millisecond precision)
on ``iso_fraction`` of them. Event ids are ``{o|i|c}-{tag}-{n:08d}``: ``tag`` comes from the seed, ``n``
counts per topic, so ids are unique within a history and differ between seeds.

Bad input (``bad_fraction`` of the valid events, split evenly across the reasons, at least one each when the
fraction is > 0): one message per reason schemas/ decides (:data:`SCHEMA_REASONS`, named as in
``schemas.DlqReason``), each with exactly one defect, a fresh event id and otherwise valid content, placed
right after the valid event it copies; exact duplicate redeliveries (same key, same bytes) right after their
original; and late events: valid events moved 2-5 days further down the stream (their
``OutboundMessage.event_time_ms`` stays their own, older, event time; they are the only messages out of
event-time order). :attr:`SampleHistory.injected` counts them by reason.

:func:`ingest_mix` makes valid orders, inventory events and clicks 1:1:8 over Zipf-popular keys for the
ingest benchmark.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, Literal

import numpy as np
import orjson
from numpy.typing import NDArray

from forecasting.synthetic import (
    InventorySimulation,
    SyntheticCatalog,
    generate_catalog,
    simulate_warehouse,
)

TopicKind = Literal["orders", "inventory", "clicks"]
TOPIC_KINDS: Final[tuple[TopicKind, ...]] = ("orders", "inventory", "clicks")

SCHEMA_VERSION: Final = 1
DAY_MS: Final = 86_400_000
HOUR_MS: Final = 3_600_000

SCHEMA_REASONS: Final[tuple[str, ...]] = (
    "malformed_json",
    "missing_field",
    "wrong_type",
    "invalid_value",
    "unknown_schema_version",
    "invalid_quantity",
    "absurd_quantity",
    "future_timestamp",
    "oversized",
    "key_mismatch",
)
"""DLQ reasons decided by schemas/ that :func:`render_history` injects (``schemas.DlqReason`` values)."""
STREAM_REASONS: Final[tuple[str, ...]] = ("duplicate", "late")
"""DLQ reasons decided by streams/ that :func:`render_history` injects."""
INJECTED_REASONS: Final[tuple[str, ...]] = SCHEMA_REASONS + STREAM_REASONS

EUR_LOCATIONS: Final[frozenset[str]] = frozenset({"DUB", "AMS", "PAR", "FRA"})
EUR_PER_GBP: Final = 1.17
CHANNELS: Final[tuple[str, ...]] = ("web", "app", "marketplace")
_CHANNEL_P = np.array([0.55, 0.30, 0.15])
_CLICK_ACTIONS: Final[tuple[str, ...]] = ("view", "add_to_cart", "remove_from_cart", "purchase")
_OTHER_CLICK_P = np.array([0.78, 0.15, 0.07])
FAR_FUTURE_MS: Final = 3650 * DAY_MS
"""A ``future_timestamp`` message is dated this far (10 years) after the stream time where it is injected."""

# Defaults of the demo history: ~300 series x 150 days, ~200k messages.
DEMO_SKUS: Final = 100
DEMO_LOCATIONS: Final = 3
DEMO_DAYS: Final = 150
DEMO_MEAN_DAILY_UNITS: Final = 1.0


class SampleEventsError(ValueError):
    """An argument of the sample-event generator is out of range (the message names it)."""


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One message for a producer: topic kind, key (utf-8 ``sku|location``), value (JSON) and event time.

    ``event_time_ms`` is the payload's event time in epoch ms; for malformed, future-dated and other
    rejected messages it is the stream time at which they were injected (a producer may use it as the
    record timestamp). ``partition`` forces a partition (hostile-input tests); None places the key with murmur2.
    """

    topic_kind: TopicKind
    key: bytes
    value: bytes
    event_time_ms: int
    partition: int | None = None


@dataclass(frozen=True)
class SampleHistory:
    """Messages of a rendered history in delivery order, and what bad input was injected."""

    messages: list[OutboundMessage]
    injected: dict[str, int]
    """Injected bad messages by DLQ reason (every key of :data:`INJECTED_REASONS`, zeros included)."""
    injected_by_topic: dict[str, dict[str, int]]
    """The same counts per topic kind: ``{topic_kind: {reason: count}}`` (non-zero entries only)."""
    valid_counts: dict[str, int]
    """Valid, distinct events per topic kind (late ones included: they are valid but arrive late)."""
    start_ms: int
    """Epoch ms of 00:00 UTC of day 0."""
    end_ms: int
    """Epoch ms of 00:00 UTC of the day after the last day."""

    @property
    def bad_total(self) -> int:
        return sum(self.injected.values())


def day_start_ms(day: date) -> int:
    """Epoch milliseconds of 00:00 UTC of ``day``."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1000


def iso_ms(ms: NDArray[np.int64]) -> list[str]:
    """ISO-8601 UTC strings with millisecond precision and a ``Z`` suffix (vectorised)."""
    text = np.datetime_as_string(np.asarray(ms, dtype=np.int64).astype("datetime64[ms]"), unit="ms")
    return [f"{s}Z" for s in text.tolist()]


# ------------------------------------------------------------------------------------------------------------
# Columnar event tables: one row per event, serialised at the end
# ------------------------------------------------------------------------------------------------------------


@dataclass
class _Table:
    """Events of one topic kind as columns (numpy arrays or lists), plus their series and event time."""

    kind: TopicKind
    series: NDArray[np.int64]
    time_ms: NDArray[np.int64]
    columns: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.series.shape[0])


def _intraday_ms(
    rng: np.random.Generator, size: int, lo_h: float, hi_h: float, mean_h: float, sd_h: float
) -> NDArray[np.int64]:
    hours = np.clip(rng.normal(mean_h, sd_h, size=size), lo_h, hi_h)
    return np.rint(hours * HOUR_MS).astype(np.int64)


def _currency_arrays(catalog: SyntheticCatalog) -> tuple[NDArray[np.str_], NDArray[np.float64]]:
    eur = np.isin(catalog.location_ids, list(EUR_LOCATIONS))
    return np.where(eur, "EUR", "GBP").astype(np.str_), np.where(eur, EUR_PER_GBP, 1.0)


def _order_table(
    catalog: SyntheticCatalog,
    sim: InventorySimulation,
    rng: np.random.Generator,
    start_ms: int,
    mean_line_units: float,
    cancel_fraction: float,
    return_fraction: float,
) -> tuple[_Table, NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Order lines; also returns the (series, day, time) of each *sale* line for the purchase clicks."""
    days = sim.sales.shape[1]
    series_idx, day_idx = np.nonzero(sim.sales)
    units = sim.sales[series_idx, day_idx]
    # Split each cell's units into lines: every unit after the first starts a new line with prob 1/mean.
    cell_of_unit = np.repeat(np.arange(series_idx.shape[0]), units)
    first_of_cell = np.ones(cell_of_unit.shape[0], dtype=np.bool_)
    first_of_cell[1:] = cell_of_unit[1:] != cell_of_unit[:-1]
    starts = first_of_cell | (rng.random(cell_of_unit.shape[0]) < 1.0 / mean_line_units)
    line_of_unit = np.cumsum(starts) - 1
    quantity = np.bincount(line_of_unit).astype(np.int64)
    line_cell = cell_of_unit[starts]
    line_series = series_idx[line_cell].astype(np.int64)
    line_day = day_idx[line_cell].astype(np.int64)

    # Extra sale + cancellation pairs (netting to zero) on top of the realised sales.
    n_lines = int(quantity.shape[0])
    n_cancel = int(rng.binomial(n_lines, cancel_fraction)) if n_lines else 0
    cancel_src = rng.choice(n_lines, size=n_cancel, replace=False) if n_cancel else np.zeros(0, np.int64)
    sale_series = np.concatenate([line_series, line_series[cancel_src]])
    sale_day = np.concatenate([line_day, line_day[cancel_src]])
    sale_qty = np.concatenate([quantity, rng.integers(1, 4, size=n_cancel)])
    n_sales = int(sale_series.shape[0])
    sale_time = start_ms + sale_day * DAY_MS + _intraday_ms(rng, n_sales, 7.0, 22.0, 14.0, 3.5)
    sale_channel = rng.choice(len(CHANNELS), size=n_sales, p=_CHANNEL_P)
    order_no = np.arange(n_sales, dtype=np.int64)

    cancelled = np.arange(n_lines, n_sales, dtype=np.int64)
    cancel_time = np.minimum(
        sale_time[cancelled] + rng.integers(5 * 60_000, 3 * HOUR_MS, size=n_cancel),
        start_ms + (sale_day[cancelled] + 1) * DAY_MS - 60 * 60_000,
    )

    n_return = int(rng.binomial(n_lines, return_fraction)) if n_lines else 0
    return_src = np.sort(rng.choice(n_lines, size=n_return, replace=False)) if n_return else np.zeros(0, np.int64)
    return_time = sale_time[return_src] + rng.integers(1, 15, size=n_return) * DAY_MS
    return_time += rng.integers(-2 * HOUR_MS, 2 * HOUR_MS, size=n_return)
    keep = return_time < start_ms + days * DAY_MS
    return_src, return_time = return_src[keep], return_time[keep]
    return_qty = rng.integers(1, quantity[return_src] + 1) if return_src.size else np.zeros(0, np.int64)

    line_type = np.concatenate(
        [np.zeros(n_sales, np.int8), np.ones(cancelled.shape[0], np.int8), np.full(return_src.shape[0], 2, np.int8)]
    )
    ref = np.concatenate([order_no, cancelled, return_src])  # the sale the line is or refers to
    own_no = np.concatenate([order_no, np.arange(cancelled.shape[0]), np.arange(return_src.shape[0])])
    series = sale_series[ref]
    day = sale_day[ref]
    price = np.round(catalog.price[series, day] * _currency_arrays(catalog)[1][series], 2)
    table = _Table(
        kind="orders",
        series=series,
        time_ms=np.concatenate([sale_time, cancel_time, return_time]).astype(np.int64),
        columns={
            "line_type": line_type,
            "own_no": own_no,
            "ref_no": ref,
            "quantity": np.concatenate([sale_qty, sale_qty[cancelled], return_qty]).astype(np.int64),
            "unit_price": price,
            "channel": sale_channel[ref],
        },
    )
    return table, sale_series, sale_day, sale_time


def _inventory_table(
    catalog: SyntheticCatalog, sim: InventorySimulation, rng: np.random.Generator, start_ms: int
) -> _Table:
    n, days = sim.sales.shape
    parts: list[tuple[NDArray[np.int64], NDArray[np.int64], int, Any, Any, Any]] = []
    # kind codes: 0 snapshot, 1 receipt, 3 shipment (matching _INVENTORY_KINDS)
    all_series = np.arange(n, dtype=np.int64)
    parts.append((all_series, np.full(n, start_ms, np.int64), 0, sim.initial_on_hand, sim.initial_on_order, None))

    r_series, r_day = np.nonzero(sim.receipts)
    r_series = r_series.astype(np.int64)
    on_order_before = np.where(
        r_day > 0, sim.on_order[r_series, np.maximum(r_day - 1, 0)], sim.initial_on_order[r_series]
    )
    received = sim.receipts[r_series, r_day]
    r_time = start_ms + r_day * DAY_MS + _intraday_ms(rng, r_series.shape[0], 4.0, 5.5, 4.75, 0.4)
    parts.append((r_series, r_time, 1, None, on_order_before - received, received))

    s_series, s_day = np.nonzero(sim.sales)
    s_series = s_series.astype(np.int64)
    s_time = start_ms + s_day * DAY_MS + 23 * HOUR_MS + rng.integers(30 * 60_000, 50 * 60_000, size=s_series.shape[0])
    parts.append((s_series, s_time, 3, None, None, sim.sales[s_series, s_day]))

    weekly_days = np.arange(6, days, 7)
    w_series = np.repeat(all_series, weekly_days.shape[0])
    w_day = np.tile(weekly_days, n)
    w_time = start_ms + w_day * DAY_MS + 23 * HOUR_MS + 55 * 60_000
    parts.append((w_series, w_time, 0, sim.on_hand[w_series, w_day], sim.on_order[w_series, w_day], None))

    series = np.concatenate([p[0] for p in parts])
    sizes = [p[0].shape[0] for p in parts]
    kind = np.concatenate([np.full(size, p[2], np.int8) for size, p in zip(sizes, parts, strict=True)])

    def column(pos: int) -> NDArray[np.int64]:
        return np.concatenate(
            [
                np.asarray(p[pos], np.int64) if p[pos] is not None else np.full(s, -1, np.int64)
                for s, p in zip(sizes, parts, strict=True)
            ]
        )

    master = np.zeros(series.shape[0], dtype=np.bool_)
    master[:n] = True
    return _Table(
        kind="inventory",
        series=series,
        time_ms=np.concatenate([p[1] for p in parts]).astype(np.int64),
        columns={"kind": kind, "on_hand": column(3), "on_order": column(4), "delta": column(5), "master": master},
    )


def _click_table(
    catalog: SyntheticCatalog,
    rng: np.random.Generator,
    start_ms: int,
    sale_series: NDArray[np.int64],
    sale_day: NDArray[np.int64],
    sale_time: NDArray[np.int64],
    clicks_per_line: float,
    mean_line_units: float,
) -> _Table:
    # Purchases: one per sale line, 10 s .. 10 min before it.
    p_time = sale_time - rng.integers(10_000, 600_000, size=sale_time.shape[0])
    # Other clicks: Poisson in proportion to latent demand, plus a trickle of views on quiet days.
    others_mean = max(clicks_per_line - 1.0, 0.0) * catalog.demand / mean_line_units + 0.1 * (clicks_per_line > 0)
    counts = rng.poisson(others_mean)
    cell_series, cell_day = np.nonzero(counts)
    reps = counts[cell_series, cell_day]
    o_series = np.repeat(cell_series, reps).astype(np.int64)
    o_day = np.repeat(cell_day, reps).astype(np.int64)
    o_time = start_ms + o_day * DAY_MS + _intraday_ms(rng, o_series.shape[0], 6.5, 22.5, 14.0, 3.8)
    o_action = rng.choice(3, size=o_series.shape[0], p=_OTHER_CLICK_P).astype(np.int8)
    series = np.concatenate([sale_series, o_series])
    total = int(series.shape[0])
    action = np.concatenate([np.full(sale_series.shape[0], 3, np.int8), o_action])
    session = rng.integers(0, max(total // 4, 1), size=total)
    return _Table(
        kind="clicks",
        series=series,
        time_ms=np.concatenate([p_time, o_time]).astype(np.int64),
        columns={"action": action, "session": session},
    )


_INVENTORY_KINDS: Final[tuple[str, ...]] = ("snapshot", "receipt", "adjustment", "shipment")
_LINE_TYPES: Final[tuple[str, ...]] = ("sale", "cancellation", "return")
_ID_PREFIX: Final[dict[str, str]] = {"orders": "o", "inventory": "i", "clicks": "c"}


class _Ids:
    """Deterministic, unique event ids per topic kind."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.next: dict[str, int] = dict.fromkeys(_ID_PREFIX, 0)

    def take(self, kind: str, count: int) -> list[str]:
        first = self.next[kind]
        self.next[kind] = first + count
        prefix = f"{_ID_PREFIX[kind]}-{self.tag}-"
        return [f"{prefix}{k:08d}" for k in range(first, first + count)]


def _payloads(
    table: _Table, catalog: SyntheticCatalog, ids: _Ids, iso: NDArray[np.bool_], order_tag: str
) -> list[dict[str, Any]]:
    """JSON-ready payload dicts of a table's rows (in row order)."""
    n_rows = len(table)
    event_ids = ids.take(table.kind, n_rows)
    iso_text = iso_ms(table.time_ms[iso])
    times: list[str | int] = list(table.time_ms.tolist())
    for pos, text in zip(np.flatnonzero(iso).tolist(), iso_text, strict=True):
        times[pos] = text
    skus = catalog.sku_ids[table.series].tolist()
    locations = catalog.location_ids[table.series].tolist()
    out: list[dict[str, Any]] = []
    cols = table.columns
    if table.kind == "orders":
        currency = _currency_arrays(catalog)[0][table.series].tolist()
        prefixes = ("SO", "CX", "RT")
        for k, (lt, own, ref, qty, price, chan) in enumerate(
            zip(
                cols["line_type"].tolist(),
                cols["own_no"].tolist(),
                cols["ref_no"].tolist(),
                cols["quantity"].tolist(),
                cols["unit_price"].tolist(),
                cols["channel"].tolist(),
                strict=True,
            )
        ):
            out.append(
                {
                    "schema_version": SCHEMA_VERSION,
                    "event_id": event_ids[k],
                    "event_time": times[k],
                    "sku": skus[k],
                    "location": locations[k],
                    "line_type": _LINE_TYPES[lt],
                    "order_id": f"{prefixes[lt]}-{order_tag}-{own:08d}",
                    "original_order_id": None if lt == 0 else f"SO-{order_tag}-{ref:08d}",
                    "quantity": qty,
                    "unit_price": price,
                    "currency": currency[k],
                    "channel": CHANNELS[chan],
                }
            )
    elif table.kind == "inventory":
        fx = _currency_arrays(catalog)[1]
        for k, (kind, on_hand, on_order, delta, master, s) in enumerate(
            zip(
                cols["kind"].tolist(),
                cols["on_hand"].tolist(),
                cols["on_order"].tolist(),
                cols["delta"].tolist(),
                cols["master"].tolist(),
                table.series.tolist(),
                strict=True,
            )
        ):
            payload: dict[str, Any] = {
                "schema_version": SCHEMA_VERSION,
                "event_id": event_ids[k],
                "event_time": times[k],
                "sku": skus[k],
                "location": locations[k],
                "kind": _INVENTORY_KINDS[kind],
            }
            if on_hand >= 0:
                payload["on_hand"] = on_hand
            if delta >= 0:
                payload["delta"] = delta
            if on_order >= 0:
                payload["on_order"] = on_order
            if master:
                payload["backorders"] = 0
                payload["lead_time_days"] = float(catalog.lead_time_days[s])
                payload["lead_time_std_days"] = float(catalog.lead_time_std_days[s])
                payload["case_pack"] = int(catalog.case_pack[s])
                payload["moq"] = int(catalog.moq[s])
                payload["unit_cost"] = round(float(catalog.unit_cost[s] * fx[s]), 2)
                payload["shelf_capacity"] = int(catalog.shelf_capacity[s])
            out.append(payload)
    else:
        for k, (action, session) in enumerate(zip(cols["action"].tolist(), cols["session"].tolist(), strict=True)):
            out.append(
                {
                    "schema_version": SCHEMA_VERSION,
                    "event_id": event_ids[k],
                    "event_time": times[k],
                    "sku": skus[k],
                    "location": locations[k],
                    "session_id": f"s-{order_tag}-{session:07d}",
                    "action": _CLICK_ACTIONS[action],
                }
            )
    return out


# ------------------------------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------------------------------

_MISSING_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "orders": ("quantity", "order_id", "line_type", "event_id", "event_time", "currency"),
    "inventory": ("kind", "event_id", "event_time", "schema_version"),
    "clicks": ("action", "session_id", "event_id", "event_time"),
}


def _wrong_type(kind: str, payload: dict[str, Any]) -> None:
    if kind == "orders":
        payload["quantity"] = {"units": payload["quantity"]}
    elif kind == "inventory":
        field_name = "on_hand" if "on_hand" in payload else "delta"
        payload[field_name] = [payload[field_name]]
    else:
        payload["session_id"] = [payload["session_id"]]


def _invalid_value(kind: str, payload: dict[str, Any]) -> None:
    if kind == "orders":
        payload["currency"] = "pounds"
    elif kind == "inventory":
        payload["kind"] = "recount"
    else:
        payload["action"] = "hover"


def _inject(
    messages: list[OutboundMessage],
    payload_of: list[dict[str, Any]],
    kind_of: list[TopicKind],
    late_ok: NDArray[np.bool_],
    keys: list[bytes],
    rng: np.random.Generator,
    ids: _Ids,
    per_reason: int,
    max_message_bytes: int,
) -> tuple[list[OutboundMessage], dict[str, int], dict[str, dict[str, int]]]:
    """Insert bad messages after randomly chosen valid ones; move some valid ones later (late)."""
    total = len(messages)
    if per_reason == 0 or total == 0:
        return list(messages), dict.fromkeys(INJECTED_REASONS, 0), {}
    times = np.fromiter((m.event_time_ms for m in messages), dtype=np.int64, count=total)
    kinds = np.array([TOPIC_KINDS.index(k) for k in kind_of], dtype=np.int8)
    injected = dict.fromkeys(INJECTED_REASONS, 0)
    by_topic: dict[str, dict[str, int]] = {}
    used = np.zeros(total, dtype=np.bool_)
    after: dict[int, list[OutboundMessage]] = {}
    removed: set[int] = set()

    def pick(mask: NDArray[np.bool_], count: int) -> list[int]:
        free = np.flatnonzero(mask & ~used)
        chosen = np.sort(rng.choice(free, size=min(count, free.shape[0]), replace=False))
        used[chosen] = True
        return [int(c) for c in chosen]

    everything = np.ones(total, dtype=np.bool_)
    orders = kinds == 0
    for reason in INJECTED_REASONS:
        if reason in ("invalid_quantity", "absurd_quantity"):
            mask = orders
        elif reason == "late":
            mask = late_ok & (times < times[-1] - 5 * DAY_MS)
        else:
            mask = everything
        for pos in pick(mask, per_reason):
            original = messages[pos]
            kind = original.topic_kind
            key = original.key
            if reason == "duplicate":
                bad = original
            elif reason == "late":
                late_by = int(rng.integers(2 * DAY_MS, 5 * DAY_MS))
                target = int(np.searchsorted(times, original.event_time_ms + late_by, side="right")) - 1
                if times[target] - original.event_time_ms < 2 * DAY_MS:  # cannot be that late: leave it
                    continue
                removed.add(pos)
                after.setdefault(target, []).append(original)
                injected[reason] += 1
                by_topic.setdefault(kind, {}).setdefault(reason, 0)
                by_topic[kind][reason] += 1
                continue
            else:
                payload = dict(payload_of[pos])
                payload["event_id"] = ids.take(kind, 1)[0]
                value: bytes
                if reason == "malformed_json":
                    whole = orjson.dumps(payload)
                    value = whole[: len(whole) // 2]
                elif reason == "missing_field":
                    names = _MISSING_FIELDS[kind]
                    del payload[names[int(rng.integers(0, len(names)))]]
                    value = orjson.dumps(payload)
                elif reason == "wrong_type":
                    _wrong_type(kind, payload)
                    value = orjson.dumps(payload)
                elif reason == "invalid_value":
                    _invalid_value(kind, payload)
                    value = orjson.dumps(payload)
                elif reason == "unknown_schema_version":
                    payload["schema_version"] = int(rng.integers(2, 10))
                    value = orjson.dumps(payload)
                elif reason == "invalid_quantity":
                    payload["quantity"] = -int(payload["quantity"]) if rng.random() < 0.5 else 0
                    value = orjson.dumps(payload)
                elif reason == "absurd_quantity":
                    payload["quantity"] = int(rng.integers(50_000, 1_000_000))
                    value = orjson.dumps(payload)
                elif reason == "future_timestamp":
                    future = original.event_time_ms + FAR_FUTURE_MS
                    payload["event_time"] = future if rng.random() < 0.5 else iso_ms(np.array([future]))[0]
                    value = orjson.dumps(payload)
                elif reason == "oversized":
                    body = orjson.dumps(payload)
                    value = body + b" " * (max_message_bytes + 1024 - len(body))  # whitespace: still valid JSON
                else:  # key_mismatch
                    other = keys[(keys.index(key) + 1 + int(rng.integers(0, len(keys) - 1))) % len(keys)]
                    key = other if other != key else b"not-this|key"
                    value = orjson.dumps(payload)
                bad = OutboundMessage(kind, key, value, original.event_time_ms)
            after.setdefault(pos, []).append(bad)
            injected[reason] += 1
            by_topic.setdefault(kind, {}).setdefault(reason, 0)
            by_topic[kind][reason] += 1

    out: list[OutboundMessage] = []
    for pos, message in enumerate(messages):
        if pos not in removed:
            out.append(message)
        extra = after.get(pos)
        if extra:
            out.extend(extra)
    return out, injected, by_topic


# ------------------------------------------------------------------------------------------------------------
# Public API
# ------------------------------------------------------------------------------------------------------------


def render_history(
    catalog: SyntheticCatalog,
    sim: InventorySimulation,
    seed: int,
    bad_fraction: float = 0.005,
    *,
    start_ms: int | None = None,
    clicks_per_line: float = 8.0,
    mean_line_units: float = 2.0,
    cancel_fraction: float = 0.02,
    return_fraction: float = 0.01,
    iso_fraction: float = 0.3,
    max_message_bytes: int = 64 * 1024,
) -> SampleHistory:
    """Render ``catalog`` + ``sim`` (its warehouse simulation) as time-ordered messages for the input topics.

    Args:
        catalog, sim: from :func:`~forecasting.synthetic.generate_catalog` and
            :func:`~forecasting.synthetic.simulate_warehouse` (same shapes).
        seed: seeds every draw here (line splits, times, channels, ids, bad input): same inputs, same bytes.
        bad_fraction: bad messages injected, as a fraction of the valid events (0 disables), split evenly over
            :data:`INJECTED_REASONS`.
        start_ms: epoch ms of day 0 (default: 00:00 UTC of ``catalog.start_day``). Keep the whole history in
            the past of the consumer's clock: events dated more than a day ahead are rejected as future.
        clicks_per_line: mean clicks per order line (clicks dominate the volume), >= 0.
        mean_line_units: mean units per order line, >= 1 (1: every line is 1 unit).
        cancel_fraction, return_fraction: share of order lines cancelled / returned, in [0, 1].
        iso_fraction: share of events whose ``event_time`` is an ISO-8601 string rather than epoch ms.
        max_message_bytes: the consumer's size limit; oversized messages are made 1 KiB larger.
    """
    if sim.sales.shape != catalog.demand.shape:
        raise SampleEventsError(f"sim shape {sim.sales.shape} does not match the catalog's {catalog.demand.shape}")
    for name, value in (
        ("bad_fraction", bad_fraction),
        ("cancel_fraction", cancel_fraction),
        ("return_fraction", return_fraction),
        ("iso_fraction", iso_fraction),
    ):
        if not 0.0 <= value <= 1.0:
            raise SampleEventsError(f"{name} must be in [0, 1], got {value}")
    if clicks_per_line < 0:
        raise SampleEventsError(f"clicks_per_line must be >= 0, got {clicks_per_line}")
    if mean_line_units < 1:
        raise SampleEventsError(f"mean_line_units must be >= 1, got {mean_line_units}")

    rng = np.random.default_rng(seed)
    tag = f"{int(rng.integers(0, 16**6)):06x}"
    origin = day_start_ms(catalog.start_day) if start_ms is None else int(start_ms)
    orders, sale_series, sale_day, sale_time = _order_table(
        catalog, sim, rng, origin, mean_line_units, cancel_fraction, return_fraction
    )
    inventory = _inventory_table(catalog, sim, rng, origin)
    clicks = _click_table(catalog, rng, origin, sale_series, sale_day, sale_time, clicks_per_line, mean_line_units)
    tables = (orders, inventory, clicks)

    # Order all events by (time, topic kind, row) and number their ids in that order.
    time_all = np.concatenate([t.time_ms for t in tables])
    kind_all = np.concatenate([np.full(len(t), k, np.int8) for k, t in enumerate(tables)])
    row_all = np.concatenate([np.arange(len(t)) for t in tables])
    order = np.lexsort((row_all, kind_all, time_all))
    ids = _Ids(tag)
    keys = [k.encode() for k in catalog.keys]
    kind_sorted = kind_all[order]
    row_sorted = row_all[order]
    sorted_tables: list[_Table] = []
    payloads_by_kind: list[list[dict[str, Any]]] = []
    for k, table in enumerate(tables):
        rows = row_sorted[kind_sorted == k]  # the table's rows in global time order
        sorted_table = _Table(
            kind=table.kind,
            series=table.series[rows],
            time_ms=table.time_ms[rows],
            columns={name: np.asarray(col)[rows] for name, col in table.columns.items()},
        )
        iso = rng.random(len(table)) < iso_fraction
        sorted_tables.append(sorted_table)
        payloads_by_kind.append(_payloads(sorted_table, catalog, ids, iso, tag))

    messages: list[OutboundMessage] = []
    payload_of: list[dict[str, Any]] = []
    kind_of: list[TopicKind] = []
    late_ok: list[bool] = []
    cursor = [0, 0, 0]
    series_lists = [t.series.tolist() for t in sorted_tables]
    time_lists = [t.time_ms.tolist() for t in sorted_tables]
    for k in kind_sorted.tolist():
        j = cursor[k]
        cursor[k] = j + 1
        payload = payloads_by_kind[k][j]
        kind = TOPIC_KINDS[k]
        messages.append(OutboundMessage(kind, keys[series_lists[k][j]], orjson.dumps(payload), time_lists[k][j]))
        payload_of.append(payload)
        kind_of.append(kind)
        late_ok.append(not (kind == "inventory" and payload["kind"] == "snapshot"))
    valid_counts: dict[str, int] = {t.kind: len(t) for t in tables}

    per_reason = 0
    if bad_fraction > 0 and messages:
        per_reason = max(1, round(bad_fraction * len(messages) / len(INJECTED_REASONS)))
    out, injected, by_topic = _inject(
        messages,
        payload_of,
        kind_of,
        np.array(late_ok, dtype=np.bool_),
        keys,
        rng,
        ids,
        per_reason,
        max_message_bytes,
    )
    return SampleHistory(
        messages=out,
        injected=injected,
        injected_by_topic=by_topic,
        valid_counts=valid_counts,
        start_ms=origin,
        end_ms=origin + catalog.days * DAY_MS,
    )


def demo_history(
    seed: int = 7,
    *,
    start_day: date | None = None,
    n_skus: int = DEMO_SKUS,
    n_locations: int = DEMO_LOCATIONS,
    days: int = DEMO_DAYS,
    bad_fraction: float = 0.005,
    clicks_per_line: float = 8.0,
) -> SampleHistory:
    """The demo's history: catalogue, naive warehouse and messages from one seed (~200k messages).

    ``start_day`` defaults to ``days + 1`` days before today (UTC), so the history ends yesterday and no
    valid event is in the future of a consumer's clock; pass it for reproducible bytes.
    """
    first = start_day if start_day is not None else datetime.now(UTC).date() - timedelta(days=days + 1)
    catalog = generate_catalog(n_skus, n_locations, days, seed, first, mean_daily_units=DEMO_MEAN_DAILY_UNITS)
    sim = simulate_warehouse(catalog, seed + 1)
    return render_history(catalog, sim, seed + 2, bad_fraction, clicks_per_line=clicks_per_line)


def ingest_mix(
    n_events: int,
    n_keys: int,
    seed: int,
    zipf_s: float = 1.1,
    *,
    start_ms: int = 1_735_689_600_000,
    span_days: float = 3.0,
) -> list[OutboundMessage]:
    """Valid orders, inventory events and clicks mixed 1:1:8 over ``n_keys`` Zipf-popular keys.

    Key ``k`` (``SKU-kkkkkk|LOC``, ranks from 1) is drawn with probability proportional to ``k ** -zipf_s``;
    every key appears at least once when ``n_events >= n_keys``. The kinds are exactly 1:1:8 when
    ``n_events`` is a multiple of 10 (a shuffled repeat of the pattern otherwise). Event times increase
    over ``span_days`` from ``start_ms`` (default 2025-01-01T00:00Z), so daily buckets roll. Inventory events
    are shipments (80 %), receipts (10 %) and snapshots (10 %).
    """
    if n_events < 0 or n_keys < 1:
        raise SampleEventsError(f"n_events must be >= 0 and n_keys >= 1, got {n_events}, {n_keys}")
    if zipf_s <= 0 or span_days <= 0:
        raise SampleEventsError(f"zipf_s and span_days must be > 0, got {zipf_s}, {span_days}")
    rng = np.random.default_rng(seed)
    tag = f"{int(rng.integers(0, 16**6)):06x}"
    pattern = np.array([0, 1] + [2] * 8, dtype=np.int8)
    kinds = rng.permutation(np.resize(pattern, n_events))
    weights = np.arange(1, n_keys + 1, dtype=np.float64) ** -zipf_s
    key_idx = rng.choice(n_keys, size=n_events, p=weights / weights.sum())
    covered = min(n_keys, n_events)
    key_idx[rng.choice(n_events, size=covered, replace=False)] = rng.permutation(n_keys)[:covered]
    times = start_ms + np.floor(np.arange(n_events) * (span_days * DAY_MS / max(n_events, 1))).astype(np.int64)
    quantity = rng.integers(1, 4, size=n_events)
    price = np.round(rng.uniform(0.5, 50.0, size=n_events), 2)
    inv_kind = rng.choice(np.array([3, 1, 0], dtype=np.int8), size=n_events, p=[0.8, 0.1, 0.1])
    on_hand = rng.integers(0, 500, size=n_events)
    action = rng.choice(4, size=n_events, p=[0.7, 0.12, 0.05, 0.13])
    locations = ("LON", "MAN", "BHM", "GLA", "DUB", "AMS", "PAR", "FRA")
    key_text = [f"SKU-{k // len(locations) + 1:06d}|{locations[k % len(locations)]}" for k in range(n_keys)]
    key_bytes = [k.encode() for k in key_text]
    key_parts = [k.split("|") for k in key_text]
    counters = [0, 0, 0]
    out: list[OutboundMessage] = []
    for j, (kind, key, t) in enumerate(zip(kinds.tolist(), key_idx.tolist(), times.tolist(), strict=True)):
        sku, location = key_parts[key]
        n = counters[kind]
        counters[kind] = n + 1
        payload: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "event_id": f"{_ID_PREFIX[TOPIC_KINDS[kind]]}-{tag}-{n:08d}",
            "event_time": t,
            "sku": sku,
            "location": location,
        }
        if kind == 0:
            payload |= {
                "line_type": "sale",
                "order_id": f"SO-{tag}-{n:08d}",
                "original_order_id": None,
                "quantity": int(quantity[j]),
                "unit_price": float(price[j]),
                "currency": "EUR" if location in EUR_LOCATIONS else "GBP",
                "channel": "web",
            }
        elif kind == 1:
            ik = int(inv_kind[j])
            payload["kind"] = _INVENTORY_KINDS[ik]
            if ik == 0:
                payload["on_hand"] = int(on_hand[j])
            else:
                payload["delta"] = int(quantity[j]) * (12 if ik == 1 else 1)
        else:
            payload["session_id"] = f"s-{tag}-{j // 4:08d}"
            payload["action"] = _CLICK_ACTIONS[int(action[j])]
        out.append(OutboundMessage(TOPIC_KINDS[kind], key_bytes[key], orjson.dumps(payload), t))
    return out


def count_by_kind(messages: Iterable[OutboundMessage]) -> dict[str, int]:
    """Number of messages per topic kind."""
    counts: dict[str, int] = dict.fromkeys(TOPIC_KINDS, 0)
    for message in messages:
        counts[message.topic_kind] += 1
    return counts
