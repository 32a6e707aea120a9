"""The LSTM + LightGBM + Croston ensemble: averaging, fallbacks kept, and its folder round trip."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from forecasting import DemandHistory
from forecasting.baselines import IntermittentForecaster
from forecasting.ensemble import DEFAULT_WEIGHTS, EnsemblePredictor, combine, load_model
from forecasting.errors import ForecastError
from forecasting.forecast import DemandForecast
from forecasting.gbt import GradientBoostedForecaster
from forecasting.lstm.estimator import ArtifactError, LSTMPredictor

LSTM_FIXTURE = Path(__file__).parent / "data" / "lstm_format1"


def _history(days: int = 120) -> DemandHistory:
    rng = np.random.default_rng(5)
    y = rng.poisson(3.0, (8, days)).astype(np.float32)
    observed = np.ones(y.shape, bool)
    observed[7, :-5] = False  # a new item
    return DemandHistory(np.array([f"s{i}|L" for i in range(8)], dtype=object), y, 19_000, observed)


def test_combine_averages_every_row_and_names_a_members_fallback() -> None:
    a = DemandForecast(np.full((2, 3), 2.0), np.full((2, 3), 4.0), np.array(["lstm", "tsb_fallback"]), "a")
    b = DemandForecast(np.full((2, 3), 4.0), np.full((2, 3), 8.0), np.array(["lightgbm", "lightgbm"]), "b")
    c = combine("mix", [a, b])
    assert c.mean[0].tolist() == [3.0] * 3 and c.variance[0].tolist() == [6.0] * 3
    assert c.mean[1].tolist() == [3.0] * 3 and c.method.tolist() == ["mix", "mix_tsb_fallback"]
    assert c.model_version == "mix(a+b)"


def test_combine_weights_the_members_and_refuses_weights_that_are_not_one() -> None:
    a = DemandForecast(np.full((1, 2), 2.0), np.full((1, 2), 4.0), np.array(["lstm"]), "a")
    b = DemandForecast(np.full((1, 2), 5.0), np.full((1, 2), 8.0), np.array(["lightgbm"]), "b")
    c = combine("mix", [a, b], (2.0, 1.0))
    assert c.mean.tolist() == [[3.0, 3.0]] and c.variance.tolist() == [[pytest.approx(16 / 3)] * 2]
    for bad in ((1.0,), (1.0, -1.0), (0.0, 0.0), (1.0, float("nan"))):
        with pytest.raises(ForecastError, match="ensemble weights"):
            combine("mix", [a, b], bad)


@pytest.fixture(scope="module")
def ensemble() -> EnsemblePredictor:
    trees = GradientBoostedForecaster(horizon=14, rounds=20, train_days=56).fit(_history())
    lstm = LSTMPredictor.load(LSTM_FIXTURE, device="cpu")
    return EnsemblePredictor(
        {"lstm": lstm, "lightgbm": trees, "croston": IntermittentForecaster("croston")}, DEFAULT_WEIGHTS
    )


def test_the_weights_travel_with_the_folder_and_name_the_version(ensemble: EnsemblePredictor, tmp_path: Path) -> None:
    assert ensemble.weights == pytest.approx(DEFAULT_WEIGHTS)
    parts = {n: m.predict(_history(), 14) for n, m in ensemble.members.items()}
    by_hand = sum(DEFAULT_WEIGHTS[n] * parts[n].mean for n in parts)
    np.testing.assert_allclose(ensemble.predict(_history(), 14).mean, by_hand)
    equal = EnsemblePredictor(ensemble.members)
    assert equal.version != ensemble.version and list(equal.weights.values()) == [pytest.approx(1 / 3)] * 3
    # a folder from before weights (no "weights" in config.json) averages equally under its old version
    equal.save(tmp_path / "old")
    config = tmp_path / "old" / "config.json"
    raw = json.loads(config.read_text())
    del raw["weights"]
    config.write_text(json.dumps(raw))
    old = load_model(tmp_path / "old", device="cpu")
    assert isinstance(old, EnsemblePredictor) and old.version == equal.version
    with pytest.raises(ForecastError, match="the members are"):
        EnsemblePredictor(ensemble.members, {"lstm": 1.0})


def test_folder_round_trip_gives_identical_forecasts(ensemble: EnsemblePredictor, tmp_path: Path) -> None:
    forecast = ensemble.predict(_history(), 14)
    assert forecast.model_version == ensemble.version and ensemble.version.startswith("ensemble-")
    assert forecast.method.tolist() == ["ensemble"] * 7 + ["ensemble_tsb_fallback"]
    ensemble.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m", device="cpu")
    assert isinstance(loaded, EnsemblePredictor) and loaded.version == ensemble.version
    np.testing.assert_array_equal(loaded.predict(_history(), 14).mean, forecast.mean)
    assert isinstance(load_model(LSTM_FIXTURE, device="cpu"), LSTMPredictor)
    # the two-member ensemble of earlier versions still loads
    older = EnsemblePredictor({k: v for k, v in ensemble.members.items() if k != "croston"})  # equal weights
    older.save(tmp_path / "older")
    assert load_model(tmp_path / "older", device="cpu").version == older.version != ensemble.version


def test_a_member_that_does_not_match_the_config_is_refused(ensemble: EnsemblePredictor, tmp_path: Path) -> None:
    ensemble.save(tmp_path / "m")
    meta = tmp_path / "m" / "lightgbm" / "lightgbm.json"
    raw = json.loads(meta.read_text())
    meta.write_text(json.dumps({**raw, "dispersion": raw["dispersion"] + 0.5}))
    with pytest.raises(Exception, match="does not match"):
        load_model(tmp_path / "m", device="cpu")
    shutil.rmtree(tmp_path / "m" / "lightgbm")
    ensemble.save(tmp_path / "m")
    config = tmp_path / "m" / "config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "model_version": "ensemble-000000000000"}))
    with pytest.raises(ArtifactError, match="config names"):
        load_model(tmp_path / "m", device="cpu")
    with pytest.raises(ArtifactError, match="restock train"):
        load_model(tmp_path / "empty", device="cpu")
    shutil.rmtree(tmp_path / "m")
    ensemble.save(tmp_path / "m")
    settings = tmp_path / "m" / "croston" / "baseline.json"
    settings.write_text(json.dumps({**json.loads(settings.read_text()), "alpha": 0.3}))
    with pytest.raises(ArtifactError, match="config names"):
        load_model(tmp_path / "m", device="cpu")
    (tmp_path / "m" / "croston" / "baseline.json").unlink()
    with pytest.raises(ArtifactError, match=r"baseline\.json"):
        load_model(tmp_path / "m", device="cpu")
