"""The decision pass: one partition's state records -> one numpy batch -> forecast -> policy -> commands.

All series of the partition go through the forecaster and the policy in single vectorised calls; Python
loops here run once per stored record (decoding) or once per command actually sent (formatting).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import numpy.typing as npt

from forecasting import DemandForecast, DemandHistory, Forecaster, MovingAverageForecaster
from policies import ItemParams, OrderDecision, explain, inventory_position, order_up_to, shelf_stock
from schemas import ReorderCommand, command_id, encode_command
from schemas.commands import ForecastSummary, QuantileLevel
from streams.settings import DAY_SECONDS, Settings
from streams.state_codec import (
    CLICK_CHANNELS,
    HISTORY_SUFFIX,
    HOT_HEADER,
    META_PREFIX,
    Channel,
    HistoryRecord,
    HotRecord,
)

QUANTILE_KEYS: tuple[QuantileLevel, ...] = ("0.5", "0.9", "0.95", "0.99")
QUANTILE_LEVELS = tuple(float(k) for k in QUANTILE_KEYS)
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class PartitionBatch:
    """Every series of a partition as arrays aligned by row."""

    keys: list[bytes]
    header: npt.NDArray[np.void]  # [n] HOT_HEADER
    history: DemandHistory


@dataclass(frozen=True)
class DecisionOutcome:
    payloads: list[tuple[bytes, bytes]]
    pending: dict[bytes, tuple[float, int, str]]
    keys_seen: int


def day_date(day: int) -> date:
    return _EPOCH + timedelta(days=day)


def read_partition(items: list[tuple[bytes, bytes]], window: int, settings: Settings) -> PartitionBatch:
    """Assemble daily history for days ``window - history_days .. window - 1`` from stored records."""
    per_day = DAY_SECONDS // settings.bucket_seconds
    length = settings.history_days * per_day
    hot: dict[bytes, bytes] = {}
    hist: dict[bytes, bytes] = {}
    for key, value in items:
        if key.startswith(META_PREFIX):
            continue
        if key.endswith(HISTORY_SUFFIX):
            hist[key[: -len(HISTORY_SUFFIX)]] = value
        else:
            hot[key] = value
    keys = sorted(hot)
    n = len(keys)
    first_bucket = (window - settings.history_days) * per_day
    buckets = first_bucket + np.arange(length, dtype=np.int64)
    values = np.zeros((n, length, len(Channel)), np.float64)
    values[:, :, Channel.ON_HAND_END] = np.nan
    headers = np.frombuffer(b"".join(hot[k][: HOT_HEADER.itemsize] for k in keys), HOT_HEADER, n)
    for i, key in enumerate(keys):
        raw_history = hist.get(key)
        if raw_history is not None:
            record = HistoryRecord.decode(raw_history, length)
            valid = (buckets <= record.through_bucket) & (buckets > record.through_bucket - length)
            values[i, valid] = record.values[buckets[valid] % length]
        if headers[i]["n_open"]:
            hot_record = HotRecord.decode(hot[key])
            slot = hot_record.open_buckets - first_bucket
            inside = (slot >= 0) & (slot < length)
            values[i, slot[inside]] = hot_record.open_values[inside]
    daily = values.reshape(n, settings.history_days, per_day, len(Channel))
    demand = np.maximum(daily[..., Channel.DEMAND].sum(axis=2), 0.0)
    clicks = daily[..., list(CLICK_CHANNELS)].sum(axis=2)
    stockout = daily[..., Channel.STOCKOUT].max(axis=2) > 0
    on_hand = _last_known(daily[..., Channel.ON_HAND_END])
    days = window - settings.history_days + np.arange(settings.history_days)
    first_day = np.where(headers["first_bucket"] >= 0, headers["first_bucket"] // per_day, np.iinfo(np.int64).max)
    observed = (days[None, :] >= first_day[:, None]) & ~stockout & ~(on_hand <= 0)
    history = DemandHistory(
        series_ids=np.array([k.decode() for k in keys], dtype=object),
        demand=demand.astype(np.float32),
        end_day=window - 1,
        observed=observed,
        clicks=clicks.astype(np.float32),
    )
    return PartitionBatch(keys, headers, history)


def _last_known(on_hand_end: npt.NDArray[np.float64]) -> npt.NDArray[np.float32]:
    """Daily on hand, carried forward over days without inventory events; NaN before the first one."""
    n_days = on_hand_end.shape[2]
    known = ~np.isnan(on_hand_end)
    index = np.where(known, np.arange(n_days)[None, None, :], -1)
    last = np.maximum.accumulate(index, axis=2)[..., -1]  # [n, days]: last known slot within the day
    day_end = np.take_along_axis(on_hand_end, np.maximum(last, 0)[..., None], axis=2)[..., 0]
    day_end = np.where(last >= 0, day_end, np.nan)
    n, days = day_end.shape
    idx = np.where(~np.isnan(day_end), np.arange(days)[None, :], 0)
    np.maximum.accumulate(idx, axis=1, out=idx)
    filled = day_end[np.arange(n)[:, None], idx]
    result: npt.NDArray[np.float32] = filled.astype(np.float32)
    return result


class DecisionEngine:
    """Turns a partition's state into reorder commands; holds the forecaster (the seam the LSTM plugs into)."""

    def __init__(self, settings: Settings, forecaster: Forecaster | None = None) -> None:
        self.settings = settings
        self.forecaster = forecaster or MovingAverageForecaster(
            window=settings.forecast_window_days,
            min_history=min(settings.min_history_days, settings.forecast_window_days),
        )

    def item_params(self, header: npt.NDArray[np.void]) -> ItemParams:
        s = self.settings

        def known(name: str, default: float) -> npt.NDArray[np.float64]:
            values = header[name].astype(np.float64)
            return np.where(np.isnan(values), default, values)

        return ItemParams(
            lead_time_days=known("lead_time_days", s.default_lead_time_days),
            lead_time_std_days=known("lead_time_std_days", s.default_lead_time_std_days),
            review_days=np.full(len(header), float(s.review_days)),
            case_pack=known("case_pack", 1.0).astype(np.int64),
            moq=known("moq", 1.0).astype(np.int64),
            max_order_qty=np.full(len(header), np.inf),
            shelf_capacity=known("shelf_capacity", np.inf),
            service_level=np.full(len(header), s.service_level),
        )

    def decide(self, items: list[tuple[bytes, bytes]], window: int, created_ms: int) -> DecisionOutcome:
        batch = read_partition(items, window, self.settings)
        n = len(batch.keys)
        if n == 0:
            return DecisionOutcome([], {}, 0)
        header = batch.header
        params = self.item_params(header)
        horizon = int(np.ceil(params.protection_days.max()))
        forecast = self.forecaster.predict(batch.history, horizon)
        protection = forecast.over_period(params.protection_days)
        expires = header["pending_need_by_day"].astype(np.int64) + self.settings.pending_timeout_days
        pending_active = (header["pending_qty"] > 0) & (expires >= window)
        pending = np.where(pending_active, header["pending_qty"], 0.0)
        on_hand = header["on_hand"].astype(np.float64)
        on_order = header["on_order"].astype(np.float64)
        position = inventory_position(np.maximum(on_hand, 0.0), on_order, header["backorders"], pending)
        daily_mean = forecast.mean[:, 0].astype(np.float64)
        decision = order_up_to(
            position,
            protection,
            daily_mean,
            params,
            shelf_stock=shelf_stock(np.maximum(on_hand, 0.0), on_order, pending),
        )
        ordering = np.flatnonzero((decision.quantity > 0) & ~pending_active)
        quantiles = protection.quantile(QUANTILE_LEVELS)
        payloads: list[tuple[bytes, bytes]] = []
        decided: dict[bytes, tuple[float, int, str]] = {}
        for i in ordering.tolist():
            command = self._command(batch, i, window, created_ms, params, decision, forecast, quantiles, pending)
            payloads.append((batch.keys[i], encode_command(command)))
            need_by_day = (command.need_by - _EPOCH).days
            decided[batch.keys[i]] = (float(command.quantity), need_by_day, command.command_id)
        return DecisionOutcome(payloads, decided, n)

    def _command(
        self,
        batch: PartitionBatch,
        i: int,
        window: int,
        created_ms: int,
        params: ItemParams,
        decision: OrderDecision,
        forecast: DemandForecast,
        quantiles: npt.NDArray[np.float64],
        pending: npt.NDArray[np.float64],
    ) -> ReorderCommand:
        s = self.settings
        sku, location = batch.keys[i].decode().split("|", 1)
        h = batch.header[i]
        method = str(forecast.method[i])
        reason = explain(decision, params, i)
        if method != "moving_average":
            observed = int(batch.history.observed[i].sum())
            reason = f"{method} ({observed} observed days, fewer than {s.min_history_days}): {reason}"
        window_date = day_date(window)
        lead_time = float(params.lead_time_days[i])
        return ReorderCommand(
            command_id=command_id(sku, location, s.policy_version, window_date),
            sku=sku,
            location=location,
            quantity=int(decision.quantity[i]),
            order_type="purchase",
            need_by=window_date + timedelta(days=int(np.ceil(lead_time))),
            decision_window=window_date,
            decision_time=datetime.fromtimestamp(window * DAY_SECONDS + s.decision_offset_seconds, UTC),
            created_at=datetime.fromtimestamp(created_ms / 1000, UTC),
            inventory_position=round(float(decision.position[i])),
            on_hand=round(float(h["on_hand"])),
            on_order=round(float(h["on_order"])),
            backorders=round(float(h["backorders"])),
            pending_quantity=round(float(pending[i])),
            reorder_point=float(decision.reorder_point[i]),
            order_up_to=float(decision.order_up_to[i]),
            safety_stock=float(decision.safety_stock[i]),
            forecast=ForecastSummary(
                protection_days=float(params.protection_days[i]),
                mean=float(decision.protection_mean[i]),
                std=float(decision.protection_std[i]),
                quantiles=dict(zip(QUANTILE_KEYS, (float(v) for v in quantiles[i]), strict=True)),
                daily_mean=float(forecast.mean[i, 0]),
                method=method,
            ),
            service_level=float(params.service_level[i]),
            lead_time_days=lead_time,
            lead_time_std_days=float(params.lead_time_std_days[i]),
            review_days=int(params.review_days[i]),
            case_pack=int(params.case_pack[i]),
            moq=int(params.moq[i]),
            unit_cost=None if np.isnan(h["unit_cost"]) else float(h["unit_cost"]),
            rule=str(decision.labels()[i]),
            reason=reason[:1000],
            model_version=forecast.model_version,
            policy_version=s.policy_version,
        )
