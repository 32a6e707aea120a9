"""The estimator (transforms + training -> predictor) and the predictor (a ``Forecaster``) with its artifact.

Artifact folder: ``config.json`` (class, versions, hyper-parameters, feature and scaling metadata, data
fingerprint, training figures, free-form metrics) and ``weights.pt`` (the network's ``state_dict``, loaded with
``weights_only=True``; no pickles). :meth:`LSTMPredictor.load` rebuilds the network from the config.

Level calibration: the network is trained on the negative-binomial likelihood, which on lumpy demand settles
below the mean (big orders are explained by dispersion more cheaply than by level); the ratio of actual to
forecast total on the validation period (clipped to [0.5, 2]) rescales every mean, and is stored as ``level``.

Series with fewer than ``min_history`` observed days get the fallback forecaster (TSB, robust for new and
intermittent items) and their ``method`` says so; every other series gets the network's negative binomial:
mean ``mu`` and variance ``mu + alpha mu^2`` per day. Period totals (lead time + review period) come from
:meth:`DemandForecast.over_period`, which adds the days' moments (independent days);
``forecasting.count_quantiles`` turns a period's moments into count quantiles by a moment-matched negative
binomial, exact when the days share a dispersion.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from forecasting.baselines import IntermittentForecaster
from forecasting.errors import ArtifactError, ArtifactMismatch, ForecastError
from forecasting.forecast import DemandForecast
from forecasting.history import DemandHistory, has_yearly_cycles
from forecasting.lstm.features import CALENDAR, FUTURE, FUTURE_V1, PAST, PAST_V1, bucket, windows
from forecasting.lstm.network import DemandLSTM, NetworkConfig
from forecasting.lstm.training import Progress, TrainingConfig, to_tensors, train

ARTIFACT_FORMAT = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.pt"
METHOD = "lstm"


@dataclass(frozen=True)
class LSTMConfig:
    network: NetworkConfig = field(default_factory=NetworkConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    min_history: int = 14
    refit: bool = True  # retrain on the whole history for the early-stopped number of epochs
    calibrate_level: bool = False  # scale means by the validation period's actual/forecast total (in [0.5, 2])


def resolve_device(choice: str) -> torch.device:
    """``auto`` (CUDA when available), ``cpu`` or ``cuda``; asking for CUDA without one is an error."""
    if choice not in ("auto", "cpu", "cuda"):
        raise ForecastError(f"device: expected auto, cpu or cuda, got {choice!r}")
    if choice == "cuda" and not torch.cuda.is_available():
        raise ForecastError("device=cuda but torch sees no CUDA device; use --device auto or cpu")
    return torch.device("cuda" if choice != "cpu" and torch.cuda.is_available() else "cpu")


def static_ids(
    series_ids: npt.NDArray[Any], network: NetworkConfig, locations: npt.NDArray[Any] | None = None,
    categories: npt.NDArray[Any] | None = None,
) -> npt.NDArray[np.int64]:  # fmt: skip
    """``[n, 3]`` hashed buckets of id, location (:func:`location_names`) and category (unknown by default)."""
    ids = np.asarray(series_ids, dtype=object)
    locations = location_names(ids, locations)
    if categories is None:
        categories = np.full(len(ids), "", dtype=object)
    return np.stack(
        [
            bucket(ids, network.id_buckets),
            bucket(np.asarray(locations, dtype=object), network.location_buckets),
            bucket(np.asarray(categories, dtype=object), network.category_buckets),
        ],
        axis=1,
    )


def location_names(series_ids: npt.NDArray[Any], locations: npt.NDArray[Any] | None) -> npt.NDArray[np.object_]:
    """``locations`` as given, else the part of a ``sku|location`` id after the bar (the worker's keys)."""
    if locations is not None:
        return np.asarray(locations, dtype=object)
    return np.array([str(i).split("|", 1)[1] if "|" in str(i) else "" for i in series_ids], dtype=object)


def fingerprint(history: DemandHistory) -> str:
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(history.demand).tobytes())
    digest.update(np.ascontiguousarray(history.observed).tobytes())
    digest.update(str(history.end_day).encode())
    digest.update("\n".join(map(str, history.series_ids.tolist())).encode())
    return digest.hexdigest()[:16]


