"""Ingest benchmark: the restock worker's throughput against a raw consumer and Faust's no-op ceiling.

One run on the embedded broker (``restock bench ingest``):

1. start the broker on a free loopback port, create the topics (a fresh prefix) and publish
   :func:`~streams.sample_events.ingest_mix` with :func:`~streams.publish.publish` (timed: produce to flush);
2. **raw**: a bare confluent-kafka consumer assigned to every input partition from the beginning reads all
   events with ``consume(num_messages=10000)`` and ``orjson.loads`` of each value, timed from the first batch
   to the last message; best of three runs (each takes well under a second, so one run is at the mercy of
   the scheduler);
3. **Faust no-op**: :mod:`streams.bench_noop` in a subprocess (same Faust settings as the worker, an agent
   doing ``take_events(2000, within=0.2)`` and counting), timed from its first batch to its last;
4. **restock worker**: ``restock worker`` in a :class:`~streams.worker_process.WorkerProcess` with a fresh app
   id. Its ``restock_events_total`` counters are polled; the rate is taken between the first poll that sees
   finished events and the first poll at which all of them are finished (processed or dead-lettered at
   decode). Then the peak RSS (``VmHWM``) is read, the worker is stopped and the records of its state
   changelog are counted.

It prints a table and, as the last line, one JSON object. Everything it starts is stopped by PID in a
``finally`` (Ctrl-C included); the RocksDB directories of the run are removed, the logs are kept.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from streams.admin import create_topics
from streams.embedded_broker import EmbeddedBroker, free_loopback_port
from streams.errors import BrokerError
from streams.publish import publish
from streams.sample_events import ingest_mix
from streams.settings import Settings
from streams.worker_process import WorkerProcess

SEED = 7
RAW_BATCH = 10_000
RAW_RUNS = 3  # one raw read takes well under a second, so one run is at the mercy of the scheduler; best counts
NOOP_BATCH = 2000
NOOP_WITHIN_S = 0.2
WORKER_BATCH = Settings.model_fields["batch_max_events"].default
SESSION_TIMEOUT_S = 3.0
POLL_S = 0.2
STALL_S = 60.0  # no progress for this long (start-up included) ends the run with an error
PROGRESS_EVERY_S = 3.0


# -------------------------------------------------------------------------------------------------------------
# Small helpers
# -------------------------------------------------------------------------------------------------------------


class Progress:
    """Prints ``[bench] ...`` lines to stderr, at most one every ``every_s`` seconds unless forced."""

    def __init__(self, every_s: float = PROGRESS_EVERY_S) -> None:
        self.every_s = every_s
        self.last = 0.0

    def __call__(self, text: str, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last >= self.every_s:
            self.last = now
            print(f"[bench] {text}", file=sys.stderr, flush=True)


def _consumer(bootstrap_servers: str, purpose: str) -> Consumer:
    return Consumer(
        {
            "bootstrap.servers": bootstrap_servers,
            "group.id": f"restock-bench-{purpose}-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "log.connection.close": False,
            # With librdkafka's default prefetch (100k messages) the read is bound by fetch round trips to Tansu:
            # 140k-180k msgs/s in most runs, 710k in one. A deeper queue gave 530k-810k.
            "queued.min.messages": 1_000_000,
        }
    )


def _rate(count: float, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


def peak_rss_mb(pid: int) -> float:
    """Peak resident set size (``VmHWM``) of a live process in MiB; 0.0 when it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def code_version() -> str:
    """``git describe``-like: the commit of this checkout, ``-dirty`` with uncommitted changes ('' without git)."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return f"{commit}-dirty" if commit and dirty else commit


def bench_settings(bootstrap_servers: str, prefix: str, partitions: int) -> Settings:
    return Settings(
        bootstrap_servers=bootstrap_servers,
        topic_orders=f"{prefix}.orders",
        topic_inventory=f"{prefix}.inventory",
        topic_clicks=f"{prefix}.clicks",
        topic_reorders=f"{prefix}.reorders",
        topic_dlq=f"{prefix}.dlq",
        partitions=partitions,
    )


# -------------------------------------------------------------------------------------------------------------
# The paths
# -------------------------------------------------------------------------------------------------------------


@dataclass
class PathResult:
    name: str
    events: int
    seconds: float

    @property
    def events_per_s(self) -> float:
        return _rate(self.events, self.seconds)


def run_publish(settings: Settings, bootstrap: str, events: int, keys: int, progress: Progress) -> PathResult:
    progress(f"generating ingest_mix({events}, {keys}, seed={SEED})", force=True)
    messages = ingest_mix(events, keys, SEED)
    progress(f"publishing {len(messages):,} events", force=True)
    started = time.perf_counter()
    report = publish(messages, settings, bootstrap, progress=lambda n: progress(f"published {n:,}/{events:,}"))
    return PathResult("publish (confluent-kafka)", report.sent, time.perf_counter() - started)


def count_records(
    bootstrap: str,
    topics: list[str],
    expected: int | None = None,
    quiet_s: float = 1.5,
    timeout_s: float = 120.0,
    parse: bool = False,
    progress: Progress | None = None,
) -> PathResult:
    """Read ``topics`` from the beginning with one assigned consumer; stop at ``expected`` or when quiet.

    ``seconds`` runs from the first non-empty batch to the last message. With ``parse`` every value goes
    through ``orjson.loads``. The broker's high watermarks are wrong, so the end is a count or a quiet time.
    """
    consumer = _consumer(bootstrap, "reader")
    try:
        assignment = []
        for topic in topics:
            info = consumer.list_topics(topic, timeout=10).topics.get(topic)
            if info is None or info.error is not None:
                raise BrokerError(f"topic {topic!r} does not exist at {bootstrap}")
            assignment += [TopicPartition(topic, p, OFFSET_BEGINNING) for p in sorted(info.partitions)]
        consumer.assign(assignment)
        loads = orjson.loads
        n = 0
        first: float | None = None
        last = time.perf_counter()
        deadline = time.monotonic() + timeout_s
        last_new = time.monotonic()
        while time.monotonic() < deadline:
            if expected is not None and n >= expected:
                break
            # Quiet after the last record, or (nothing read yet) after a grace for the assignment and first fetch.
            if expected is None and time.monotonic() - last_new >= (quiet_s if n else max(quiet_s, 5.0)):
                break
            batch = consumer.consume(num_messages=RAW_BATCH, timeout=0.2)
            if not batch:
                continue
            if first is None:
                first = time.perf_counter()
            for message in batch:
                if message.error() is not None:
                    continue
                if parse:
                    loads(message.value() or b"null")
                n += 1
            last = time.perf_counter()
            last_new = time.monotonic()
            if progress:
                progress(f"read {n:,} records from {', '.join(topics)}")
        if expected is not None and n < expected:
            raise BrokerError(f"read {n} of {expected} records from {topics} within {timeout_s} s")
        return PathResult("raw consumer + orjson", n, last - first if first is not None else 0.0)
    finally:
        consumer.close()


def _stop_process(proc: subprocess.Popen[bytes] | None, timeout_s: float = 15.0) -> None:
    """SIGINT (a clean stop), SIGKILL if it is still alive after ``timeout_s``."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


