"""Replay a file of order lines (parquet or CSV) as OrderEvent messages in event-time order.

:func:`replay_order_lines` reads the file with pandas, maps its columns with an :class:`OrderLineColumns`
and returns an :class:`OrderLineReplay`: a :class:`OrderLineSummary` of counts by category (known before the
first message) and an iterator of :class:`~streams.sample_events.OutboundMessage` (topic kind ``orders``,
key ``sku|location``, value an OrderEvent per CONTRACTS.md, ``event_time`` in epoch ms). The work is
vectorised; the iterator only serialises rows. :func:`order_events_from_frame` does the same for a
DataFrame already in memory.

Each row falls in exactly one category, checked in this order, so
``summary.emitted + summary.skipped == summary.rows_read``:

``skipped_missing``
    a required value (order id, SKU, quantity, time, price, and the location / currency when they come from
    columns) is missing or does not parse (quantity not a whole number, unparseable time). Skipped; the
    0-based row positions are kept in ``summary.missing_rows`` (the first :data:`MAX_LISTED_ROWS`).
``skipped_excluded_sku``
    the SKU is in ``exclude_skus`` (non-merchandise codes: postage, fees, manual adjustments). Skipped.
``skipped_zero_quantity``
    quantity 0: neither a sale nor a return. Skipped.
``skipped_negative_price``
    unit price < 0 (bad-debt adjustments): not demand. Skipped.
``cancellations`` (emitted)
    the order id starts with ``cancel_prefix``: ``line_type`` ``cancellation`` with the *absolute* quantity
    and ``original_order_id`` null (the source does not say which order it cancels).
``skipped_write_offs``
    any other negative quantity: stock written off (damaged, lost), an inventory adjustment and not demand.
    Skipped.
``sales`` (emitted)
    everything else: ``line_type`` ``sale``. Of the emitted lines, ``zero_price`` counts those with unit
    price 0 (kept: units left the shelf, with zero revenue) and ``absurd_quantity`` those above
    ``max_quantity`` (passed on: the worker's validation sends them to the DLQ as ``absurd_quantity``).

``duplicate_rows`` counts emitted rows that are exact copies of an earlier row (every column of the file
equal). They are emitted, not skipped: the event id is a hash of the row's whole content
(``{order_id}-{64-bit hash}``), so a repeat carries the same event id and the worker's duplicate check
drops it.

Times: naive timestamps are local time in ``timezone`` (ambiguous autumn hours read as standard time,
missing spring hours shifted forward) and converted to UTC; timestamps with an offset are converted to
UTC. Rows are emitted in event-time order (stable: ties keep file order).

Online Retail (``../shared/data/online_retail/orders.parquet``, UCI dataset 352) replays with
:data:`ONLINE_RETAIL` (``--preset online-retail``)::

    OrderLineColumns(
        order_id="InvoiceNo", sku="StockCode", quantity="Quantity", time="InvoiceDate", price="UnitPrice",
        location="UK", currency="GBP", channel="online", timezone="Europe/London", cancel_prefix="C",
        exclude_skus=ONLINE_RETAIL_NON_MERCHANDISE,
    )

The shop is one UK online retailer shipping from one stock, so every line is keyed to the constant
location ``UK``; the ``Country`` column is the *customer's* country, not a stock location (pass
``location_column="Country"`` for per-country series). The non-merchandise codes
(:data:`ONLINE_RETAIL_NON_MERCHANDISE`) are POST, DOT, C2 (carriage), M / m (manual), D (discount), S
(samples), B (bad-debt adjustment), BANK CHARGES, AMAZONFEE, CRUK (commission), PADS and the gift vouchers
gift_0001_10 .. gift_0001_50. On that file the cancellations are the ``C`` invoices (all with negative
quantities), the other negative quantities are zero-price write-offs, and the two negative prices are the
``A`` bad-debt invoices of code B (excluded as non-merchandise).

:func:`daily_demand_from_order_lines` turns order lines into daily demand per series (sales only).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import orjson
import pandas as pd

from streams.sample_events import SCHEMA_VERSION, OutboundMessage

MAX_LISTED_ROWS: Final = 1000
"""At most this many row positions are listed per skip reason in the summary."""

ONLINE_RETAIL_NON_MERCHANDISE: Final[frozenset[str]] = frozenset(
    {
        "POST",
        "DOT",
        "C2",
        "M",
        "m",
        "D",
        "S",
        "B",
        "BANK CHARGES",
        "AMAZONFEE",
        "CRUK",
        "PADS",
        "gift_0001_10",
        "gift_0001_20",
        "gift_0001_30",
        "gift_0001_40",
        "gift_0001_50",
    }
)


class OrderLinesError(ValueError):
    """The order-line file or its column mapping is unusable (the message names the column or option)."""


@dataclass(frozen=True)
class OrderLineColumns:
    """How a file's columns map to OrderEvent fields, and the constants for fields the file lacks.

    ``order_id``, ``sku``, ``quantity``, ``time`` and ``price`` name columns. The location comes from
    ``location_column`` when set, else the constant ``location``; the currency likewise from
    ``currency_column`` or ``currency``. ``time_format`` (a ``strftime`` pattern) helps parse text times;
    ``None`` lets pandas infer it.
    """

    order_id: str
    sku: str
    quantity: str
    time: str
    price: str
    location: str = "main"
    location_column: str | None = None
    currency: str = "GBP"
    currency_column: str | None = None
    channel: str = "online"
    timezone: str = "UTC"
    time_format: str | None = None
    cancel_prefix: str | None = None
    exclude_skus: frozenset[str] = field(default_factory=frozenset)
    max_quantity: int = 10_000
    """Emitted lines above this are counted as ``absurd_quantity`` (the worker's ``max_quantity``)."""

    def __post_init__(self) -> None:
        if not self.location or "|" in self.location or len(self.location) > 64:
            raise OrderLinesError(f"location must be 1..64 characters without '|', got {self.location!r}")
        if len(self.currency) != 3 or not self.currency.isupper():
            raise OrderLinesError(f"currency must be 3 upper-case letters, got {self.currency!r}")
        if not 1 <= len(self.channel) <= 32:
            raise OrderLinesError(f"channel must be 1..32 characters, got {self.channel!r}")
        if self.cancel_prefix == "":
            raise OrderLinesError("cancel_prefix must be None or a non-empty prefix")

    @property
    def mapped(self) -> dict[str, str]:
        """Field -> column name of every mapped column."""
        out = {
            "order_id": self.order_id,
            "sku": self.sku,
            "quantity": self.quantity,
            "time": self.time,
            "price": self.price,
        }
        if self.location_column is not None:
            out["location"] = self.location_column
        if self.currency_column is not None:
            out["currency"] = self.currency_column
        return out


ONLINE_RETAIL: Final = OrderLineColumns(
    order_id="InvoiceNo",
    sku="StockCode",
    quantity="Quantity",
    time="InvoiceDate",
    price="UnitPrice",
    location="UK",
    currency="GBP",
    channel="online",
    timezone="Europe/London",
    cancel_prefix="C",
    exclude_skus=ONLINE_RETAIL_NON_MERCHANDISE,
)
"""Replays ``../shared/data/online_retail/orders.parquet`` (UCI Online Retail)."""

PRESETS: Final[dict[str, OrderLineColumns]] = {"online-retail": ONLINE_RETAIL}


@dataclass(frozen=True)
class OrderLineSummary:
    """Counts by category (see the module docstring); ``emitted + skipped == rows_read``."""

    rows_read: int
    sales: int
    cancellations: int
    skipped_missing: int
    skipped_excluded_sku: int
    skipped_zero_quantity: int
    skipped_negative_price: int
    skipped_write_offs: int
    zero_price: int
    """Emitted lines with unit price 0."""
    absurd_quantity: int
    """Emitted lines with quantity above ``max_quantity`` (the DLQ will take them)."""
    duplicate_rows: int
    """Emitted rows identical to an earlier row (same event id: the worker drops them as duplicates)."""
    missing_rows: tuple[int, ...]
    """0-based positions of the rows skipped for a missing value (the first :data:`MAX_LISTED_ROWS`)."""
    first_time_ms: int | None
    last_time_ms: int | None

    @property
    def emitted(self) -> int:
        return self.sales + self.cancellations

    @property
    def skipped(self) -> int:
        return (
            self.skipped_missing
            + self.skipped_excluded_sku
            + self.skipped_zero_quantity
            + self.skipped_negative_price
            + self.skipped_write_offs
        )

    def as_dict(self) -> dict[str, int]:
        """The counts (no row list), e.g. for logs or a CLI report."""
        return {
            "rows_read": self.rows_read,
            "emitted": self.emitted,
            "sales": self.sales,
            "cancellations": self.cancellations,
            "skipped_missing": self.skipped_missing,
            "skipped_excluded_sku": self.skipped_excluded_sku,
            "skipped_zero_quantity": self.skipped_zero_quantity,
            "skipped_negative_price": self.skipped_negative_price,
            "skipped_write_offs": self.skipped_write_offs,
            "zero_price": self.zero_price,
            "absurd_quantity": self.absurd_quantity,
            "duplicate_rows": self.duplicate_rows,
        }


@dataclass(frozen=True)
class OrderLineReplay:
    """The summary (complete before iteration) and the messages, in event-time order, as an iterator."""

    summary: OrderLineSummary
    messages: Iterator[OutboundMessage]


@dataclass(frozen=True)
class _Lines:
    """Parsed, classified order lines (positional arrays over the frame's rows)."""

    order_id: pd.Series
    sku: pd.Series
    location: pd.Series
    currency: pd.Series
    quantity: np.ndarray
    price: np.ndarray
    time_ms: np.ndarray
    missing: np.ndarray
    excluded: np.ndarray
    zero_quantity: np.ndarray
    negative_price: np.ndarray
    cancellation: np.ndarray
    write_off: np.ndarray
    sale: np.ndarray


def read_order_lines(path: str | Path, *, nrows: int | None = None) -> pd.DataFrame:
    """Read a parquet (``.parquet``/``.pq``) or CSV file; CSV columns are read as text (empty = missing)."""
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"order-line file {file} does not exist")
    if file.suffix.lower() in (".parquet", ".pq"):
        frame = pd.read_parquet(file)
        return frame.iloc[:nrows].reset_index(drop=True) if nrows is not None else frame
    return pd.read_csv(file, dtype=str, keep_default_na=False, na_values=[""], nrows=nrows)


