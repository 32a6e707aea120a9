"""The decision pass: one partition's state records -> one numpy batch -> forecast -> policy -> commands.

All series of the partition go through the forecaster and the policy in single vectorised calls; Python
loops here run once per stored record (decoding) or once per command actually sent (formatting).
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from forecasting import DemandForecast, DemandHistory, Forecaster, MovingAverageForecaster
from forecasting.calendar import EventCalendar, read_calendar
from policies import ItemParams, OrderDecision, explain, inventory_position, order_up_to, shelf_stock
from policies.calibration import Calibration, level_residuals
from schemas import ReorderCommand, command_id, encode_command
from schemas.commands import ForecastSummary, QuantileLevel
from streams.processor import DecisionRows, PartitionProcessor
from streams.settings import DAY_SECONDS, Settings
from streams.state_codec import CLICK_CHANNELS, Channel

if TYPE_CHECKING:
    from streams.metrics import WorkerMetrics

log = logging.getLogger("restock.worker")

QUANTILE_KEYS: tuple[QuantileLevel, ...] = ("0.5", "0.9", "0.95", "0.99")
QUANTILE_LEVELS = tuple(float(k) for k in QUANTILE_KEYS)
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class DecisionOutcome:
    payloads: list[tuple[bytes, bytes]]
    ordered: list[tuple[int, int, float, int, str]]  # (shard, row, quantity, need-by day, command id)
    keys_seen: int


def day_date(day: int) -> date:
    return _EPOCH + timedelta(days=day)


def demand_history(
    rows: DecisionRows, window: int, settings: Settings, calendar: EventCalendar | None = None
) -> DemandHistory:
    """Daily history for days ``window - history_days .. window - 1`` from the stored buckets, with the
    worker's event calendar (``settings.calendar_path``).

    Days before a series' first event, and days on which it was out of stock (an inventory event left on hand
    at or below zero, or on hand carried forward from earlier days is), are unobserved.
    """
    per_day = DAY_SECONDS // settings.bucket_seconds
    n = len(rows.keys)
    daily = rows.buckets.reshape(n, settings.history_days, per_day, len(Channel))
    demand = np.maximum(daily[..., Channel.DEMAND].sum(axis=2), 0.0)
    clicks = daily[..., list(CLICK_CHANNELS)].sum(axis=2)
    stockout = daily[..., Channel.STOCKOUT].max(axis=2) > 0
    on_hand = _last_known(daily[..., Channel.ON_HAND_END])
    days = window - settings.history_days + np.arange(settings.history_days)
    first_day = rows.header["first_bucket"] // per_day
    observed = (days[None, :] >= first_day[:, None]) & ~stockout & ~(on_hand <= 0)
    return DemandHistory(
        series_ids=np.array([k.decode() for k in rows.keys], dtype=object),
        demand=demand.astype(np.float32),
        end_day=window - 1,
        observed=observed,
        clicks=clicks.astype(np.float32),
        calendar=calendar,
    )


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


@dataclass(frozen=True)
class _Context:
    """Everything one decision pass computed, for formatting its commands one by one."""

    rows: DecisionRows
    history: DemandHistory
    window: int
    created_ms: int
    params: ItemParams
    decision: OrderDecision
    forecast: DemandForecast
    quantiles: npt.NDArray[np.float64]
    pending: npt.NDArray[np.float64]
    calibration_windows: int


def baseline(settings: Settings) -> MovingAverageForecaster:
    return MovingAverageForecaster(
        window=settings.forecast_window_days, min_history=min(settings.min_history_days, settings.forecast_window_days)
    )


def forecaster_for(settings: Settings, metrics: WorkerMetrics | None = None) -> Forecaster:
    """The baseline, or the trained model in ``settings.model_dir`` (reloaded when it changes)."""
    if settings.model_dir is None:
        return baseline(settings)
    from streams.model_source import ModelDirectory  # imports torch: only when a model is configured

    return ModelDirectory(settings.model_dir, baseline(settings), device=settings.forecast_device,
                          check_s=settings.model_check_s, metrics=metrics)  # fmt: skip


def decide_window(
    engine: DecisionEngine, processor: PartitionProcessor, window: int, metrics: WorkerMetrics
) -> DecisionOutcome:
    """One decision pass of a partition: fold and close its state up to ``window``, decide, note the orders as
    pending, and account for it. The caller sends the payloads before it writes the state (a crash re-runs the
    pass, which re-sends the same bytes)."""
    started = time.perf_counter()
    rows = processor.prepare_decision(window)
    outcome = engine.decide(rows, window, processor.due_ms(window))
    processor.record_decision(window, outcome.ordered)
    metrics.commands.inc(len(outcome.payloads))
    metrics.state_keys.set(outcome.keys_seen)
    metrics.decision_seconds.observe(time.perf_counter() - started)
    log.info(
        "decision pass",
        extra={"partition": processor.partition, "window": window, "keys": outcome.keys_seen,
               "commands": len(outcome.payloads)},
    )  # fmt: skip
    return outcome


class DecisionEngine:
    """Turns a partition's state into reorder commands; holds the forecaster (the seam the LSTM plugs into)."""

    def __init__(self, settings: Settings, forecaster: Forecaster | None = None) -> None:
        self.settings = settings
        self.forecaster = forecaster or baseline(settings)
        # read once at start: a missing or malformed file is a configuration error, reported before any decision
        self.calendar = None if settings.calendar_path is None else read_calendar(settings.calendar_path)
        self._calibrations: dict[tuple[int, str, str], tuple[npt.NDArray[np.float64] | None, int]] = {}

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

    def decide(self, rows: DecisionRows, window: int, created_ms: int) -> DecisionOutcome:
        n = len(rows.keys)
        if n == 0:
            return DecisionOutcome([], [], 0)
        history = demand_history(rows, window, self.settings, self.calendar)
        header = rows.header
        params = self.item_params(header)
        horizon = int(np.ceil(params.protection_days.max()))
        forecast = self.forecaster.predict(history, horizon)
        protection = forecast.over_period(params.protection_days)
        expires = header["pending_need_by_day"].astype(np.int64) + self.settings.pending_timeout_days
        pending_active = (header["pending_qty"] > 0) & (expires >= window)
        pending = np.where(pending_active, header["pending_qty"], 0.0)
        on_hand = header["on_hand"].astype(np.float64)
        on_order = header["on_order"].astype(np.float64)
        position = inventory_position(np.maximum(on_hand, 0.0), on_order, header["backorders"], pending)
        daily_mean = forecast.mean[:, 0].astype(np.float64)
        z, windows = self._calibrated_z(history, params, window, rows.keys)
        decision = order_up_to(
            position,
            protection,
            daily_mean,
            params,
            shelf_stock=shelf_stock(np.maximum(on_hand, 0.0), on_order, pending),
            z=z,
        )
        ordering = np.flatnonzero((decision.quantity > 0) & ~pending_active)
        quantiles = protection.quantile(QUANTILE_LEVELS)
        payloads: list[tuple[bytes, bytes]] = []
        ordered: list[tuple[int, int, float, int, str]] = []
        context = _Context(rows, history, window, created_ms, params, decision, forecast, quantiles, pending, windows)
        for i in ordering.tolist():
            command = self._command(context, i)
            payloads.append((rows.keys[i], encode_command(command)))
            need_by_day = (command.need_by - _EPOCH).days
            ordered.append((int(rows.shard[i]), int(rows.row[i]), float(command.quantity), need_by_day,
                            command.command_id))  # fmt: skip
        return DecisionOutcome(payloads, ordered, n)

    def _calibrated_z(
        self, history: DemandHistory, params: ItemParams, window: int, keys: list[bytes]
    ) -> tuple[npt.NDArray[np.float64] | None, int]:
        """Safety factors calibrated on the partition's own past forecasts, and the uncensored windows behind
        them; ``(None, 0)`` when calibration is off or the history holds too few windows (the plain z then).

        Once a week, not every window: each calibration re-runs the forecaster at every origin, and its origins
        move a week at a time. Every window of a week reads the same inputs, the history up to the week's first
        window over a fixed span (closed days do not change), so the result is a pure function of the state and
        the week; it is memoised by week, forecaster version and a digest of the keys and parameters, and a
        restarted worker recomputes the very same factors (a re-sent command keeps its bytes).
        """
        origins = self.settings.calibration_origins
        if origins == 0:
            return None, 0
        calibration = Calibration(origins=origins, min_samples=self.settings.calibration_min_windows)
        into_week = window % calibration.step_days
        digest = hashlib.sha256(b"\n".join(keys))
        for array in (params.protection_days, params.lead_time_std_days, params.review_days, params.service_level):
            digest.update(np.ascontiguousarray(array).tobytes())
        key = (window - into_week, self.forecaster.version, digest.hexdigest())
        if key not in self._calibrations:
            span = history.days - (calibration.step_days - 1)
            week = history.columns(history.days - into_week - span, history.days - into_week)
            residuals, censored = level_residuals(
                self.forecaster, week, params.protection_days, params.lead_time_std_days, params.review_days,
                origins=origins, step_days=calibration.step_days, history_days=week.days,
            )  # fmt: skip
            z = calibration.safety_factors(residuals, censored, params.service_level)
            # one week per partition (its keys' digest): drop this partition's older weeks, keep the others'
            self._calibrations = {k: v for k, v in self._calibrations.items() if k[2] != key[2] or k[0] > key[0]}
            self._calibrations[key] = (z, 0 if z is None else int((~censored).sum()))
        return self._calibrations[key]

    def _command(self, c: _Context, i: int) -> ReorderCommand:
        s = self.settings
        sku, location = c.rows.keys[i].decode().split("|", 1)
        h = c.rows.header[i]
        method = str(c.forecast.method[i])
        reason = explain(c.decision, c.params, i)
        if c.calibration_windows:
            reason = f"{reason.rstrip('.')}; z calibrated on {c.calibration_windows:,} past forecast windows."
        if method.endswith("_fallback"):
            observed = int(c.history.observed[i].sum())
            reason = f"{method} ({observed} observed days, too few for {self.forecaster.name}): {reason}"
        window_date = day_date(c.window)
        lead_time = float(c.params.lead_time_days[i])
        return ReorderCommand(
            command_id=command_id(sku, location, s.policy_version, window_date),
            sku=sku,
            location=location,
            quantity=int(c.decision.quantity[i]),
            order_type="purchase",
            need_by=window_date + timedelta(days=int(np.ceil(lead_time))),
            decision_window=window_date,
            decision_time=datetime.fromtimestamp(c.window * DAY_SECONDS + s.decision_offset_seconds, UTC),
            created_at=datetime.fromtimestamp(c.created_ms / 1000, UTC),
            inventory_position=round(float(c.decision.position[i])),
            on_hand=round(float(h["on_hand"])),
            on_order=round(float(h["on_order"])),
            backorders=round(float(h["backorders"])),
            pending_quantity=round(float(c.pending[i])),
            reorder_point=float(c.decision.reorder_point[i]),
            order_up_to=float(c.decision.order_up_to[i]),
            safety_stock=float(c.decision.safety_stock[i]),
            forecast=ForecastSummary(
                protection_days=float(c.params.protection_days[i]),
                mean=float(c.decision.protection_mean[i]),
                std=float(c.decision.protection_std[i]),
                quantiles=dict(zip(QUANTILE_KEYS, (float(v) for v in c.quantiles[i]), strict=True)),
                daily_mean=float(c.forecast.mean[i, 0]),
                method=method,
            ),
            service_level=float(c.params.service_level[i]),
            lead_time_days=lead_time,
            lead_time_std_days=float(c.params.lead_time_std_days[i]),
            review_days=int(c.params.review_days[i]),
            case_pack=int(c.params.case_pack[i]),
            moq=int(c.params.moq[i]),
            unit_cost=None if np.isnan(h["unit_cost"]) else float(h["unit_cost"]),
            rule=str(c.decision.labels()[i]),
            reason=reason[:1000],
            model_version=c.forecast.model_version,
            policy_version=s.policy_version,
        )
