"""Exports the worker's state as a long table (parquet) that ``restock forecast/train/backtest --data`` reads.

Source: the state changelog topic (``<app_id>.state-changelog``), read from the beginning with
confluent-kafka and compacted here (the last value of each key in a complete flush group wins, a delete
removes it). Why the changelog and not a RocksDB state folder: the changelog is the table's source of truth
(a worker restores from it whatever its local state lacks), it holds every partition where a worker's folder
holds only the ones it owned, it can be read while workers run (RocksDB is locked by its worker) or with none
running. Decoding goes through ``streams.state_view.parse_table`` and ``streams.state_codec``.

Before decoding, the table is brought to what the worker's next decision would see:

- history blocks a decision wrote before the worker died, while the shard record that still lists the same
  days as open did not get written (``written_window`` above the shard's ``decided_window``): those open
  days are dropped, as the worker drops them when it re-runs the decision, so no day counts twice;
- inventory events still waiting in state are folded (``streams.inventory.fold_before``, the worker's own
  order), so stock-outs of the days no decision has covered yet are in the export.

Buckets are ``bucket_seconds`` wide and numbered from the epoch (``event_time_ms // bucket_ms``), and
``bucket_seconds`` divides a day, so ``bucket // buckets_per_day`` is the UTC day: buckets shorter than a day
are summed into it. ``bucket_seconds`` must be the worker's (pass its ``--config``); a history block of another
width is refused.

Format (one row per key and UTC day with net sales, clicks, a price or a stock-out, plus the key's first day):

- ``id``: the worker's key ``sku|location``; ``location``: the part after ``|``;
- ``date``: ``YYYY-MM-DD`` (UTC); ``quantity``: units sold net of cancellations, floored at 0 (int);
- ``price``: the day's revenue / quantity (the average unit price of its net sales), null when quantity is 0;
- ``clicks_view``, ``clicks_add_to_cart``, ``clicks_remove_from_cart``, ``clicks_purchase`` (int);
- ``observed``: false on a stock-out day (an inventory event left on hand <= 0, or on hand carried over from an
  earlier day is <= 0), whose sales are censored; true otherwise.

A key's first day (its first accepted event of any topic, or the oldest day still in state when older
history was deleted) always has a row, so a reader starts observing the series where the worker does; days
without a row are days without sales. The worker's decisions see the same demand and observed days.
The parquet file metadata key ``restock.export`` holds a JSON object: ``format_version`` (1), ``source``,
``exported_at`` (UTC), ``keys``, ``rows``, ``first_date``, ``last_date``, ``closed_through`` (the last day every
partition has closed; later days may still get events; null before the first decision) and ``bucket_seconds``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from streams.errors import StreamsError
from streams.inventory import fold_before
from streams.settings import DAY_SECONDS, Settings
from streams.shard_state import ShardState
from streams.state import GroupAssembler
from streams.state_codec import (
    CLICK_CHANNELS,
    HISTORY_BLOCK_DAYS,
    I32_MAX,
    I64_MAX,
    NO_WINDOW,
    Channel,
    HistoryBlock,
    PartitionMeta,
    ShardRecord,
)
from streams.state_view import SeriesState, parse_table
from streams.topic_reader import iter_topic

FORMAT_VERSION = 1
METADATA_KEY = b"restock.export"
CLICK_COLUMNS = ("clicks_view", "clicks_add_to_cart", "clicks_remove_from_cart", "clicks_purchase")
COLUMNS = ("id", "date", "quantity", "price", "location", *CLICK_COLUMNS, "observed")
_EPOCH = date(1970, 1, 1)


class ExportError(StreamsError, ValueError):
    """The state cannot be exported (an empty table, usually a wrong app id or bootstrap server)."""


def read_changelog(bootstrap_servers: str, topic: str, quiet_s: float = 2.0) -> dict[bytes, bytes]:
    """The table as the changelog holds it: the last value of each key, deleted keys left out.

    Flush groups count only once complete (``streams.state.changelog_codec``), as in a worker's restore. The
    end is where nothing new arrived for ``quiet_s`` (the embedded broker's high watermarks are wrong).
    """
    table: dict[bytes, bytes | None] = {}
    assemblers: dict[int, GroupAssembler] = {}
    for partition, offset, key, value in iter_topic(bootstrap_servers, topic, quiet_s=quiet_s, timeout_s=math.inf):
        if key is None:
            continue
        group = assemblers.setdefault(partition, GroupAssembler()).feed(offset, key, value or b"")
        if group is not None:
            table.update(group.writes)
    return {key: value for key, value in table.items() if value}


def settled_table(table: Mapping[bytes, bytes], settings: Settings) -> dict[bytes, bytes]:
    """``table`` as the worker's next decision would read it (see the module docstring): stale open days
    dropped, waiting inventory events folded. Only shard records change."""
    per_day = DAY_SECONDS // settings.bucket_seconds
    block_buckets = HISTORY_BLOCK_DAYS * per_day
    written: dict[tuple[int, int], list[tuple[int, int]]] = {}  # (partition, shard) -> [(block, written window)]
    for key, value in table.items():
        kind, *parts = key.split(b"|")
        if kind == b"h":
            partition, index, block = (int(p) for p in parts)
            written.setdefault((partition, index), []).append(
                (block, HistoryBlock.decode(value, block_buckets).written_window)
            )
    out = dict(table)
    for key, value in table.items():
        kind, *parts = key.split(b"|")
        if kind != b"s":
            continue
        record = ShardRecord.decode(value)
        buckets = record.open_rows["bucket"]
        stale = np.zeros(len(buckets), bool)
        for block, window in written.get((int(parts[0]), int(parts[1])), []):
            if window > record.decided_window:
                stale |= (buckets // block_buckets == block) & (buckets < window * per_day)
        shard = ShardState(int(parts[1]), replace(record, open_rows=record.open_rows[~stale]))
        fold_before(shard, I32_MAX, settings.bucket_seconds * 1000)
        out[key] = shard.record(keep_after_ms=0).encode()
    return out


def closed_through(table: Mapping[bytes, bytes]) -> date | None:
    """The last day every partition in ``table`` has closed (decided past), None before the first decision."""
    windows = [PartitionMeta.decode(v).last_window for k, v in table.items() if k.startswith(b"m|")]
    if not windows or NO_WINDOW in windows:
        return None
    return _EPOCH + timedelta(days=min(windows) - 1)


def long_table(series: Mapping[str, SeriesState], bucket_seconds: int) -> pd.DataFrame:
    """The export's rows (columns ``COLUMNS``, sorted by id and date) from ``parse_table``'s keys."""
    per_day = DAY_SECONDS // bucket_seconds
    # a key whose events were all refused (late, duplicate) has a row but no first bucket: not a series
    ids = sorted(name for name, state in series.items() if int(state.row["first_bucket"]) != I64_MAX)
    n = len(ids)
    key_ix, bucket_parts, value_parts = [], [], []
    first_day = np.empty(n, np.int64)
    for i, name in enumerate(ids):
        state = series[name]
        stored = np.fromiter(state.buckets, np.int64, len(state.buckets))
        oldest = int(stored.min()) if len(stored) else 0  # older history may have been deleted
        first_day[i] = max(int(state.row["first_bucket"]), oldest) // per_day
        if len(stored):
            key_ix.append(np.full(len(stored), i, np.int64))
            bucket_parts.append(stored)
            value_parts.append(np.stack(list(state.buckets.values())))
    if not n:
        return pd.DataFrame({c: [] for c in COLUMNS})
    k = np.concatenate(key_ix) if key_ix else np.zeros(0, np.int64)
    buckets = np.concatenate(bucket_parts) if bucket_parts else np.zeros(0, np.int64)
    values = np.concatenate(value_parts) if value_parts else np.zeros((0, len(Channel)))
    order = np.lexsort((buckets, k))  # by key, then time: within a (key, day) group the last entry is the latest
    k, buckets, values = k[order], buckets[order], values[order]
    day = buckets // per_day
    start = int(min(day.min(initial=I64_MAX), first_day.min()))
    d = day - start
    n_days = int(max(d.max(initial=0), (first_day - start).max())) + 1

    def daily(channel: int) -> npt.NDArray[np.float64]:
        out = np.zeros((n, n_days))
        np.add.at(out, (k, d), values[:, channel])
        return out

    quantity = np.maximum(daily(Channel.DEMAND), 0.0)
    revenue = daily(Channel.REVENUE)
    clicks = np.stack([daily(c) for c in CLICK_CHANNELS], axis=2)
    flagged = np.zeros((n, n_days), bool)
    np.logical_or.at(flagged, (k, d), values[:, Channel.STOCKOUT] > 0)
    on_hand = _on_hand_carried(k, d, values[:, Channel.ON_HAND_END], (n, n_days))
    stockout = flagged | (on_hand <= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        price = np.where((quantity > 0) & (revenue >= 0), np.round(revenue / 100.0 / quantity, 6), np.nan)

    days = np.arange(n_days)[None, :]
    first = (first_day - start)[:, None]
    keep = (days >= first) & ((quantity > 0) | clicks.any(axis=2) | stockout | (days == first))
    row, col = np.nonzero(keep)  # row-major: by key, then day
    id_array = np.asarray(ids, dtype=object)
    dates = np.datetime_as_string((col + start).astype("datetime64[D]"), unit="D")
    frame = pd.DataFrame(
        {
            "id": id_array[row],
            "date": dates.astype(object),
            "quantity": quantity[row, col].astype(np.int64),
            "price": price[row, col],
            "location": np.asarray([name.partition("|")[2] for name in ids], dtype=object)[row],
            **{name: clicks[row, col, j].astype(np.int64) for j, name in enumerate(CLICK_COLUMNS)},
            "observed": ~stockout[row, col],
        }
    )
    return frame


def _on_hand_carried(
    k: npt.NDArray[np.int64], d: npt.NDArray[np.int64], on_hand_end: npt.NDArray[np.float64], shape: tuple[int, int]
) -> npt.NDArray[np.float64]:
    """``[n, days]`` on hand at each day's end, carried over days without inventory events (NaN before the
    first); entries are sorted by key and time. The same rule as ``streams.decision.demand_history``."""
    known = np.flatnonzero(~np.isnan(on_hand_end))
    flat = k[known] * shape[1] + d[known]
    last = known[np.r_[flat[1:] != flat[:-1], True]] if len(known) else known  # the day's latest known value
    day_end = np.full(shape, np.nan)
    day_end[k[last], d[last]] = on_hand_end[last]
    index = np.where(np.isnan(day_end), 0, np.arange(shape[1])[None, :])
    np.maximum.accumulate(index, axis=1, out=index)
    carried: npt.NDArray[np.float64] = np.take_along_axis(day_end, index, axis=1)
    return carried


def export_table(table: Mapping[bytes, bytes], settings: Settings, out: Path, source: str) -> dict[str, Any]:
    """Write the export of ``table`` (a state table: key -> record) to ``out``; return its metadata."""
    series = parse_table(settled_table(table, settings), HISTORY_BLOCK_DAYS * (DAY_SECONDS // settings.bucket_seconds))
    frame = long_table(series, settings.bucket_seconds)
    if frame.empty:
        raise ExportError(f"the state table from {source} holds no keys; check the app id and the bootstrap servers")
    through = closed_through(table)
    metadata = {
        "format_version": FORMAT_VERSION,
        "source": source,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "keys": int(frame["id"].nunique()),
        "rows": len(frame),
        "first_date": str(frame["date"].min()),
        "last_date": str(frame["date"].max()),
        "closed_through": through.isoformat() if through else None,
        "bucket_seconds": settings.bucket_seconds,
    }
    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    arrow = arrow.replace_schema_metadata({**(arrow.schema.metadata or {}), METADATA_KEY: json.dumps(metadata)})
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(arrow, out)
    return metadata


def export_changelog(settings: Settings, bootstrap_servers: str, out: Path, quiet_s: float = 2.0) -> dict[str, Any]:
    """Read the app's state changelog from the beginning and write its export to ``out``."""
    topic = settings.topic_changelog
    table = read_changelog(bootstrap_servers, topic, quiet_s)
    return export_table(table, settings, out, f"kafka changelog {topic} at {bootstrap_servers}")


def read_export_metadata(path: Path) -> dict[str, Any]:
    """The ``restock.export`` metadata of an export file."""
    raw = (pq.read_schema(path).metadata or {}).get(METADATA_KEY)
    if raw is None:
        raise ExportError(f"{path} has no {METADATA_KEY.decode()} metadata: not written by `restock state export`")
    metadata: dict[str, Any] = json.loads(raw)
    return metadata
