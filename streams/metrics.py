"""Prometheus metrics of a worker. One registry per worker so tests can run several in one process."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass
class WorkerMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.events = Counter(
            "restock_events",
            "Input events by topic and outcome: rejected (invalid), processed (applied, late or duplicate), "
            "redelivered (already in state: skipped)",
            ["topic", "outcome"],
            registry=r,
        )
        self.accepted = Counter("restock_accepted_events", "Events applied to state", registry=r)
        self.dlq = Counter("restock_dlq", "Messages sent to the dead-letter topic, by reason", ["reason"], registry=r)
        self.commands = Counter("restock_commands", "Reorder commands published", registry=r)
        self.decision_seconds = Histogram(
            "restock_decision_pass_seconds", "Duration of one decision pass over a partition", registry=r
        )
        self.batch_seconds = Histogram(
            "restock_batch_seconds", "Processing time of one batch taken from the input stream", registry=r
        )
        self.batch_events = Histogram(
            "restock_batch_events", "Events per batch", registry=r, buckets=(1, 10, 100, 500, 1000, 2000, 5000, 10000)
        )
        self.state_keys = Gauge("restock_state_keys", "sku|location keys seen by the last decision pass", registry=r)
        self.lag = Gauge(
            "restock_event_time_lag_seconds",
            "Wall clock minus the event-time watermark of an input topic in a partition",
            ["partition", "topic"],
            registry=r,
        )
        self.paused = Gauge(
            "restock_paused_topics", "Input topics of a partition paused for running ahead", ["partition"], registry=r
        )
        self.model_loads = Counter(
            "restock_model_loads",
            "Model artifacts read from RESTOCK_MODEL_DIR: loaded (now serving), incomplete (weights do not match "
            "config.json yet: retried), failed (unreadable: the previous model keeps serving)",
            ["outcome"],
            registry=r,
        )
        self.model_info = Gauge(
            "restock_model_info", "1 for the model_version serving forecasts", ["model_version"], registry=r
        )
        self.changelog_writes = Counter(
            "restock_changelog_writes", "State table records written (shards, history blocks, meta)", registry=r
        )
