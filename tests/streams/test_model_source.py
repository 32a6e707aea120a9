"""The model folder the worker serves from: fallback until a model is there, swaps, refusals, and commands."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from forecasting import DemandHistory, MovingAverageForecaster
from forecasting.lstm.estimator import CONFIG_FILE, WEIGHTS_FILE, LSTMPredictor
from streams.metrics import WorkerMetrics
from streams.model_source import ModelDirectory

FIXTURE = Path(__file__).parents[1] / "forecasting" / "data" / "lstm_format1"
FIXTURE_VERSION = "lstm-c6dd5d135646"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _history() -> DemandHistory:
    y = np.random.default_rng(0).poisson(2.0, (3, 60)).astype(np.float32)
    y[2, :50] = 0
    observed = np.ones(y.shape, bool)
    observed[2, :50] = False  # ten observed days: too few for the LSTM
    return DemandHistory(np.array(["a|L", "b|L", "c|L"], dtype=object), y, 19_000, observed)


def _samples(metrics: WorkerMetrics, name: str) -> dict[str, float]:
    return {str(s.labels): s.value for family in metrics.registry.collect() for s in family.samples if s.name == name}


@pytest.fixture
def source(tmp_path: Path) -> tuple[ModelDirectory, Clock, WorkerMetrics, Path]:
    clock, metrics, folder = Clock(), WorkerMetrics(), tmp_path / "model"
    folder.mkdir()
    model = ModelDirectory(folder, MovingAverageForecaster(), device="cpu", check_s=30, metrics=metrics, clock=clock)
    return model, clock, metrics, folder


def test_the_baseline_serves_until_a_model_arrives_then_the_model(source) -> None:
    model, clock, metrics, folder = source
    baseline_version = MovingAverageForecaster().version
    assert model.predict(_history(), 7).model_version == baseline_version
    assert _samples(metrics, "restock_model_info") == {str({"model_version": baseline_version}): 1.0}
    shutil.copytree(FIXTURE, folder, dirs_exist_ok=True)
    clock.now = 29.0  # not checked yet: the folder is polled every check_s seconds
    assert model.predict(_history(), 7).model_version == baseline_version
    clock.now = 31.0
    forecast = model.predict(_history(), 7)
    assert forecast.model_version == FIXTURE_VERSION and model.version == FIXTURE_VERSION
    assert forecast.method.tolist() == ["lstm", "lstm", "tsb_fallback"]
    assert _samples(metrics, "restock_model_info") == {str({"model_version": FIXTURE_VERSION}): 1.0}
    assert _samples(metrics, "restock_model_loads_total") == {str({"outcome": "loaded"}): 1.0}


def test_half_written_and_broken_folders_leave_the_current_model_serving(source, tmp_path: Path) -> None:
    model, clock, metrics, folder = source
    shutil.copytree(FIXTURE, folder, dirs_exist_ok=True)
    clock.now = 31.0
    assert model.refresh() and model.version == FIXTURE_VERSION
    # a copy of a new model, config.json first: the weights on disk are still the old ones
    base = LSTMPredictor.load(FIXTURE, device="cpu")
    for parameter in base.network.parameters():
        parameter.data.add_(0.01)
    other = LSTMPredictor(base.network, base.config, base.facts, device="cpu")
    other.save(tmp_path / "other")
    shutil.copy(tmp_path / "other" / CONFIG_FILE, folder / CONFIG_FILE)
    clock.now = 62.0
    assert not model.refresh() and model.version == FIXTURE_VERSION
    shutil.copy(tmp_path / "other" / WEIGHTS_FILE, folder / WEIGHTS_FILE)  # now complete
    clock.now = 93.0
    assert model.refresh() and model.version == other.version != FIXTURE_VERSION
    (folder / CONFIG_FILE).write_text(json.dumps({"format": 99}))
    clock.now = 124.0
    assert not model.refresh() and model.version == other.version
    assert model.predict(_history(), 7).model_version == other.version
    loads = _samples(metrics, "restock_model_loads_total")
    assert loads == {
        str({"outcome": "loaded"}): 2.0,
        str({"outcome": "incomplete"}): 1.0,
        str({"outcome": "failed"}): 1.0,
    }