def _check_columns(frame: pd.DataFrame, columns: OrderLineColumns) -> None:
    for field_name, column in columns.mapped.items():
        if column not in frame.columns:
            raise OrderLinesError(
                f"column {column!r} (mapped to {field_name}) is not in the file; its columns are {list(frame.columns)}"
            )


def _text(series: pd.Series) -> pd.Series:
    """Values as stripped strings, missing as NA (categoricals, numbers and text alike)."""
    missing = series.isna().to_numpy()
    text = series.astype(object).where(~missing, None)
    out = pd.Series([None if v is None else str(v).strip() for v in text.tolist()], dtype=object)
    return out.where(out.str.len() > 0, None)


_OFFSET_SUFFIX: Final = r"(?:[Zz]|[+-]\d{2}(?::?\d{2})?)\s*$"


def _utc_ms(parsed: pd.Series, timezone: str) -> np.ndarray:
    """Epoch ms of parsed datetimes (naive ones are local time in ``timezone``), -1 where NaT."""
    if getattr(parsed.dt, "tz", None) is None:
        parsed = parsed.dt.tz_localize(
            timezone, ambiguous=np.zeros(len(parsed), dtype=bool), nonexistent="shift_forward"
        )
    utc = parsed.dt.tz_convert("UTC")
    missing = utc.isna().to_numpy()
    ms = utc.dt.tz_localize(None).to_numpy(dtype="datetime64[ms]").astype(np.int64)
    return np.where(missing, -1, ms)