@dataclass
class NoopRun:
    """The no-op Faust app in a subprocess (see :mod:`streams.bench_noop`)."""

    settings: Settings
    bootstrap: str
    root: Path
    app_id: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def report_path(self) -> Path:
        return self.root / "report.json"

    def start(self) -> NoopRun:
        self.root.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable, "-m", "streams.bench_noop",
            "--bootstrap-servers", self.bootstrap,
            "--topics", ",".join(self.settings.input_topics),
            "--report", str(self.report_path),
            "--app-id", self.app_id,
            "--datadir", str(self.root / "state"),
            "--partitions", str(self.settings.partitions),
            "--batch", str(NOOP_BATCH),
            "--within", str(NOOP_WITHIN_S),
            "--session-timeout-s", str(SESSION_TIMEOUT_S),
        ]  # fmt: skip
        with (self.root / "noop.log").open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def report(self) -> dict[str, Any]:
        try:
            loaded: dict[str, Any] = orjson.loads(self.report_path.read_bytes())
            return loaded
        except (OSError, orjson.JSONDecodeError):
            return {}

    def wait(self, events: int, timeout_s: float, progress: Progress) -> PathResult:
        started = time.monotonic()
        deadline = started + timeout_s
        report: dict[str, Any] = {}
        count, moved_at = 0, started
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise BrokerError(f"the Faust no-op app exited; see {self.root / 'noop.log'}")
            report = self.report()
            if int(report.get("count", 0)) != count:
                count, moved_at = int(report["count"]), time.monotonic()
            if count >= events:
                return PathResult("Faust no-op (take_events)", count, float(report["elapsed_s"]))
            if time.monotonic() - moved_at > STALL_S:
                raise BrokerError(f"the Faust no-op app stalled at {count} of {events} events; see {self.root}")
            progress(f"Faust no-op: {count:,}/{events:,} events after {time.monotonic() - started:.0f} s")
            time.sleep(POLL_S)
        raise BrokerError(f"the Faust no-op app counted {report.get('count', 0)} of {events} events in {timeout_s} s")

    def stop(self) -> None:
        proc, self.process = self.process, None
        _stop_process(proc)


