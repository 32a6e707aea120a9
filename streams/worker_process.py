"""Starts and stops a worker in a child process (demo, benchmark, tests) and reads its metrics endpoint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from streams.errors import BrokerError


@dataclass
class WorkerProcess:
    """``restock worker`` as a subprocess with its own environment (``RESTOCK_*`` settings)."""

    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    metrics_port: int = field(init=False, default=0)

    def start(self) -> WorkerProcess:
        self.metrics_port = int(self.env.get("RESTOCK_WEB_PORT", "0"))
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "streams.cli", "worker"],
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout_s: float = 20.0) -> int | None:
        """SIGINT (a clean stop: the worker writes what it holds, leaves the group), SIGKILL after ``timeout_s``."""
        proc, self.process = self.process, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        return proc.returncode

    def kill9(self) -> None:
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)

    def metrics(self) -> dict[str, float]:
        """Current samples as ``{"name{label=value,...}": value}``; empty while the endpoint is not up."""
        if not self.metrics_port:
            return {}
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=2) as response:
                text = response.read().decode()
        except OSError:
            return {}
        samples: dict[str, float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                samples[f"{sample.name}{{{labels}}}"] = sample.value
        return samples

    def consumed(self) -> int:
        """Input events the worker has finished with: rejected at decode or processed (each counted once)."""
        return int(
            sum(
                v for k, v in self.metrics().items() if k.startswith("restock_events_total{") and "redelivered" not in k
            )
        )

    def wait_consumed(self, total: int, timeout_s: float, on_progress: object = None) -> int:
        deadline = time.monotonic() + timeout_s
        seen = 0
        while time.monotonic() < deadline:
            if not self.alive():
                raise BrokerError(f"the worker exited; see {self.log_path}")
            seen = self.consumed()
            if callable(on_progress):
                on_progress(seen)
            if seen >= total:
                return seen
            time.sleep(0.5)
        return seen

    def progress(self) -> tuple[int, float, float]:
        """Events finished, commands published, state records written: all still once the worker is done."""
        metrics = self.metrics()
        return (
            self.consumed(),
            metrics.get("restock_commands_total{}", 0.0),
            metrics.get("restock_changelog_writes_total{}", 0.0),
        )

    def wait_settled(self, minimum: int, quiet_s: float, timeout_s: float) -> bool:
        """Wait until ``minimum`` events are finished and nothing moved for ``quiet_s``; False on timeout.

        Choose ``quiet_s`` above ``RESTOCK_TOPIC_IDLE_S``: the last decisions of a replay wait for its topics to
        go quiet.
        """
        deadline = time.monotonic() + timeout_s
        last, changed = self.progress(), time.monotonic()
        while time.monotonic() < deadline:
            if not self.alive():
                raise BrokerError(f"the worker exited; see {self.log_path}")
            now = self.progress()
            if now != last:
                last, changed = now, time.monotonic()
            elif now[0] >= minimum and time.monotonic() - changed >= quiet_s:
                return True
            time.sleep(0.25)
        return False
