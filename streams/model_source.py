"""The worker's forecaster: the newest trained artifact in ``RESTOCK_MODEL_DIR``, swapped in without a restart.

Why a folder that is polled: ``restock train --out DIR`` (or a CI job that copies a model) writes into the
folder the worker reads; the worker checks the folder's ``config.json`` at most every ``model_check_s`` seconds
(one ``stat``) and loads a changed artifact before the next decision pass. A load is accepted only when the
weights hash to the ``model_version`` the config names, so a folder caught half-written is retried at the next
check instead of serving mismatched weights; an artifact that fails to load leaves the current model serving.
Until the folder holds a model (or with no folder set), the moving-average baseline serves.

Every command carries the ``model_version`` of the forecast it came from. The command id does not (it is
``sku|location|policy_version|window``): a decision re-run after a crash under a newly loaded model keeps its
id, so the warehouse still sees it as the same command.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from forecasting import DemandForecast, DemandHistory, Forecaster
from forecasting.ensemble import load_model
from forecasting.errors import ArtifactMismatch, ForecastError
from forecasting.lstm.estimator import CONFIG_FILE
from streams.metrics import WorkerMetrics

log = logging.getLogger("restock.model")


@dataclass(frozen=True)
class _Seen:
    """What the folder held at the last check: (mtime_ns, size) of ``config.json``, which every artifact
    writes last (by rename), after the files it names."""

    config: tuple[int, int]


class ModelDirectory:
    """A ``Forecaster`` that serves the artifact in ``folder``, or ``fallback`` until one loads."""

    def __init__(
        self, folder: Path, fallback: Forecaster, *, device: str = "auto", check_s: float = 30.0,
        metrics: WorkerMetrics | None = None, clock: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        self.folder = folder
        self.fallback = fallback
        self.device = device
        self.check_s = check_s
        self.metrics = metrics
        self.clock = clock
        self.current: Forecaster = fallback
        self._seen: _Seen | None = None
        self._checked_at = -float("inf")
        self._publish()
        self.refresh(force=True)

    @property
    def name(self) -> str:
        return self.current.name

    @property
    def version(self) -> str:
        return self.current.version

    def predict(self, history: DemandHistory, horizon: int) -> DemandForecast:
        self.refresh()
        return self.current.predict(history, horizon)

    def refresh(self, force: bool = False) -> bool:
        """Load the folder's artifact if it changed since the last check; True when a new model was swapped in."""
        now = self.clock()
        if not force and now - self._checked_at < self.check_s:
            return False
        self._checked_at = now
        seen = self._stat()
        if seen is None or seen == self._seen:
            return False
        try:
            loaded = load_model(self.folder, device=self.device)
        except ArtifactMismatch as exc:
            self._count("incomplete")
            log.warning("model folder is being written; retrying at the next check",
                        extra={"folder": str(self.folder), "error": str(exc)})  # fmt: skip
            return False
        except (ForecastError, OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            self._count("failed")
            log.error("model load failed; the current model keeps serving",
                      extra={"folder": str(self.folder), "error": str(exc), "serving": self.version})  # fmt: skip
            self._seen = seen  # retried when the files change again
            return False
        self._seen = seen
        if loaded.version == self.current.version:
            return False
        previous, self.current = self.current.version, loaded
        self._count("loaded")
        self._publish()
        log.info("model loaded", extra={"folder": str(self.folder), "model_version": loaded.version,
                                        "previous": previous, "device": self.device})  # fmt: skip
        return True

    def _stat(self) -> _Seen | None:
        try:
            config = (self.folder / CONFIG_FILE).stat()
        except OSError:
            return None
        return _Seen((config.st_mtime_ns, config.st_size))

    def _publish(self) -> None:
        if self.metrics is not None:
            self.metrics.model_info.clear()
            self.metrics.model_info.labels(self.current.version).set(1)

    def _count(self, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.model_loads.labels(outcome).inc()
