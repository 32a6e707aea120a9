"""Integration harness: the embedded broker, per-test topics and app ids, and a worker in a subprocess."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from streams.admin import create_topics
from streams.embedded_broker import free_loopback_port
from streams.publish import publish
from streams.sample_events import OutboundMessage
from streams.settings import Settings
from streams.state_export import read_changelog
from streams.topic_reader import read_topic
from streams.worker_process import WorkerProcess


@dataclass
class Deployment:
    """One set of topics on the shared broker, plus helpers to run workers against it."""

    bootstrap: str
    prefix: str
    root: Path

    def topics(self, app_id: str = "") -> dict[str, str]:
        """Shared input topics; output topics of their own for each app id, so runs can be compared."""
        return {
            "RESTOCK_TOPIC_ORDERS": f"{self.prefix}.orders",
            "RESTOCK_TOPIC_INVENTORY": f"{self.prefix}.inventory",
            "RESTOCK_TOPIC_CLICKS": f"{self.prefix}.clicks",
            "RESTOCK_TOPIC_REORDERS": f"{self.prefix}.{app_id}.reorders",
            "RESTOCK_TOPIC_DLQ": f"{self.prefix}.{app_id}.dlq",
            "RESTOCK_TOPIC_CUTS": f"{self.prefix}.cuts",
        }

    def settings(self, app_id: str = "") -> Settings:
        return Settings(
            bootstrap_servers=self.bootstrap,
            **{k.removeprefix("RESTOCK_").lower(): v for k, v in self.topics(app_id).items()},  # type: ignore[arg-type]
        )

    def create(self, app_id: str = "") -> Deployment:
        create_topics(self.settings(app_id), self.bootstrap)
        return self

    def publish(self, messages: Iterable[OutboundMessage]) -> int:
        return publish(messages, self.settings(), self.bootstrap).sent

    def worker(self, app_id: str, **settings: object) -> WorkerProcess:
        self.create(app_id)
        env = {
            "RESTOCK_BOOTSTRAP_SERVERS": self.bootstrap,
            "RESTOCK_APP_ID": app_id,
            "RESTOCK_STATE_DIR": str(self.root / app_id / "state"),
            "RESTOCK_WEB_PORT": str(free_loopback_port()),
            "RESTOCK_SESSION_TIMEOUT_S": "3",
            "RESTOCK_MAX_POLL_INTERVAL_S": "20",
            "RESTOCK_TOPIC_IDLE_S": "2.0",
            "RESTOCK_LOG_LEVEL": "info",
            **self.topics(app_id),
            **{f"RESTOCK_{k.upper()}": str(v) for k, v in settings.items()},
        }
        return WorkerProcess(env, self.root / app_id / "worker.log").start()

    def read(self, topic: str) -> list[tuple[bytes | None, bytes]]:
        return read_topic(self.bootstrap, topic, quiet_s=1.5)

    def reorders(self, app_id: str) -> list[bytes]:
        return [value for _, value in self.read(self.topics(app_id)["RESTOCK_TOPIC_REORDERS"])]

    def dead_letters(self, app_id: str) -> list[bytes]:
        return [value for _, value in self.read(self.topics(app_id)["RESTOCK_TOPIC_DLQ"])]

    def table_state(self, app_id: str) -> dict[bytes, bytes]:
        """The state table as its changelog holds it: the last value written for each key."""
        return read_changelog(
            self.bootstrap, self.settings(app_id).model_copy(update={"app_id": app_id}).topic_changelog, quiet_s=1.5
        )


def new_deployment(bootstrap: str, root: Path) -> Deployment:
    return Deployment(bootstrap, f"t{uuid.uuid4().hex[:10]}", root).create()


def wait_until_settled(worker: WorkerProcess, minimum: int, timeout_s: float = 120.0, quiet_s: float = 5.0) -> None:
    """Wait until the worker finished ``minimum`` events and its last decisions (see WorkerProcess.wait_settled)."""
    assert worker.wait_settled(minimum, quiet_s, timeout_s), (
        f"worker did not settle within {timeout_s} s at {worker.progress()}; see {worker.log_path}"
    )


def wait_for_consumed(worker: WorkerProcess, count: int, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert worker.alive(), f"worker died; see {worker.log_path}"
        if worker.consumed() >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"worker did not consume {count} events within {timeout_s} s; see {worker.log_path}")
