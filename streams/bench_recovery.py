"""Recovery benchmark (``restock bench recovery``): how long a worker needs to get its partitions' state back.

One run on the embedded broker:

1. ``ingest_mix(events, series, span_days=days)`` is published and one worker applies all of it (with its
   daily decisions) until it settles;
2. it is killed with ``kill -9`` and restarted on the same state folder: the restore reads local RocksDB and
   the changelog after its checkpoint;
3. a worker on an empty state folder restores from the changelog alone.

Restore times are the workers' own ``state restored`` log lines (assignment to ready, all partitions of the
worker). It prints a table and, as the last line, one JSON object. Everything it starts is stopped by PID.
"""

from __future__ import annotations

import shutil
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import orjson

from streams.admin import create_topics
from streams.bench_faults import restore_seconds, settle
from streams.bench_ingest import SEED, bench_settings, code_version, count_records, peak_rss_mb, worker_env
from streams.embedded_broker import EmbeddedBroker
from streams.publish import publish
from streams.sample_events import ingest_mix
from streams.worker_process import WorkerProcess


def _say(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def run_recovery(events: int, series: int, days: float, partitions: int, workdir: Path) -> dict[str, Any]:
    if events < series or series < 1 or days <= 0 or partitions < 1:
        raise ValueError("need events >= series >= 1, days > 0 and partitions >= 1")
    run_id = f"recovery{uuid.uuid4().hex[:8]}"
    root = Path(workdir) / run_id
    root.mkdir(parents=True, exist_ok=True)
    broker = EmbeddedBroker(root / "broker.log")
    live: list[WorkerProcess] = []
    try:
        broker.start()
        bootstrap = broker.bootstrap_servers
        settings = bench_settings(bootstrap, run_id, partitions).model_copy(update={"app_id": f"{run_id}-worker"})
        create_topics(settings, bootstrap)
        _say(f"generating and publishing {events:,} events over {series:,} series and {days:g} days")
        publish(ingest_mix(events, series, SEED, span_days=days), settings, bootstrap)

        def worker(name: str, state: str) -> WorkerProcess:
            env = worker_env(settings, bootstrap, settings.app_id, root / state) | {"RESTOCK_TOPIC_IDLE_S": "0.5"}
            started = WorkerProcess(env, root / f"{name}.log").start()
            live.append(started)
            return started

        _say("one worker applies everything")
        started = time.monotonic()
        first = worker("ingest", "state-local")
        settle(first, events, timeout_s=1800 + events / 500)
        ingest_s = time.monotonic() - started
        rss_mb = peak_rss_mb(first.process.pid if first.process else 0)
        first.kill9()
        live.remove(first)
        _say("kill -9, restart on the same state folder")
        local = worker("restart-local", "state-local")
        settle(local, 0, timeout_s=1800)
        local.stop()
        live.remove(local)
        _say("a worker on an empty state folder")
        fresh = worker("restart-empty", "state-empty")
        settle(fresh, 0, timeout_s=3600)
        fresh.stop()
        live.remove(fresh)
        changelog = count_records(bootstrap, [settings.topic_changelog], quiet_s=2.0).events
    finally:
        for each in live:
            each.kill9()
        broker.stop()
        for state in root.glob("state-*"):
            shutil.rmtree(state, ignore_errors=True)
    from_local, from_changelog = restore_seconds([local.log_path]), restore_seconds([fresh.log_path])
    result = {
        "restore_local_s": from_local[-1] if from_local else None,
        "restore_changelog_s": from_changelog[-1] if from_changelog else None,
        "series": series,
        "events": events,
        "days": days,
        "partitions": partitions,
        "changelog_records": changelog,
        "ingest_s": round(ingest_s, 1),
        "ingest_peak_rss_mb": round(rss_mb, 1),
        "code": code_version(),
    }
    print(f"{'measure':<52} {'value':>12}")
    print("-" * 66)
    print(f"{'series / events / partitions':<52} {f'{series:,} / {events:,} / {partitions}':>12}")
    print(f"{'restore after kill -9 (local state + changelog tail), s':<52} {result['restore_local_s']!s:>12}")
    print(f"{'restore on an empty folder (changelog alone), s':<52} {result['restore_changelog_s']!s:>12}")
    print(f"{'changelog records':<52} {changelog:>12,}")
    print(f"{'ingest with decisions, s (peak RSS MiB)':<52} {f'{ingest_s:.0f} ({rss_mb:.0f})':>12}")
    print(orjson.dumps(result).decode(), flush=True)
    return result