def _times_ms(series: pd.Series, columns: OrderLineColumns) -> np.ndarray:
    """Epoch ms (int64) with -1 where missing or unparseable.

    Datetime columns: naive values are local time in ``columns.timezone``, aware ones are converted. Text
    columns: values ending in ``Z`` or an offset are read with it, the others as local time.
    """
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return _utc_ms(pd.Series(series).reset_index(drop=True), columns.timezone)
    text = _text(series)
    has_offset = text.str.contains(_OFFSET_SUFFIX, regex=True, na=False).to_numpy(dtype=bool)
    out = np.full(len(text), -1, dtype=np.int64)
    naive = pd.Series(text[~has_offset].to_numpy(), dtype=object)
    if len(naive):
        parsed = pd.to_datetime(naive, errors="coerce", format=columns.time_format)
        out[~has_offset] = _utc_ms(parsed, columns.timezone)
    aware = pd.Series(text[has_offset].to_numpy(), dtype=object)
    if len(aware):
        parsed = pd.to_datetime(aware, errors="coerce", format=columns.time_format, utc=True)
        out[has_offset] = _utc_ms(parsed, columns.timezone)
    return out


def _row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash of each row's whole content (stable across runs: fixed key)."""
    return pd.util.hash_pandas_object(frame, index=False).to_numpy(dtype=np.uint64)


