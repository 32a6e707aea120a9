"""The LSTM + LightGBM + Croston ensemble: averaging, fallbacks kept, and its folder round trip."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from forecasting import DemandHistory
from forecasting.baselines import IntermittentForecaster
from forecasting.ensemble import EnsemblePredictor, combine, load_model
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


@pytest.fixture(scope="module")
def ensemble() -> EnsemblePredictor:
    trees = GradientBoostedForecaster(horizon=14, rounds=20, train_days=56).fit(_history())
    lstm = LSTMPredictor.load(LSTM_FIXTURE, device="cpu")
    return EnsemblePredictor({"lstm": lstm, "lightgbm": trees, "croston": IntermittentForecaster("croston")})


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
    older = EnsemblePredictor({k: v for k, v in ensemble.members.items() if k != "croston"})
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
