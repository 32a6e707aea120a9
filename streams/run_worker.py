"""Runs one worker process: metrics endpoint, Faust worker, clean shutdown on SIGINT/SIGTERM."""

from __future__ import annotations

import logging
import logging.config
import shutil
import signal
import threading
from pathlib import Path

import faust
from prometheus_client import start_http_server

from streams.app import create_app
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
    if settings.engine == "batch":
        run_batch(settings, settings.bootstrap_servers, metrics)
        return
    marker = clean_shutdown_marker(settings)
    discard_state_after_crash(settings.state_dir, marker)
    worker = create_app(settings, settings.bootstrap_servers, metrics)
    try:
        faust.Worker(
            worker.app,
            loglevel=settings.log_level,
            quiet=True,
            logging_config=logging_config(settings.log_level),
            redirect_stdouts=False,
        ).execute_from_commandline()
    except SystemExit as exit_:
        if exit_.code in (0, None):
            marker.touch()
        raise


def run_batch(settings: Settings, bootstrap_servers: str, metrics: WorkerMetrics) -> None:
    """The batch engine until SIGINT or SIGTERM; it then writes what it holds and leaves the group."""
    logging.config.dictConfig(logging_config(settings.log_level))
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    BatchWorker(settings, bootstrap_servers, metrics).run(stop.is_set)


def clean_shutdown_marker(settings: Settings) -> Path:
    return settings.state_dir / ".clean-shutdown"


def discard_state_after_crash(state_dir: Path, marker: Path) -> None:
    """Drop local RocksDB tables unless the last run stopped cleanly; they are rebuilt from the changelogs.

    Faust writes RocksDB at once and the changelog asynchronously, so after a kill -9 the local files can hold
    writes the changelog never received. Trusting them would leave this worker's state ahead of what any other
    worker (or this one, after a rebalance) recovers; replaying the changelog gives every worker the same state.
    """
    tables = [path for path in state_dir.glob("v*/tables") if path.is_dir()]
    if tables and not marker.exists():
        logging.getLogger("restock.worker").warning(
            "previous run did not stop cleanly; rebuilding state from the changelog",
            extra={"dirs": [str(t) for t in tables]},
        )
        for path in tables:
            shutil.rmtree(path)
    marker.unlink(missing_ok=True)
