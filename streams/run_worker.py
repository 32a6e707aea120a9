"""Runs one worker process: metrics endpoint, the batch engine, a clean stop on SIGINT/SIGTERM."""

from __future__ import annotations

import logging
import logging.config
import signal
import threading

from prometheus_client import start_http_server

from streams.engine.worker import BatchWorker
from streams.errors import ConfigurationError
from streams.logs import logging_config
from streams.metrics import WorkerMetrics
from streams.settings import Settings


def run_worker(settings: Settings) -> None:
    """Block until the worker is stopped by a signal."""
    if not settings.bootstrap_servers:
        raise ConfigurationError(
            "RESTOCK_BOOTSTRAP_SERVERS is not set: point it at Kafka (host:port), or run `restock demo`, "
            "which starts the embedded broker"
        )
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    metrics = WorkerMetrics()
    if settings.web_port:
        start_http_server(settings.web_port, addr=settings.web_bind, registry=metrics.registry)
    run_batch(settings, settings.bootstrap_servers, metrics)


def run_batch(settings: Settings, bootstrap_servers: str, metrics: WorkerMetrics) -> None:
    """The batch engine until SIGINT or SIGTERM; it then writes what it holds and leaves the group."""
    logging.config.dictConfig(logging_config(settings.log_level))
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    BatchWorker(settings, bootstrap_servers, metrics).run(stop.is_set)
