"""What ``restock train``, ``restock forecast`` and ``restock backtest`` do, minus argument parsing.

The file formats live here (a long table in; a model folder; a long forecast table out; the backtest's CSV, PNG
and JSON); ``streams.cli`` only maps options onto these functions and renders progress.

The default forecaster is the global LSTM averaged with LightGBM and Croston-SBA (``forecasting.ensemble``);
``restock backtest`` measures them, alone and together, against the baselines and, with the ``bench`` extra,
statsforecast's AutoETS, SeasonalNaive and CrostonOptimized.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from forecasting import MovingAverageForecaster
from forecasting.backtest import BacktestResult, EnsembleOf, Model, run_backtest
from forecasting.backtest_report import per_series_frame, plot_fans
from forecasting.base import Forecaster
from forecasting.baselines import ExponentialSmoothingForecaster, IntermittentForecaster, SeasonalNaiveForecaster
from forecasting.ensemble import DEFAULT_WEIGHTS, EnsemblePredictor
from forecasting.errors import ForecastError
from forecasting.forecast import DemandForecast
from forecasting.gbt import GradientBoostedForecaster
from forecasting.history import DemandHistory
from forecasting.long_table import SeriesTable, read_long_table
from forecasting.lstm.estimator import LSTMConfig, LSTMEstimator, LSTMPredictor
from forecasting.lstm.training import Progress
from forecasting.metrics import M5_LEVELS
from forecasting.quantiles import daily_quantiles, quantile_rule

QUANTILE_COLUMNS = tuple(f"q{level:g}" for level in M5_LEVELS)
FORECAST_COLUMNS = ("id", "date", "mean", *QUANTILE_COLUMNS, "method")
# ensemble: the LSTM, LightGBM and Croston averaged 2:2:1 (forecasting.ensemble); the default because it had the
# lowest WRMSSE of the Online Retail backtest with the total's bias within 10 % (benchmarks/README.md)
MODEL_KINDS = {"lstm": "lstm", "ensemble": "ensemble_lstm_lightgbm_croston"}  # kind -> its name in the backtest
DEFAULT_MODEL = "ensemble"
_EPOCH = np.datetime64("1970-01-01", "D")


def _static(values: npt.NDArray[np.object_]) -> npt.NDArray[np.object_] | None:
    """A location/category column, or None where the table had none (the model's own default applies)."""
    return values if any(values) else None


def default_config(seed: int = 0, max_epochs: int | None = None) -> LSTMConfig:
    base = LSTMConfig()
    epochs = base.training.max_epochs if max_epochs is None else max_epochs
    if epochs < 1:
        raise ForecastError(f"max_epochs: expected >= 1, got {epochs}")
    return replace(base, training=replace(base.training, seed=seed, max_epochs=epochs))


def train_model(
    data: Path, out: Path, *, config: LSTMConfig, kind: str = DEFAULT_MODEL, device: str = "auto",
    progress: Progress = lambda _: None, stage: Callable[[str], None] = lambda _: None, calendar: Path | None = None,
) -> LSTMPredictor | EnsemblePredictor:  # fmt: skip
    """Train a forecaster of ``kind`` on all of ``data`` and save it to ``out`` (created if missing);
    ``progress`` hears every LSTM epoch, ``stage`` each step after it."""
    if kind not in MODEL_KINDS:
        raise ForecastError(f"model kind {kind!r}: choose one of {sorted(MODEL_KINDS)}")
    series = read_long_table(data, calendar)
    lstm = LSTMEstimator(config).fit(
        series.history, locations=_static(series.location), categories=_static(series.category), device=device,
        progress=progress,
    )  # fmt: skip
    if kind == "lstm":
        lstm.save(out, metrics={"trained_on": str(data), "platform": platform.platform()})
        return lstm
    stage(f"LightGBM on {series.history.n} series (about a minute per 4,000 series on 2 cores)")
    trees = GradientBoostedForecaster(seed=config.training.seed).fit(series.history)
    members: dict[str, Forecaster] = {"lstm": lstm, "lightgbm": trees, "croston": IntermittentForecaster("croston")}
    ensemble = EnsemblePredictor(members, DEFAULT_WEIGHTS)
    ensemble.save(out)
    return ensemble


def forecast_frame(model: LSTMPredictor | EnsemblePredictor, series: SeriesTable, horizon: int) -> pd.DataFrame:
    """One row per series and day after the data's last date: ``id, date, mean, q0.005 .. q0.995, method``."""
    if horizon < 1:
        raise ForecastError(f"horizon: expected >= 1 day, got {horizon}")
    history = series.history
    forecast = model.predict(history, horizon, locations=_static(series.location), categories=_static(series.category))
    return _long_forecast(history, forecast, quantile_rule(model))


def _long_forecast(history: DemandHistory, forecast: DemandForecast, rule: str) -> pd.DataFrame:
    n, horizon = forecast.mean.shape
    quantiles = daily_quantiles(forecast, M5_LEVELS, rule)  # [n, H, Q]
    dates = _EPOCH + (history.end_day + 1 + np.arange(horizon)).astype("timedelta64[D]")
    frame = pd.DataFrame(
        {
            "id": np.repeat(history.series_ids.astype(str), horizon),
            "date": np.tile(dates, n),
            "mean": forecast.mean.ravel(),
            **{column: quantiles[:, :, j].ravel() for j, column in enumerate(QUANTILE_COLUMNS)},
            "method": np.repeat(forecast.method.astype(str), horizon),
        }
    )
    return frame


def write_forecast(frame: pd.DataFrame, out: Path) -> Path:
    if out.suffix.lower() != ".parquet":
        raise ForecastError(f"{out}: the forecast is written as parquet; name the file *.parquet")
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(out, index=False)
    return out


# --- backtest --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BacktestFiles:
    scores_csv: Path
    fans_png: Path
    summary_json: Path


def backtest_models(
    *, device: str = "auto", seed: int = 0, statsforecast: bool = True, n_jobs: int = 1,
    only: tuple[str, ...] = (), lstm_config: LSTMConfig | None = None,
) -> dict[str, Model]:  # fmt: skip
    """Every model of the backtest; the last three are the LSTM+LightGBM ensemble, that ensemble with Croston in
    equal thirds, and the default (the same three weighted by ``DEFAULT_WEIGHTS``)."""
    config = lstm_config or default_config(seed)

    def lstm(history: DemandHistory) -> LSTMPredictor:
        return LSTMEstimator(config).fit(history, device=device)

    def lightgbm(history: DemandHistory) -> GradientBoostedForecaster:
        return GradientBoostedForecaster(seed=seed).fit(history)

    models: dict[str, Model] = {
        "seasonal_naive": lambda _: SeasonalNaiveForecaster(),
        "moving_average": lambda _: MovingAverageForecaster(),
        "exponential_smoothing": lambda _: ExponentialSmoothingForecaster(),
        "croston": lambda _: IntermittentForecaster("croston"),
        "tsb": lambda _: IntermittentForecaster("tsb"),
    }
    if statsforecast:
        from forecasting.statsforecast_models import statsforecast_models

        for name, model in statsforecast_models(n_jobs).items():
            models[name] = _fixed(model)
    models["lightgbm"] = lightgbm
    models["lstm"] = lstm
    models["ensemble_lstm_lightgbm"] = EnsembleOf(("lstm", "lightgbm"))
    models["ensemble_lstm_lightgbm_croston_equal"] = EnsembleOf(("lstm", "lightgbm", "croston"))
    default = tuple(DEFAULT_WEIGHTS)
    models["ensemble_lstm_lightgbm_croston"] = EnsembleOf(default, tuple(DEFAULT_WEIGHTS[m] for m in default))
    if only:
        unknown = sorted(set(only) - set(models))
        if unknown:
            raise ForecastError(f"unknown model(s) {unknown}; choose from {sorted(models)}")
        needed = set(only)
        for name in only:
            spec = models[name]
            if isinstance(spec, EnsembleOf):
                needed |= set(spec.members)
        models = {name: spec for name, spec in models.items() if name in needed}
    return models


def _fixed(model: Any) -> Callable[[DemandHistory], Any]:
    return lambda _: model


def run_backtest_command(
    data: Path, out: Path, *, origins: int = 3, horizon: int = 28, models: dict[str, Model],
    progress: Callable[[str], None] = lambda _: None, plot_model: str | None = None, calendar: Path | None = None,
) -> tuple[BacktestResult, BacktestFiles, dict[str, Any]]:  # fmt: skip
    """Run the backtest on ``data`` and write ``scores.csv`` (per series, model and origin), ``fans.png`` and
    ``summary.json`` (the same object as the command's last line) into ``out``."""
    series = read_long_table(data, calendar)
    result = run_backtest(series.history, models, origins, horizon, progress)
    out.mkdir(parents=True, exist_ok=True)
    files = BacktestFiles(out / "scores.csv", out / "fans.png", out / "summary.json")
    per_series_frame(result).to_csv(files.scores_csv, index=False)
    summary = result.summary()
    shown = plot_model or min(summary, key=lambda m: summary[m]["wrmsse"])
    plot_fans(result, shown, files.fans_png)
    report = {
        "data": str(data),
        "series": series.history.n,
        "days": series.history.days,
        "origins": origins,
        "horizon": horizon,
        "default_model": MODEL_KINDS[DEFAULT_MODEL],
        "models": {m: {k: round(v, 5) for k, v in s.items()} for m, s in summary.items()},
        "origin_days": sorted({s.origin_day for s in result.scores}),
        "hindsight_wrmsse": {k: round(v, 5) for k, v in result.hindsight_summary().items()},
        "plot_model": shown,
    }
    files.summary_json.write_text(json.dumps(report, indent=2) + "\n")
    return result, files, report