@dataclass(frozen=True)
class Sample:
    at: float
    finished: int


@dataclass
class WorkerTiming:
    """Throughput of the worker from polled counters (see the module docstring)."""

    events_per_s: float
    seconds: float
    counted: int
    method: str


def worker_timing(samples: list[Sample], events: int) -> WorkerTiming:
    """From the first poll that saw finished events to the first poll that saw all ``events`` finished.

    Tiny runs, where most events finish in the first batch, are timed from the last poll before any finished
    (``method: coarse``); the rate then includes part of the first batch's wait.
    """
    seen = [s for s in samples if s.finished > 0]
    if not seen:
        raise BrokerError("the worker finished no events")
    first = seen[0]
    done = next((s for s in seen if s.finished >= events), seen[-1])
    start, base, method = first.at, first.finished, "steady"
    if done.finished - base < 0.25 * events or done.at - start < 1.0:
        zero = [s for s in samples if s.finished == 0 and s.at < first.at]
        start, base, method = (zero[-1].at if zero else samples[0].at), 0, "coarse"
    counted, seconds = done.finished - base, done.at - start
    return WorkerTiming(_rate(counted, seconds), seconds, counted, method)


def outcomes(metrics: dict[str, float]) -> dict[str, int]:
    """``restock_events_total`` summed over the input topics by outcome."""
    out: dict[str, int] = {}
    for key, value in metrics.items():
        if key.startswith("restock_events_total{"):
            outcome = key.split("outcome=", 1)[1].split(",", 1)[0].rstrip("}")
            out[outcome] = out.get(outcome, 0) + int(value)
    return out


def _labelled(metrics: dict[str, float], name: str, label: str) -> dict[str, int]:
    prefix = f"{name}{{"
    return {
        k.split(f"{label}=", 1)[1].split(",", 1)[0].rstrip("}"): int(v)
        for k, v in sorted(metrics.items())
        if k.startswith(prefix) and v
    }


def worker_env(settings: Settings, bootstrap: str, app_id: str, state_dir: Path) -> dict[str, str]:
    return {
        "RESTOCK_BOOTSTRAP_SERVERS": bootstrap,
        "RESTOCK_APP_ID": app_id,
        "RESTOCK_STATE_DIR": str(state_dir),
        "RESTOCK_WEB_PORT": str(free_loopback_port()),
        "RESTOCK_WEB_BIND": "127.0.0.1",
        "RESTOCK_PARTITIONS": str(settings.partitions),
        "RESTOCK_SESSION_TIMEOUT_S": str(SESSION_TIMEOUT_S),
        "RESTOCK_MAX_POLL_INTERVAL_S": "20",
        "RESTOCK_BATCH_MAX_EVENTS": str(WORKER_BATCH),
        "RESTOCK_PRODUCER_MAX_BATCH_SIZE": "1",
        "RESTOCK_LOG_LEVEL": "info",
        "RESTOCK_TOPIC_ORDERS": settings.topic_orders,
        "RESTOCK_TOPIC_INVENTORY": settings.topic_inventory,
        "RESTOCK_TOPIC_CLICKS": settings.topic_clicks,
        "RESTOCK_TOPIC_REORDERS": settings.topic_reorders,
        "RESTOCK_TOPIC_DLQ": settings.topic_dlq,
    }


