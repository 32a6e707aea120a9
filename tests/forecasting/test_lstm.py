"""The LSTM with tiny configurations: shapes and masking, learning, artifacts, the likelihood, CUDA."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from forecasting import DemandHistory, Forecaster, MovingAverageForecaster
from forecasting.count_quantiles import count_quantiles
from forecasting.lstm.estimator import ArtifactError, LSTMConfig, LSTMEstimator, LSTMPredictor
from forecasting.lstm.features import FUTURE, FUTURE_V1, PAST, PAST_V1, calendar, windows
from forecasting.lstm.network import DemandLSTM, NetworkConfig, negative_binomial_nll
from forecasting.lstm.training import TrainingConfig

FIXTURE = Path(__file__).parent / "data" / "lstm_format1"
TINY = NetworkConfig(hidden=16, id_buckets=64, id_dim=4, location_buckets=8, category_buckets=8, small_dim=2)


def history(y: np.ndarray, end_day: int = 19_000, observed: np.ndarray | None = None) -> DemandHistory:
    ids = np.array([f"s{i}|L" for i in range(len(y))], dtype=object)
    seen = np.ones(y.shape, bool) if observed is None else observed
    return DemandHistory(ids, y.astype(np.float32), end_day, seen)


def test_windows_have_the_declared_shapes_and_mask_days_before_the_history() -> None:
    y = np.arange(20, dtype=float)[None, :].repeat(2, axis=0)
    h = history(y)
    args = (h, np.zeros((2, 3), np.int64), np.array([0, 1]), np.array([5, 20]), 8, 4, False)
    batch = windows(*args, yearly=True, locations=np.array(["L", "L"], dtype=object))
    assert batch.past.shape == (2, 8, PAST) and batch.future.shape == (2, 4, FUTURE)
    first_layout = windows(*args, yearly=True)  # networks saved before the event flags
    assert first_layout.past.shape == (2, 8, PAST_V1) and first_layout.future.shape == (2, 4, FUTURE_V1)
    np.testing.assert_array_equal(first_layout.past, batch.past[..., :PAST_V1])
    assert batch.past[0, :3, 1].tolist() == [0, 0, 0] and batch.past[0, :3, 0].tolist() == [0, 0, 0]
    assert batch.scale[0] == pytest.approx(1 + np.mean([0, 1, 2, 3, 4]))
    assert batch.past[0, 3:, 0] * batch.scale[0] == pytest.approx([0, 1, 2, 3, 4])
    shapes = DemandLSTM.input_shapes(8, 4)
    assert shapes["past"][1:] == (8, PAST) and shapes["future"][1:] == (4, FUTURE)
    assert calendar(np.array([0]))[0, :7].tolist() == [0, 0, 0, 1, 0, 0, 0], "1970-01-01 was a Thursday"


def test_without_yearly_cycles_the_month_and_day_of_year_are_zero_and_the_weekday_stays() -> None:
    h = history(np.ones((1, 30)))
    args = (h, np.zeros((1, 3), np.int64), np.array([0]), np.array([30]), 8, 4, False)
    with_year, without = windows(*args, yearly=True), windows(*args, yearly=False)
    calendar_at = PAST_V1 - 11  # the calendar is the last block of the first layout's past features
    assert np.abs(with_year.past[..., calendar_at + 7 :]).sum() > 0 and np.abs(with_year.future[..., 7:11]).sum() > 0
    assert not without.past[..., calendar_at + 7 :].any() and not without.future[..., 7:11].any()
    np.testing.assert_array_equal(without.past[..., : calendar_at + 7], with_year.past[..., : calendar_at + 7])
    np.testing.assert_array_equal(without.future[..., :7], with_year.future[..., :7])


def test_a_model_trained_on_under_two_years_drops_the_yearly_calendar_through_save_and_load(
    weekly, tmp_path: Path
) -> None:
    train, _, model = weekly
    assert train.days < 730 and model.facts["yearly_calendar"] is False and model.yearly is False
    model.save(tmp_path / "model")
    assert LSTMPredictor.load(tmp_path / "model", device="cpu").yearly is False
    with_year = LSTMPredictor(model.network, model.config, {**model.facts, "yearly_calendar": True}, device="cpu")
    assert with_year.version != model.version, "the calendar choice is part of what the version names"
    assert not np.array_equal(with_year.predict(train, 28).mean, model.predict(train, 28).mean)


def test_likelihood_matches_torch_negative_binomial() -> None:
    y, mu, alpha = torch.tensor([[0.0, 3.0, 7.0]]), torch.tensor([[0.5, 2.0, 6.0]]), torch.tensor([[0.3, 0.1, 1.2]])
    r = 1 / alpha
    expected = -torch.distributions.NegativeBinomial(total_count=r, probs=mu / (mu + r)).log_prob(y).mean()
    assert float(negative_binomial_nll(y, mu, alpha, torch.ones_like(y, dtype=torch.bool))) == pytest.approx(
        float(expected), rel=1e-5
    )


@pytest.fixture(scope="module")
def weekly() -> tuple[DemandHistory, np.ndarray, LSTMPredictor]:
    rng = np.random.default_rng(0)
    week = np.array([1, 1, 1, 2, 4, 6, 3], float)
    level = rng.uniform(0.5, 5, 120)
    lam = level[:, None] * week[(np.arange(182) + 3) % 7][None, :]
    y = rng.poisson(lam).astype(float)
    train = history(y[:, :-28], end_day=153)
    config = LSTMConfig(TINY, TrainingConfig(windows_per_epoch=4096, max_epochs=12, batch_size=128, seed=3))
    return train, y[:, -28:], LSTMEstimator(config).fit(train, device="cpu")


def test_a_clear_weekly_pattern_beats_the_moving_average(weekly) -> None:
    train, actual, model = weekly
    assert isinstance(model, Forecaster)
    lstm = np.mean((model.predict(train, 28).mean - actual) ** 2)
    baseline = np.mean((MovingAverageForecaster().predict(train, 28).mean - actual) ** 2)
    assert lstm < 0.6 * baseline, (lstm, baseline)


def test_quantiles_are_monotone_and_save_load_gives_identical_forecasts(weekly, tmp_path: Path) -> None:
    train, _, model = weekly
    forecast = model.predict(train, 35)  # beyond the trained horizon the last day repeats
    assert forecast.mean.shape == (120, 35) and np.array_equal(forecast.mean[:, 28:], forecast.mean[:, [27] * 7])
    q = count_quantiles(forecast.mean, forecast.variance, (0.025, 0.25, 0.5, 0.75, 0.975))
    assert np.all(np.diff(q, axis=-1) >= 0)
    model.save(tmp_path / "model", metrics={"note": "test"})
    loaded = LSTMPredictor.load(tmp_path / "model", device="cpu")
    assert loaded.version == model.version
    np.testing.assert_array_equal(loaded.predict(train, 35).mean, forecast.mean)


def test_the_lead_time_total_matches_summed_negative_binomial_days(weekly) -> None:
    """The documented approximation: days independent, each negative binomial with the network's moments; the
    period total's moments add up, and its count quantiles match simulated sums of the days."""
    train, _, model = weekly
    forecast = model.predict(train, 28)
    days = np.array([7.0, 10.5, 28.0])[np.arange(train.n) % 3]
    period = forecast.over_period(days)
    rng = np.random.default_rng(0)
    mu, var = forecast.mean, forecast.variance
    r = mu**2 / np.maximum(var - mu, 1e-9)
    draws = rng.negative_binomial(r[None], (r / (r + mu))[None], size=(4000, *mu.shape)).astype(float)
    weights = np.clip(days[:, None] - np.arange(28)[None, :], 0.0, 1.0)
    totals = np.einsum("snh,nh->sn", draws, weights)
    np.testing.assert_allclose(period.mean, totals.mean(axis=0), rtol=0.03)
    np.testing.assert_allclose(period.std, totals.std(axis=0), rtol=0.1)
    q = count_quantiles(period.mean[:, None], period.std[:, None] ** 2, (0.5, 0.9))[:, 0]
    simulated = np.quantile(totals, [0.5, 0.9], axis=0).T
    assert np.mean(np.abs(q - simulated) <= np.maximum(1.0, 0.05 * simulated)) > 0.95