class LSTMEstimator:
    def __init__(self, config: LSTMConfig | None = None) -> None:
        self.config = config or LSTMConfig()

    def fit(
        self, history: DemandHistory, *, locations: npt.NDArray[Any] | None = None,
        categories: npt.NDArray[Any] | None = None, device: str = "auto",
        progress: Progress = lambda _: None,
    ) -> LSTMPredictor:  # fmt: skip
        torch.manual_seed(self.config.training.seed)
        network = DemandLSTM(self.config.network)
        names = location_names(history.series_ids, locations)
        ids = static_ids(history.series_ids, self.config.network, names, categories)
        chosen = resolve_device(device)
        yearly = has_yearly_cycles(history.days)
        where = names if self.config.network.past_features == PAST else None
        result = train(network, history, ids, self.config.training, chosen, progress, yearly=yearly, locations=where)
        if self.config.refit:
            torch.manual_seed(self.config.training.seed)
            network = DemandLSTM(self.config.network)
            refit = train(network, history, ids, self.config.training, chosen, progress, epochs=result.best_epoch,
                          yearly=yearly, locations=where)  # fmt: skip
        facts = {
            "data_fingerprint": fingerprint(history),
            "series": history.n,
            "days": history.days,
            "end_day": history.end_day,
            "epochs": result.epochs,
            "best_epoch": result.best_epoch,
            "validation_nll": result.best_validation_nll,
            "training_seconds": round(result.seconds + (refit.seconds if self.config.refit else 0.0), 1),
            "refit": self.config.refit,
            "level": float(np.clip(result.level_ratio, 0.5, 2.0)) if self.config.calibrate_level else 1.0,
            "yearly_calendar": yearly,
            "event_calendar": history.calendar is not None,
        }
        network.load_state_dict(refit.state if self.config.refit else result.state)
        return LSTMPredictor(network.cpu().eval(), self.config, facts)