def poll_worker(
    worker: WorkerProcess, events: int, timeout_s: float, progress: Progress
) -> tuple[list[Sample], dict[str, float]]:
    """Poll the worker's metrics every ``POLL_S`` until it has finished ``events`` (else the timeout or a stall)."""
    started = time.monotonic()
    deadline = started + timeout_s
    samples: list[Sample] = []
    metrics: dict[str, float] = {}
    count, moved_at = 0, started
    while time.monotonic() < deadline:
        if not worker.alive():
            raise BrokerError(f"the worker exited; see {worker.log_path}")
        at = time.monotonic()
        polled = worker.metrics()
        if polled:
            metrics = polled
            done = outcomes(polled)
            samples.append(Sample(at, done.get("processed", 0) + done.get("rejected", 0)))
            if samples[-1].finished != count:
                count, moved_at = samples[-1].finished, at
            if count >= events:
                return samples, metrics
        if at - moved_at > STALL_S:
            raise BrokerError(
                f"the worker stalled at {count} of {events} events ({STALL_S:.0f} s without progress); "
                f"see {worker.log_path}"
            )
        progress(f"restock worker: {count:,}/{events:,} events after {at - started:.0f} s")
        time.sleep(max(0.0, POLL_S - (time.monotonic() - at)))
    raise BrokerError(f"the worker processed {count} of {events} events in {timeout_s:.0f} s; see {worker.log_path}")


# -------------------------------------------------------------------------------------------------------------
# The run
# -------------------------------------------------------------------------------------------------------------


def _table(rows: list[tuple[str, float, str]], raw: float) -> str:
    lines = [f"{'path':<34} {'events/s':>12} {'ratio to raw':>13}  note", "-" * 96]
    for name, rate, note in rows:
        ratio = f"{rate / raw:.4f}" if raw else "-"
        lines.append(f"{name:<34} {rate:>12,.0f} {ratio:>13}  {note}")
    return "\n".join(lines)


