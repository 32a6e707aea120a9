"""The scoring benchmark runs end to end on a small size and reports what it timed."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from forecasting.scoring_bench import run_scoring_bench, synthetic_history
from streams.cli import main


def test_synthetic_history_is_seeded_and_intermittent_and_fast_movers_both() -> None:
    a, b = synthetic_history(500, 60, seed=3), synthetic_history(500, 60, seed=3)
    assert np.array_equal(a.demand, b.demand) and a.clicks is not None and a.price is not None
    zero_share = (a.demand == 0).mean(axis=1)
    assert (zero_share > 0.7).any() and (zero_share < 0.05).any()


def test_bench_reports_figures_and_a_json_last_line(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    figures = run_scoring_bench(series=300, days=70, horizon=14, device="cpu", threads=1, repeats=1)
    assert figures.series == 300 and figures.device == "cpu" and figures.predict_seconds > 0
    assert figures.series_per_second == pytest.approx(300 / figures.predict_seconds)
    monkeypatch.setattr(sys, "argv", ["restock", "bench", "score", "--series", "200", "--days", "60", "--repeats",
                                      "1", "--device", "cpu"])  # fmt: skip
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["series"] == 200 and report["total_seconds"] > 0 and report["device"] == "cpu"


def test_bench_scores_the_default_ensemble_too() -> None:
    figures = run_scoring_bench(series=200, days=60, horizon=14, device="cpu", threads=1, repeats=1, model="ensemble")
    assert figures.model == "ensemble" and figures.predict_seconds > 0 and figures.quantile_seconds > 0
    with pytest.raises(ValueError, match="model: expected one of"):
        run_scoring_bench(series=10, days=60, model="arima")
