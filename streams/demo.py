"""`restock demo`: the whole pipeline on one machine with nothing installed by hand.

Starts the embedded broker on a free loopback port, creates the topics, starts a worker process, replays the
bundled sample history (seeded generator), shows progress, prints a summary and stops everything it started,
also on Ctrl-C.
"""

from __future__ import annotations

import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from schemas import ReorderCommand, decode_command, decode_dead_letter
from streams.admin import create_topics
from streams.embedded_broker import EmbeddedBroker, free_loopback_port
from streams.publish import publish
from streams.sample_events import SampleHistory, demo_history
from streams.settings import Settings, load_settings
from streams.topic_reader import read_topic
from streams.worker_process import WorkerProcess


@dataclass
class Progress:
    """One status line, rewritten in place on a terminal and printed every few seconds otherwise."""

    total: int
    started: float = 0.0
    last_print: float = 0.0

    def show(self, label: str, done: int, extra: str = "", force: bool = False) -> None:
        now = time.monotonic()
        tty = sys.stderr.isatty()
        if not force and now - self.last_print < (0.3 if tty else 5.0):
            return
        self.last_print = now
        rate = done / max(now - self.started, 1e-9)
        share = 100 * done / max(self.total, 1)
        line = f"{label}: {done:,}/{self.total:,} events ({share:.0f}%), {rate:,.0f}/s {extra}"
        sys.stderr.write(("\r" + line.ljust(100)) if tty else line + "\n")
        sys.stderr.flush()

    def end(self) -> None:
        if sys.stderr.isatty():
            sys.stderr.write("\n")


def _interrupt_on_sigterm() -> None:
    """Treat SIGTERM like Ctrl-C so the worker and broker this process started are stopped too."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def run_demo(seed: int, workdir: Path) -> None:
    _interrupt_on_sigterm()
    run = time.strftime("%Y%m%d-%H%M%S")
    root = workdir / run
    settings = load_settings(app_id=f"restock-demo-{run}", state_dir=root / "state")
    print(f"restock demo: generating the sample history (seed {seed}) ...")
    history = demo_history(seed)
    kinds = Counter(m.topic_kind for m in history.messages)
    print(
        f"  {len(history.messages):,} messages: {kinds['orders']:,} order lines, "
        f"{kinds['inventory']:,} inventory events, {kinds['clicks']:,} clicks, {history.bad_total:,} deliberately bad"
    )
    worker: WorkerProcess | None = None
    with EmbeddedBroker(root / "broker.log") as broker:
        try:
            bootstrap = broker.bootstrap_servers
            print(f"  embedded broker (Tansu) on {bootstrap}, logs and state under {root}")
            create_topics(settings, bootstrap)
            worker = start_worker(settings, bootstrap, root)
            replay(history, settings, bootstrap, worker)
            summarize(history, settings, bootstrap, worker)
        except KeyboardInterrupt:
            print("\ninterrupted: stopping the worker and the broker ...")
        finally:
            if worker is not None:
                worker.stop()
    print("stopped the worker and the embedded broker.")


def start_worker(settings: Settings, bootstrap: str, root: Path) -> WorkerProcess:
    env = {
        "RESTOCK_BOOTSTRAP_SERVERS": bootstrap,
        "RESTOCK_APP_ID": settings.app_id,
        "RESTOCK_STATE_DIR": str(settings.state_dir),
        "RESTOCK_WEB_PORT": str(free_loopback_port()),
        "RESTOCK_WEB_BIND": "127.0.0.1",
        "RESTOCK_TOPIC_IDLE_S": "2",
    }
    worker = WorkerProcess(env, root / "worker.log").start()
    print(f"  worker pid {worker.process.pid if worker.process else '?'}, metrics on 127.0.0.1:{worker.metrics_port}")
    return worker


def replay(history: SampleHistory, settings: Settings, bootstrap: str, worker: WorkerProcess) -> None:
    total = len(history.messages)
    progress = Progress(total, started=time.monotonic())
    publish(history.messages, settings, bootstrap, progress=lambda n: progress.show("publishing", n, force=n == total))
    progress.end()
    progress = Progress(total, started=time.monotonic())

    def show(done: int) -> None:
        metrics = worker.metrics()
        commands = int(metrics.get("restock_commands_total{}", 0))
        dlq = int(sum(v for k, v in metrics.items() if k.startswith("restock_dlq_total{")))
        progress.show("processing", done, f"| dead letters {dlq:,} | commands {commands:,}")

    worker.wait_consumed(total, timeout_s=1800, on_progress=show)
    show(total)
    progress.end()
    print("  waiting for the last decisions (the topics have to go quiet) ...")
    worker.wait_settled(total, quiet_s=4.0, timeout_s=60)


def summarize(history: SampleHistory, settings: Settings, bootstrap: str, worker: WorkerProcess) -> None:
    metrics = worker.metrics()
    commands = [decode_command(value) for _, value in read_topic(bootstrap, settings.topic_reorders)]
    letters = [decode_dead_letter(value) for _, value in read_topic(bootstrap, settings.topic_dlq)]
    accepted = int(metrics.get("restock_accepted_events_total{}", 0))
    print("\n== Summary ==")
    print(f"events in: {len(history.messages):,} published, {accepted:,} applied to state")
    print("dead letters by reason (found / deliberately injected):")
    found = Counter(letter.reason.value for letter in letters)
    for reason in sorted(set(found) | {k for k, v in history.injected.items() if v}):
        print(f"  {reason:<24}{found.get(reason, 0):>6} / {history.injected.get(reason, 0)}")
    series = len({(c.sku, c.location) for c in commands})
    print(f"reorder commands issued: {len(commands):,} for {series:,} sku|locations")
    print_top(commands)
    print(
        "\nread the output topic yourself (while a broker runs):\n"
        f"  .venv/bin/restock tail --topic {settings.topic_reorders} --bootstrap-servers {bootstrap}\n"
        f"  kcat -b {bootstrap} -t {settings.topic_reorders} -C -e -f '%k %s\\n'\n"
        f"worker log: {worker.log_path}"
    )


def print_top(commands: list[ReorderCommand], n: int = 10) -> None:
    """The SKUs with the largest total order value (quantity x unit cost), each with its latest reason."""
    value: dict[tuple[str, str], float] = {}
    latest: dict[tuple[str, str], ReorderCommand] = {}
    for command in commands:
        key = (command.sku, command.location)
        value[key] = value.get(key, 0.0) + command.quantity * (command.unit_cost or 0.0)
        if key not in latest or command.decision_window > latest[key].decision_window:
            latest[key] = command
    if not commands:
        return
    print(f"top {min(n, len(value))} sku|locations by order value:")
    for (sku, location), total in sorted(value.items(), key=lambda kv: (-kv[1], kv[0]))[:n]:
        c = latest[(sku, location)]
        print(f"  {sku}|{location}  {total:>10,.2f}  last order {c.quantity} on {c.decision_window} ({c.rule})")
        print(f"      why: {c.reason}")