def _classify(frame: pd.DataFrame, columns: OrderLineColumns) -> _Lines:
    _check_columns(frame, columns)
    n = len(frame)
    order_id = _text(frame[columns.order_id])
    sku = _text(frame[columns.sku])
    location = (
        _text(frame[columns.location_column])
        if columns.location_column is not None
        else pd.Series([columns.location] * n, dtype=object)
    )
    currency = (
        _text(frame[columns.currency_column])
        if columns.currency_column is not None
        else pd.Series([columns.currency] * n, dtype=object)
    )
    quantity_f = pd.to_numeric(frame[columns.quantity], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    price = pd.to_numeric(frame[columns.price], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    time_ms = _times_ms(frame[columns.time], columns)

    missing = (
        order_id.isna().to_numpy()
        | sku.isna().to_numpy()
        | location.isna().to_numpy()
        | currency.isna().to_numpy()
        | ~np.isfinite(quantity_f)
        | (np.isfinite(quantity_f) & (quantity_f != np.round(quantity_f)))
        | ~np.isfinite(price)
        | (time_ms < 0)
    )
    quantity = np.where(np.isfinite(quantity_f), quantity_f, 0).astype(np.int64)
    rest = ~missing
    excluded = rest & sku.isin(list(columns.exclude_skus)).to_numpy() if columns.exclude_skus else np.zeros(n, bool)
    rest &= ~excluded
    zero_quantity = rest & (quantity == 0)
    rest &= ~zero_quantity
    negative_price = rest & (price < 0)
    rest &= ~negative_price
    if columns.cancel_prefix is not None:
        prefix = columns.cancel_prefix
        is_cancel = order_id.map(lambda v: v is not None and v.startswith(prefix)).to_numpy(dtype=bool)
    else:
        is_cancel = np.zeros(n, dtype=bool)
    cancellation = rest & is_cancel
    rest &= ~cancellation
    write_off = rest & (quantity < 0)
    sale = rest & ~write_off
    return _Lines(
        order_id=order_id,
        sku=sku,
        location=location,
        currency=currency,
        quantity=quantity,
        price=price,
        time_ms=time_ms,
        missing=missing,
        excluded=excluded,
        zero_quantity=zero_quantity,
        negative_price=negative_price,
        cancellation=cancellation,
        write_off=write_off,
        sale=sale,
    )


def _event_id(order_id: str, row_hash: int) -> str:
    head = order_id[:100]
    return f"{head}-{row_hash:016x}"


def order_events_from_frame(frame: pd.DataFrame, columns: OrderLineColumns) -> OrderLineReplay:
    """Classify ``frame``'s rows and return the summary and the OrderEvent messages (event-time order)."""
    lines = _classify(frame, columns)
    emitted = lines.sale | lines.cancellation
    positions = np.flatnonzero(emitted)
    positions = positions[np.argsort(lines.time_ms[positions], kind="stable")]
    hashes = _row_hashes(frame)
    duplicate = pd.Series(hashes).duplicated().to_numpy() & emitted
    quantity = np.abs(lines.quantity)
    listed = np.flatnonzero(lines.missing)[:MAX_LISTED_ROWS]
    times = lines.time_ms[positions]
    summary = OrderLineSummary(
        rows_read=len(frame),
        sales=int(lines.sale.sum()),
        cancellations=int(lines.cancellation.sum()),
        skipped_missing=int(lines.missing.sum()),
        skipped_excluded_sku=int(lines.excluded.sum()),
        skipped_zero_quantity=int(lines.zero_quantity.sum()),
        skipped_negative_price=int(lines.negative_price.sum()),
        skipped_write_offs=int(lines.write_off.sum()),
        zero_price=int((emitted & (lines.price == 0)).sum()),
        absurd_quantity=int((emitted & (quantity > columns.max_quantity)).sum()),
        duplicate_rows=int(duplicate.sum()),
        missing_rows=tuple(int(p) for p in listed),
        first_time_ms=int(times.min()) if times.size else None,
        last_time_ms=int(times.max()) if times.size else None,
    )
    return OrderLineReplay(summary=summary, messages=_messages(lines, positions, hashes, quantity, columns))


def _messages(
    lines: _Lines, positions: np.ndarray, hashes: np.ndarray, quantity: np.ndarray, columns: OrderLineColumns
) -> Iterator[OutboundMessage]:
    rows = zip(
        lines.order_id.to_numpy()[positions].tolist(),
        lines.sku.to_numpy()[positions].tolist(),
        lines.location.to_numpy()[positions].tolist(),
        lines.currency.to_numpy()[positions].tolist(),
        lines.time_ms[positions].tolist(),
        lines.cancellation[positions].tolist(),
        quantity[positions].tolist(),
        lines.price[positions].tolist(),
        hashes[positions].tolist(),
        strict=True,
    )
    channel = columns.channel
    for order_id, sku, location, currency, time_ms, cancel, units, price, row_hash in rows:
        payload: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "event_id": _event_id(order_id, row_hash),
            "event_time": time_ms,
            "sku": sku,
            "location": location,
            "line_type": "cancellation" if cancel else "sale",
            "order_id": order_id,
            "original_order_id": None,
            "quantity": units,
            "unit_price": price,
            "currency": currency,
            "channel": channel,
        }
        yield OutboundMessage("orders", f"{sku}|{location}".encode(), orjson.dumps(payload), time_ms)


def replay_order_lines(
    path: str | Path, columns: OrderLineColumns = ONLINE_RETAIL, *, nrows: int | None = None
) -> OrderLineReplay:
    """Read ``path`` (its first ``nrows`` rows when given) and return the summary and the message iterator."""
    return order_events_from_frame(read_order_lines(path, nrows=nrows), columns)


def daily_demand_from_order_lines(
    frame: pd.DataFrame,
    columns: OrderLineColumns,
    *,
    drop_duplicates: bool = True,
    drop_absurd: bool = True,
) -> pd.DataFrame:
    """Daily demand per series from the sale lines (cancellations, write-offs and skipped rows left out): the
    long table ``restock train`` / ``forecast`` / ``backtest`` read (``restock orders-table`` writes it).

    Returns columns ``id`` (``sku|location``, the engine's series key), ``date`` (the UTC calendar date of
    the event time, a ``datetime.date``; for UK trading hours it equals the local date), ``quantity``
    (int64 units) and ``price`` (the day's unit price, weighted by quantity over the day's sale lines: the
    revenue the forecast metrics weigh by), sorted by id then date; days without sales are absent (zero).

    By default the demand is what the streaming engine counts from the replay: exact duplicate rows count
    once (the worker drops the repeat) and lines above ``columns.max_quantity`` are left out (the worker
    sends them to the DLQ). ``drop_duplicates=False, drop_absurd=False`` gives the plain recipe "sum the
    quantity of the non-cancelled merchandise lines per SKU and day".
    """
    lines = _classify(frame, columns)
    sale = lines.sale.copy()
    if drop_duplicates:
        sale &= ~pd.Series(_row_hashes(frame)).duplicated().to_numpy()
    if drop_absurd:
        sale &= lines.quantity <= columns.max_quantity
    ids = lines.sku[sale].astype(str).str.cat(lines.location[sale].astype(str), sep="|")
    days = pd.to_datetime(lines.time_ms[sale], unit="ms").date
    quantity = lines.quantity[sale].astype(np.int64)
    table = pd.DataFrame(
        {"id": ids.to_numpy(dtype=object), "date": days, "quantity": quantity, "revenue": quantity * lines.price[sale]}
    )
    out = table.groupby(["id", "date"], sort=True)[["quantity", "revenue"]].sum().reset_index()
    out["quantity"] = out["quantity"].astype(np.int64)
    out["price"] = (out.pop("revenue") / out["quantity"]).astype(np.float64)
    return out
