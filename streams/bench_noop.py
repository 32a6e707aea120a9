"""Faust's own ceiling for the ingest benchmark: an agent that takes batches and only counts them.

Run as ``python -m streams.bench_noop --bootstrap-servers HOST:PORT --topics A,B,C --report PATH ...`` (the
benchmark in :mod:`streams.bench_ingest` starts it as a subprocess). The app is configured like the restock
worker (``producer_max_batch_size=1``, web server off, short session timeout, ``earliest``, RocksDB store, the
worker's fetch size), so the only difference left is the agent's body. After every batch it replaces
``PATH`` with one JSON object: events counted, batches, the size of the first batch and the seconds from the
arrival of the first batch to the end of the last one (``time.monotonic`` of this process; start-up and
group join are not in it).
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faust
import orjson

from streams.settings import Settings


@dataclass
class NoopReport:
    """Counts of the no-op agent, rewritten to ``path`` (atomically) after every batch."""

    path: Path
    count: int = 0
    batches: int = 0
    first_batch: int = 0
    first_at: float | None = None
    last_at: float = 0.0
    pid: int = field(default_factory=os.getpid)

    def add(self, n: int, arrived_at: float) -> None:
        if self.first_at is None:
            self.first_at = arrived_at
            self.first_batch = n
        self.count += n
        self.batches += 1
        self.last_at = time.monotonic()
        self.write()

    def as_dict(self) -> dict[str, Any]:
        elapsed = self.last_at - self.first_at if self.first_at is not None else 0.0
        return {
            "count": self.count,
            "batches": self.batches,
            "first_batch": self.first_batch,
            "elapsed_s": elapsed,
            "pid": self.pid,
        }

    def write(self) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_bytes(orjson.dumps(self.as_dict()))
        os.replace(tmp, self.path)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    defaults = Settings()
    parser = argparse.ArgumentParser(prog="python -m streams.bench_noop", description=__doc__)
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--topics", required=True, help="Comma-separated input topics.")
    parser.add_argument("--report", required=True, type=Path, help="JSON file rewritten after every batch.")
    parser.add_argument("--app-id", required=True, help="A fresh Faust app id (consumer group).")
    parser.add_argument("--datadir", required=True, type=Path)
    parser.add_argument("--partitions", type=int, default=defaults.partitions)
    parser.add_argument("--batch", type=int, default=2000, help="take_events(max_)")
    parser.add_argument("--within", type=float, default=0.2, help="take_events(within=)")
    parser.add_argument("--session-timeout-s", type=float, default=3.0)
    parser.add_argument(
        "--max-fetch-bytes",
        type=int,
        default=max(256 * 1024, 2 * defaults.max_message_bytes),
        help="consumer_max_fetch_size; the default is the restock worker's.",
    )
    return parser.parse_args(argv)


def build_app(args: argparse.Namespace, report: NoopReport) -> faust.App:
    app = faust.App(
        args.app_id,
        broker=f"kafka://{args.bootstrap_servers}",
        store="rocksdb://",
        datadir=str(args.datadir),
        topic_partitions=args.partitions,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=args.session_timeout_s,
        broker_heartbeat_interval=1.0,
        producer_max_batch_size=1,
        consumer_max_fetch_size=args.max_fetch_bytes,
        web_enabled=False,
        key_serializer="raw",
        value_serializer="raw",
    )
    inputs = app.topic(*args.topics.split(","), key_serializer="raw", value_serializer="raw")

    @app.agent(inputs, name="noop")
    async def noop(stream: Any) -> None:
        async for events in stream.take_events(args.batch, within=args.within):
            report.add(len(events), time.monotonic())

    return app


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    args.datadir.mkdir(parents=True, exist_ok=True)
    report = NoopReport(args.report)
    report.write()
    app = build_app(args, report)
    faust.Worker(app, loglevel="warning", quiet=True, redirect_stdouts=False).execute_from_commandline()


if __name__ == "__main__":
    main()