def run_bench(events: int, keys: int, partitions: int, workdir: Path) -> dict[str, Any]:
    """Run the whole benchmark once; print the table and the JSON line, and return the JSON object."""
    if events < 10 or keys < 1 or partitions < 1:
        raise ValueError(f"need events >= 10, keys >= 1, partitions >= 1; got {events}, {keys}, {partitions}")
    progress = Progress()
    code = code_version()
    run_id = f"bench{uuid.uuid4().hex[:8]}"
    root = Path(workdir) / run_id
    root.mkdir(parents=True, exist_ok=True)
    broker = EmbeddedBroker(root / "broker.log")
    noop: NoopRun | None = None
    worker: WorkerProcess | None = None
    wait_s = 120.0 + events / 500
    try:
        broker.start()
        bootstrap = broker.bootstrap_servers
        progress(f"broker on {bootstrap}; topics {run_id}.* with {partitions} partitions; logs in {root}", force=True)
        settings = bench_settings(bootstrap, run_id, partitions)
        create_topics(settings, bootstrap)

        published = run_publish(settings, bootstrap, events, keys, progress)

        raw_runs = []
        for attempt in range(1, RAW_RUNS + 1):
            progress(f"raw consumer, run {attempt} of {RAW_RUNS}", force=True)
            raw_runs.append(
                count_records(bootstrap, list(settings.input_topics), expected=events, parse=True, timeout_s=wait_s)
            )
        raw = max(raw_runs, key=lambda r: r.events_per_s)

        progress("Faust no-op app (start-up takes a few seconds)", force=True)
        noop = NoopRun(settings, bootstrap, root / "noop", f"{run_id}-noop").start()
        faust_noop = noop.wait(events, wait_s, progress)
        noop.stop()
        noop = None

        progress("restock worker (start-up takes a few seconds)", force=True)
        app_id = f"{run_id}-worker"
        env = worker_env(settings, bootstrap, app_id, root / "worker" / "state")
        worker = WorkerProcess(env, root / "worker" / "worker.log").start()
        pid = worker.process.pid if worker.process else 0
        samples, metrics = poll_worker(worker, events, wait_s, progress)
        timing = worker_timing(samples, events)
        rss_mb = peak_rss_mb(pid)
        worker.stop()
        log_text = worker.log_path.read_text(errors="replace")
        assignments = log_text.count('"partitions assigned"')
        worker = None
        progress("counting changelog records", force=True)
        changelog_topic = settings.model_copy(update={"app_id": app_id}).topic_changelog
        changelog = count_records(bootstrap, [changelog_topic], quiet_s=1.5).events
    finally:
        if worker is not None:
            worker.stop()
        if noop is not None:
            noop.stop()
        broker.stop()
        for state in (root / "noop" / "state", root / "worker" / "state"):
            shutil.rmtree(state, ignore_errors=True)

    result: dict[str, Any] = {
        "events_per_s": round(timing.events_per_s, 1),
        "raw_events_per_s": round(raw.events_per_s, 1),
        "raw_runs_events_per_s": [round(r.events_per_s, 1) for r in raw_runs],
        "faust_noop_events_per_s": round(faust_noop.events_per_s, 1),
        "ratio": float(f"{_rate(timing.events_per_s, raw.events_per_s):.4g}"),
        "noop_ratio": float(f"{_rate(timing.events_per_s, faust_noop.events_per_s):.4g}"),
        "changelog_records": changelog,
        "changelog_records_per_event": round(changelog / events, 4),
        "peak_rss_mb": round(rss_mb, 1),
        "events": events,
        "keys": keys,
        "partitions": partitions,
        "publish_events_per_s": round(published.events_per_s, 1),
        "worker_timing": {
            "method": timing.method,
            "counted_events": timing.counted,
            "seconds": round(timing.seconds, 3),
            "poll_s": POLL_S,
        },
        "worker_outcomes": outcomes(metrics),
        "worker_accepted": int(metrics.get("restock_accepted_events_total{}", 0)),
        "worker_dead_letters": _labelled(metrics, "restock_dlq_total", "reason"),
        "worker_assignments": assignments,
        "worker_busy": {
            "handle_batch_s": round(metrics.get("restock_batch_seconds_sum{}", 0.0), 3),
            "batches": int(metrics.get("restock_batch_seconds_count{}", 0)),
            "mean_batch_events": round(
                _rate(metrics.get("restock_batch_events_sum{}", 0.0), metrics.get("restock_batch_events_count{}", 0.0))
            ),
            "decision_pass_s": round(metrics.get("restock_decision_pass_seconds_sum{}", 0.0), 3),
            "decision_passes": int(metrics.get("restock_decision_pass_seconds_count{}", 0)),
            "commands": int(metrics.get("restock_commands_total{}", 0)),
            "state_writes": int(metrics.get("restock_changelog_writes_total{}", 0)),
        },
        "settings": {
            "batch_max_events": WORKER_BATCH,
            "state_shards": Settings.model_fields["state_shards"].default,
            "session_timeout_s": SESSION_TIMEOUT_S,
            "noop_take_events": [NOOP_BATCH, NOOP_WITHIN_S],
            "seed": SEED,
        },
        "cpu_count": os.cpu_count(),
        "code": code,
    }
    rows = [
        (published.name, published.events_per_s, f"{published.events:,} events, produce() to flush()"),
        (raw.name, raw.events_per_s, f"consume({RAW_BATCH}), first batch to last message, best of {RAW_RUNS}"),
        (faust_noop.name, faust_noop.events_per_s, f"take_events({NOOP_BATCH}, within={NOOP_WITHIN_S}), count only"),
        ("restock worker", timing.events_per_s, f"{timing.counted:,} events in {timing.seconds:.1f} s"),
    ]
    print(_table(rows, raw.events_per_s))
    print()
    print(f"restock worker / Faust no-op:           {result['noop_ratio']:.3f}")
    busy = result["worker_busy"]
    print(
        f"worker time in handle_batch:            {busy['handle_batch_s']:.1f} s in {busy['batches']} batches "
        f"(decision passes {busy['decision_pass_s']:.1f} s in {busy['decision_passes']})"
    )
    print(f"changelog records:                      {changelog:,} ({changelog / events:.3f} per event)")
    print(f"worker peak RSS (VmHWM):                {rss_mb:,.1f} MiB")
    dead = result["worker_dead_letters"]
    print(
        f"worker: applied to state / dead-lettered: {result['worker_accepted']:,} / {sum(dead.values()):,} "
        f"{dead or ''}".rstrip()
    )
    print(orjson.dumps(result).decode(), flush=True)
    return result