def test_short_series_fall_back_and_say_so(weekly) -> None:
    _, _, model = weekly
    y = np.zeros((2, 100))
    y[0, :] = 3
    y[1, -5:] = [1, 0, 2, 0, 1]
    observed = np.ones(y.shape, bool)
    observed[1, :-5] = False  # launched five days ago
    forecast = model.predict(history(y, observed=observed), 7)
    assert forecast.method.tolist() == ["lstm", "tsb_fallback"]


def test_an_artifact_of_the_first_format_still_loads() -> None:
    model = LSTMPredictor.load(FIXTURE, device="cpu")
    assert model.version == "lstm-c6dd5d135646" and model.yearly, "older artifacts were trained with the month"
    y = np.random.default_rng(1).poisson(2.0, (8, 120)).astype(float)
    mean = model.predict(history(y), 14).mean
    np.testing.assert_allclose(
        mean[:2, :3], [[1.908635, 1.827549, 1.882577], [2.188059, 2.001789, 2.039588]], rtol=1e-5
    )


def test_a_missing_or_foreign_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match=r"config\.json"):
        LSTMPredictor.load(tmp_path)
    (tmp_path / "config.json").write_text('{"format": 99}')
    (tmp_path / "weights.pt").write_bytes(b"")
    with pytest.raises(ArtifactError, match="format 99"):
        LSTMPredictor.load(tmp_path)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_cuda_scoring_matches_cpu(weekly) -> None:
    train, _, model = weekly
    gpu = LSTMPredictor(model.network, model.config, model.facts, device="cuda")
    cpu = LSTMPredictor(model.network, model.config, model.facts, device="cpu")
    np.testing.assert_allclose(gpu.predict(train, 28).mean, cpu.predict(train, 28).mean, rtol=1e-4, atol=1e-5)
