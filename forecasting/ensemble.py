"""A weighted average of trained forecasters, and the loader of any model folder restock writes.

Why fixed weights: the backtest compares the members and their averages on the same origins (the M5 winners
averaged models the same way); weights fitted per training run would need a second hold-out period the data
rarely affords. Members' daily means and variances are averaged with the weights on every row, also where a
member fell back (its method ends in ``_fallback``: too little history for the LSTM, which then gives TSB):
keeping the fallback's forecast alone on those rows raised the backtest's WRMSSE from 0.835 to 0.838. Such rows
are named ``ensemble_tsb_fallback``, so a new item's command still says why.

The default ensemble is the LSTM, LightGBM and Croston-SBA weighted 2 : 2 : 1 (``DEFAULT_WEIGHTS``): their
biases differ in sign on the backtest (-8 %, -21 %, +10 %), so Croston keeps the total's bias within 10 %; as
the weakest member alone (WRMSSE 0.867 against 0.828 and 0.838) it gets half a learned model's weight, which
scored 0.8277 against 0.8295 for equal thirds (``benchmarks/README.md``; chosen on the same origins).

Folder: ``config.json`` (``class``, ``format``, ``members``, ``weights``, ``model_version``; a folder without
``weights``, from before them, averages equally) with one subfolder per member,
each the member's own artifact (a statistical baseline's is its settings, ``baseline.json``). ``config.json``
is written last, by rename, and names the members' versions; :func:`load_model` refuses a folder whose members
do not hash to them (a copy in progress).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from forecasting.base import Forecaster
from forecasting.baselines import IntermittentForecaster
from forecasting.errors import ArtifactError, ArtifactMismatch, ForecastError
from forecasting.forecast import DemandForecast
from forecasting.gbt import GradientBoostedForecaster
from forecasting.history import DemandHistory
from forecasting.lstm.estimator import CONFIG_FILE, LSTMPredictor

FORMAT = 1
METHOD = "ensemble"
BASELINE_FILE = "baseline.json"
DEFAULT_WEIGHTS = {"lstm": 0.4, "lightgbm": 0.4, "croston": 0.2}


def _save_baseline(member: IntermittentForecaster, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    settings = {"variant": member.variant, "alpha": member.alpha, "beta": member.beta, "model_version": member.version}
    partial = folder / f".{BASELINE_FILE}.tmp"
    partial.write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n")
    os.replace(partial, folder / BASELINE_FILE)


def _load_baseline(folder: Path) -> IntermittentForecaster:
    path = folder / BASELINE_FILE
    if not path.is_file():
        raise ArtifactError(f"{folder}: no {BASELINE_FILE} (a copy in progress?)")
    raw = json.loads(path.read_text())
    return IntermittentForecaster(raw["variant"], float(raw["alpha"]), float(raw["beta"]))


def normalised(weights: list[float] | tuple[float, ...] | None, count: int) -> npt.NDArray[np.float64]:
    """Weights summing to 1 (equal when ``None``); they must be finite, >= 0 and not all 0."""
    w = np.ones(count) if weights is None else np.asarray(weights, np.float64)
    if w.shape != (count,) or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ForecastError(f"ensemble weights: expected {count} finite weights >= 0, not all 0; got {weights}")
    result: npt.NDArray[np.float64] = w / w.sum()
    return result


def combine(
    name: str, parts: list[DemandForecast], weights: list[float] | tuple[float, ...] | None = None
) -> DemandForecast:
    """Average the members' daily means and variances on every row with ``weights`` (equal when ``None``); a row
    where a member fell back is named ``{name}_{member's method}`` (e.g. ``ensemble_tsb_fallback``), so its
    command still says why."""
    w = normalised(weights, len(parts))
    mean = np.tensordot(w, np.stack([p.mean for p in parts]), axes=1)
    variance = np.tensordot(w, np.stack([p.variance for p in parts]), axes=1)
    method = np.full(len(mean), name, dtype=object)
    for part in parts:
        fell_back = np.char.endswith(part.method.astype(str), "_fallback")
        method[fell_back] = [f"{name}_{m}" for m in part.method[fell_back]]
    version = name + "(" + "+".join(p.model_version for p in parts) + ")"
    return DemandForecast(mean, variance, method.astype(np.str_), version)


class EnsemblePredictor:
    """Trained members behind the ``Forecaster`` protocol; ``predict`` forwards static columns to the LSTM."""

    def __init__(self, members: Mapping[str, Forecaster], weights: Mapping[str, float] | None = None) -> None:
        if not members:
            raise ForecastError("an ensemble needs at least one member")
        self.members = dict(sorted(members.items()))  # by name: a float sum of three depends on the order
        if weights is not None and set(weights) != set(self.members):
            raise ForecastError(f"ensemble weights name {sorted(weights)}, the members are {sorted(self.members)}")
        raw = None if weights is None else [weights[name] for name in self.members]
        self.weights = dict(zip(self.members, normalised(raw, len(self.members)).tolist(), strict=True))
        joined = "+".join(f"{name}={m.version}" for name, m in sorted(self.members.items()))
        if len(set(self.weights.values())) > 1:  # equal weights keep the version of the folders before weights
            joined += "|" + ",".join(f"{name}={w!r}" for name, w in self.weights.items())
        self._version = f"{METHOD}-{hashlib.sha256(joined.encode()).hexdigest()[:12]}"

    @property
    def name(self) -> str:
        return METHOD

    @property
    def version(self) -> str:
        return self._version

    def predict(
        self, history: DemandHistory, horizon: int, *, locations: npt.NDArray[Any] | None = None,
        categories: npt.NDArray[Any] | None = None,
    ) -> DemandForecast:  # fmt: skip
        parts = [
            m.predict(history, horizon, locations=locations, categories=categories)
            if isinstance(m, LSTMPredictor)
            else m.predict(history, horizon)
            for m in self.members.values()
        ]
        combined = combine(METHOD, parts, list(self.weights.values()))
        return DemandForecast(combined.mean, combined.variance, combined.method, self.version)

    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name, member in self.members.items():
            if isinstance(member, IntermittentForecaster):
                _save_baseline(member, folder / name)
            elif isinstance(member, LSTMPredictor | GradientBoostedForecaster):
                member.save(folder / name)
            else:
                raise ForecastError(f"member {name}: {type(member).__name__} cannot be saved")
        config = {
            "format": FORMAT,
            "class": f"{type(self).__module__}.{type(self).__name__}",
            "model_version": self.version,
            "members": {name: m.version for name, m in self.members.items()},
            "weights": self.weights,
        }
        partial = folder / f".{CONFIG_FILE}.tmp"
        partial.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
        os.replace(partial, folder / CONFIG_FILE)
        return folder


MEMBER_KINDS = ("lstm", "lightgbm", "croston", "tsb")  # a member's folder name starts with its kind


def load_model(folder: str | Path, device: str = "auto") -> LSTMPredictor | EnsemblePredictor:
    """Whatever ``restock train`` wrote into ``folder``: an LSTM or an ensemble (by ``config.json``'s class)."""
    folder = Path(folder)
    path = folder / CONFIG_FILE
    if not path.is_file():
        raise ArtifactError(f"{folder}: no {CONFIG_FILE}; train a model into it first (restock train --out)")
    raw = json.loads(path.read_text())
    if raw.get("class") != f"{__name__}.{EnsemblePredictor.__name__}":
        return LSTMPredictor.load(folder, device=device)
    if raw.get("format") != FORMAT:
        raise ArtifactError(f"{folder}: ensemble format {raw.get('format')!r}, this version reads {FORMAT}")
    members: dict[str, Forecaster] = {}
    for name, version in raw["members"].items():
        kind = name.split("_", 1)[0]
        if kind == "lstm":
            members[name] = LSTMPredictor.load(folder / name, device=device)
        elif kind == "lightgbm":
            members[name] = GradientBoostedForecaster.load(folder / name)
        elif kind in ("croston", "tsb"):
            members[name] = _load_baseline(folder / name)
        else:
            raise ArtifactError(f"{folder}: unknown member kind {name!r}; expected one of {MEMBER_KINDS}")
        if members[name].version != version:
            raise ArtifactMismatch(f"{folder}/{name}: version {members[name].version}, config names {version}")
    model = EnsemblePredictor(members, raw.get("weights"))
    if model.version != raw["model_version"]:
        raise ArtifactMismatch(f"{folder}: members hash to {model.version}, config names {raw['model_version']}")
    return model