class LSTMPredictor:
    """A trained network behind the ``Forecaster`` protocol."""

    def __init__(self, network: DemandLSTM, config: LSTMConfig, facts: dict[str, Any], device: str = "auto") -> None:
        self.config = config
        self.facts = facts
        self.device = resolve_device(device)
        self.network = network.to(self.device).eval()
        self.fallback = IntermittentForecaster("tsb")
        self.level = float(facts.get("level", 1.0))
        self.yearly = bool(facts.get("yearly_calendar", True))  # artifacts before the choice all had it
        weights = b"".join(t.detach().cpu().numpy().tobytes() for t in network.state_dict().values())
        calibration = b"" if self.level == 1.0 else repr(self.level).encode()
        calendar = b"" if self.yearly else b"no-yearly-calendar"
        self._version = f"{METHOD}-{hashlib.sha256(weights + calibration + calendar).hexdigest()[:12]}"

    @property
    def name(self) -> str:
        return METHOD

    @property
    def version(self) -> str:
        return self._version

    def predict(
        self, history: DemandHistory, horizon: int, *, locations: npt.NDArray[Any] | None = None,
        categories: npt.NDArray[Any] | None = None, batch_size: int = 16_384,
    ) -> DemandForecast:  # fmt: skip
        """All series in batched forward passes under ``inference_mode``; beyond the trained horizon the last
        day's moments repeat."""
        trained = self.config.training.horizon
        n = history.n
        names = location_names(history.series_ids, locations)
        ids = static_ids(history.series_ids, self.config.network, names, categories)
        flags = self.config.network.past_features == PAST  # networks of the first layout have no event flags
        where = names if flags else None
        mean = np.zeros((n, trained))
        variance = np.zeros((n, trained))
        origins = np.full(n, history.days)
        with torch.inference_mode():
            for start in range(0, n, batch_size):
                rows = np.arange(start, min(start + batch_size, n))
                batch = windows(history, ids, rows, origins[rows], self.config.training.context, trained, False,
                                yearly=self.yearly, locations=where)  # fmt: skip
                mu, alpha = self.network(**to_tensors(batch, self.device))
                mu = mu * self.level
                mean[rows] = mu.double().cpu().numpy()
                variance[rows] = (mu + alpha * mu * mu).double().cpu().numpy()
        columns = np.minimum(np.arange(horizon), trained - 1)
        mean, variance = mean[:, columns], variance[:, columns]
        short = history.observed_days() < self.config.min_history
        method = np.full(n, METHOD, dtype=object)
        if short.any():
            fallback = self.fallback.predict(_rows(history, short), horizon)
            mean[short], variance[short] = fallback.mean, fallback.variance
            method[short] = f"{self.fallback.name}_fallback"
        return DemandForecast(mean, variance, method.astype(np.str_), self.version)

    def save(self, folder: str | Path, metrics: dict[str, Any] | None = None) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        config = {
            "format": ARTIFACT_FORMAT,
            "class": f"{type(self).__module__}.{type(self).__name__}",
            "model_version": self.version,
            "versions": {"torch": torch.__version__, "python": platform.python_version(), "numpy": np.__version__},
            "network": asdict(self.config.network),
            "training": asdict(self.config.training),
            "min_history": self.config.min_history,
            "refit": self.config.refit,
            "calibrate_level": self.config.calibrate_level,
            "features": {
                "past": self.config.network.past_features,
                "future": self.config.network.future_features,
                "calendar": CALENDAR,
                "scaling": "1 + mean observed demand of the context",
            },
            "facts": self.facts,
            "metrics": metrics or {},
        }
        # each file appears whole (rename), weights before config: a worker polling the folder sees either the
        # old pair, new weights with the old config (refused: the version does not match), or the new pair
        torch.save(self.network.state_dict(), folder / f".{WEIGHTS_FILE}.tmp")
        os.replace(folder / f".{WEIGHTS_FILE}.tmp", folder / WEIGHTS_FILE)
        (folder / f".{CONFIG_FILE}.tmp").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
        os.replace(folder / f".{CONFIG_FILE}.tmp", folder / CONFIG_FILE)
        return folder

    @classmethod
    def load(cls, folder: str | Path, device: str = "auto") -> LSTMPredictor:
        folder = Path(folder)
        config_path, weights_path = folder / CONFIG_FILE, folder / WEIGHTS_FILE
        if not config_path.is_file() or not weights_path.is_file():
            raise ArtifactError(f"{folder}: expected {CONFIG_FILE} and {WEIGHTS_FILE}; train a model into it first")
        raw = json.loads(config_path.read_text())
        if raw.get("format") != ARTIFACT_FORMAT:
            raise ArtifactError(
                f"{folder}: artifact format {raw.get('format')!r}, this version reads {ARTIFACT_FORMAT}"
            )
        layout = (raw["features"]["past"], raw["features"]["future"])
        if layout not in ((PAST, FUTURE), (PAST_V1, FUTURE_V1)):
            raise ArtifactError(f"{folder}: built for other features ({raw['features']}); retrain it")
        network_settings = {"past_features": layout[0], "future_features": layout[1], **raw["network"]}
        config = LSTMConfig(
            NetworkConfig(**network_settings),
            TrainingConfig(**raw["training"]),
            raw["min_history"],
            raw.get("refit", False),
        )
        network = DemandLSTM(config.network)
        network.load_state_dict(torch.load(weights_path, map_location="cpu", weights_only=True))
        predictor = cls(network, config, raw["facts"], device)
        if predictor.version != raw["model_version"]:
            raise ArtifactMismatch(f"{folder}: {WEIGHTS_FILE} hashes to {predictor.version}, {CONFIG_FILE} names "
                                   f"{raw['model_version']} (a copy in progress?)")  # fmt: skip
        return predictor


def _rows(history: DemandHistory, keep: npt.NDArray[np.bool_]) -> DemandHistory:
    return DemandHistory(
        history.series_ids[keep], history.demand[keep], history.end_day, history.observed[keep],
        None if history.clicks is None else history.clicks[keep],
        None if history.price is None else history.price[keep], history.calendar,
    )  # fmt: skip
