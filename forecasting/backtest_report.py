"""What ``restock backtest`` shows and writes: a table per model, per-series scores (CSV), forecast fans (PNG)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.backtest import BacktestResult
from forecasting.quantiles import daily_quantiles

COLUMNS = ("wrmsse", "rmsse_total", "wmase", "wspl", "p90_coverage", "bias", "fit_seconds", "score_seconds")


def table(result: BacktestResult) -> str:
    summary = result.summary()
    width = max(28, *(len(m) + 2 for m in summary))
    lines = [f"{'model':<{width}}" + "".join(f"{c:>14}" for c in COLUMNS), "-" * (width + 14 * len(COLUMNS))]
    for model, scores in sorted(summary.items(), key=lambda kv: kv[1]["wrmsse"]):
        lines.append(f"{model:<{width}}" + "".join(f"{scores[c]:>14.4f}" for c in COLUMNS))
    hindsight = result.hindsight_summary()
    if hindsight:
        lines.append(
            "hindsight, not forecasts (each series' actual horizon mean): WRMSSE "
            f"{hindsight['future_mean']:.4f} flat, {hindsight['future_mean_weekday']:.4f} with the weekday profile"
        )
    return "\n".join(lines)


def per_series_frame(result: BacktestResult) -> pd.DataFrame:
    parts = []
    for score in result.scores:
        parts.append(pd.DataFrame({"model": score.model, "origin_day": score.origin_day, "id": result.series_ids,
                                   **{k: v for k, v in score.per_series.items()}}))  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def plot_fans(result: BacktestResult, model: str, path: Path, series: int = 6, history_days: int = 84) -> Path:
    """History and the last origin's forecast fan (50 % and 95 % bands) of the highest-revenue series."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    forecast = result.last_forecasts[model]
    last = [s for s in result.scores if s.model == model][-1]
    top = np.argsort(-last.per_series["weight"])[:series]
    quantiles = daily_quantiles(forecast, (0.025, 0.25, 0.75, 0.975), result.quantile_rules[model])[top]
    history = result.last_origin_history
    past = history.demand[top, -history_days:]
    x_past = np.arange(-past.shape[1], 0)
    x_next = np.arange(forecast.horizon)
    fig, axes = plt.subplots(len(top), 1, figsize=(10, 2.2 * len(top)), sharex=True)
    for ax, i, row in zip(np.atleast_1d(axes), top, range(len(top)), strict=True):
        ax.plot(x_past, past[row], color="black", lw=0.8, label="history")
        ax.plot(x_next, result.last_actual[i], color="black", lw=0.8, ls=":", label="actual")
        ax.fill_between(x_next, quantiles[row, :, 0], quantiles[row, :, 3], alpha=0.2, color="C0", label="95 %")
        ax.fill_between(x_next, quantiles[row, :, 1], quantiles[row, :, 2], alpha=0.4, color="C0", label="50 %")
        ax.plot(x_next, forecast.mean[i], color="C0", lw=1.2, label="mean")
        ax.set_title(f"{result.series_ids[i]} (revenue weight {last.per_series['weight'][i]:.3f})", fontsize=9)
    np.atleast_1d(axes)[0].legend(fontsize=7, ncol=5, loc="upper left")
    np.atleast_1d(axes)[-1].set_xlabel(f"days from the last origin (day {last.origin_day}); model {model}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
