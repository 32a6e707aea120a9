"""Scoring benchmark: the LSTM, or the default ensemble, forecasting many series at once, as the worker's
decision pass and ``restock forecast`` do (``restock bench score``; last line of its output is one JSON object).

Synthetic series (Poisson demand around a weekly pattern with per-series levels, some intermittent, clicks
and prices known) go through :meth:`LSTMPredictor.predict` with the default network; its weights are a fresh
seeded initialisation, since speed does not depend on what the weights learnt. ``model="ensemble"`` scores the
default ensemble instead (``forecasting.ensemble.DEFAULT_WEIGHTS``): that network, LightGBM with the default
settings fitted on 2,000 other synthetic series (its trees have their full size; what they learnt does not
matter for speed) and Croston. Timed separately: building the
inputs and running the network (``predict``: mean and variance of every day), and the count quantiles of every
day at the nine M5 levels (what ``restock forecast`` writes). Each is the best of ``repeats`` runs after a
warm-up run.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from forecasting.base import Forecaster
from forecasting.baselines import IntermittentForecaster
from forecasting.ensemble import DEFAULT_WEIGHTS, EnsemblePredictor
from forecasting.errors import ForecastError
from forecasting.gbt import GradientBoostedForecaster
from forecasting.history import DemandHistory
from forecasting.lstm.estimator import LSTMConfig, LSTMPredictor
from forecasting.lstm.network import DemandLSTM
from forecasting.metrics import M5_LEVELS
from forecasting.quantiles import daily_quantiles

MODELS = ("lstm", "ensemble")


@dataclass(frozen=True)
class ScoringFigures:
    model: str
    series: int
    days: int
    horizon: int
    device: str
    threads: int
    predict_seconds: float
    quantile_seconds: float
    series_per_second: float
    peak_rss_mb: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model, "series": self.series, "days": self.days, "horizon": self.horizon,
            "device": self.device, "threads": self.threads, "predict_seconds": round(self.predict_seconds, 3),
            "quantile_seconds": round(self.quantile_seconds, 3),
            "total_seconds": round(self.predict_seconds + self.quantile_seconds, 3),
            "series_per_second": round(self.series_per_second), "peak_rss_mb": round(self.peak_rss_mb, 1),
            "torch": torch.__version__, "cpu_count": os.cpu_count(), "machine": platform.machine(),
        }  # fmt: skip


def synthetic_history(series: int, days: int, seed: int = 0) -> DemandHistory:
    rng = np.random.default_rng(seed)
    week = np.array([0.8, 0.9, 1.0, 1.0, 1.1, 1.4, 0.8], np.float32)
    level = rng.lognormal(0.0, 1.2, series).astype(np.float32)
    lam = level[:, None] * week[(np.arange(days) + 3) % 7][None, :]
    demand = rng.poisson(lam).astype(np.float32)
    observed = np.ones((series, days), bool)
    clicks = rng.poisson(np.repeat(lam[..., None] * 4.0, 4, axis=2)).astype(np.float32)
    price = np.repeat(rng.uniform(1, 20, series).astype(np.float32)[:, None], days, axis=1)
    ids = np.array([f"sku{i}|L{i % 7}" for i in range(series)], dtype=object)
    return DemandHistory(ids, demand, 20_000, observed, clicks=clicks, price=price)


def _best(run: Callable[[], object], repeats: int) -> float:
    run()  # warm-up: allocator, kernels, page faults
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def run_scoring_bench(
    series: int = 100_000, days: int = 120, horizon: int = 28, device: str = "auto", threads: int = 2,
    repeats: int = 3, seed: int = 0, model: str = "lstm",
) -> ScoringFigures:  # fmt: skip
    if model not in MODELS:
        raise ForecastError(f"model: expected one of {MODELS}, got {model!r}")
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    config = LSTMConfig()
    lstm = LSTMPredictor(DemandLSTM(config.network), config, {"level": 1.0}, device=device)
    predictor: LSTMPredictor | EnsemblePredictor = lstm
    if model == "ensemble":
        params = {**GradientBoostedForecaster().params, "num_threads": threads}
        trees = GradientBoostedForecaster(seed=seed, params=params)
        trees.fit(synthetic_history(2_000, days, seed + 1))
        members: dict[str, Forecaster] = {"lstm": lstm, "lightgbm": trees, "croston": IntermittentForecaster("croston")}
        predictor = EnsemblePredictor(members, DEFAULT_WEIGHTS)
    history = synthetic_history(series, days, seed)
    forecast = predictor.predict(history, horizon)

    def score() -> None:
        predictor.predict(history, horizon)  # the LSTM's .cpu() copies wait for the device
        if lstm.device.type == "cuda":
            torch.cuda.synchronize()

    predict_s = _best(score, repeats)
    quantile_s = _best(lambda: daily_quantiles(forecast, M5_LEVELS), repeats)
    return ScoringFigures(model, series, days, horizon, str(lstm.device), threads, predict_s, quantile_s,
                          series / predict_s, _peak_rss_mb())  # fmt: skip


def _peak_rss_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            peak = next((line for line in status if line.startswith("VmHWM:")), "")
    except OSError:
        return float("nan")
    return int(peak.split()[1]) / 1024 if peak else float("nan")
