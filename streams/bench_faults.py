"""Fault soak benchmark (``restock bench faults``): the batch engine under kills, rebalances and a frozen broker.

One run on the embedded broker:

1. a demo history (``--skus`` x ``--locations`` series over ``--days``; 400 x 3 x 150 is about 1.07M events) is
   generated; 60 % of it is published;
2. **fault run** (app ``faults``): ``--kills`` cycles, each starting a worker and ``kill -9``-ing it at a random
   moment, half of them within milliseconds of a decision pass; every third cycle a second worker joins the
   group for a while (a rebalance) and leaves cleanly; half-way the broker is frozen (SIGSTOP) for
   ``--freeze-s`` while the rest of the history is published; a last worker then runs to the end;
3. **calm run** (app ``calm``): one worker over the complete topics, no faults;
4. both outputs are read back and compared by ``command_id`` and bytes (lost, extra, changed, duplicated) and
   the two states key by key; recovery times are the workers' own ``state restored`` log lines.

It prints a table and, as the last line, one JSON object. Everything it starts is stopped by PID.
"""

from __future__ import annotations

import random
import signal
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import orjson

from schemas import decode_command
from streams.admin import create_topics
from streams.bench_ingest import bench_settings, code_version, worker_env
from streams.embedded_broker import EmbeddedBroker
from streams.errors import BrokerError
from streams.publish import publish
from streams.sample_events import OutboundMessage, demo_history
from streams.settings import Settings
from streams.state_codec import HISTORY_BLOCK_DAYS
from streams.state_export import read_changelog
from streams.state_view import parse_table
from streams.topic_reader import read_topic
from streams.worker_process import WorkerProcess

SEED = 23
START_DAY = date(2026, 1, 5)
SETTLE_QUIET_S = 6.0


def _say(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


class Run:
    """One app id's workers on the bench's topics."""

    def __init__(self, settings: Settings, bootstrap: str, root: Path, app_id: str) -> None:
        self.settings = settings.model_copy(
            update={"app_id": app_id, "topic_reorders": f"{settings.topic_reorders}.{app_id}",
                    "topic_dlq": f"{settings.topic_dlq}.{app_id}"}
        )  # fmt: skip
        self.bootstrap = bootstrap
        self.root = root / app_id
        self.app_id = app_id
        self.started = 0
        create_topics(self.settings, bootstrap)

    def worker(self) -> WorkerProcess:
        self.started += 1
        env = worker_env(self.settings, self.bootstrap, self.app_id, self.root / f"state-{self.started % 2}")
        env |= {"RESTOCK_TOPIC_CUTS": self.settings.topic_cuts, "RESTOCK_TOPIC_IDLE_S": "0.5"}
        return WorkerProcess(env, self.root / f"worker-{self.started:03d}.log").start()

    def logs(self) -> list[Path]:
        return sorted(self.root.glob("worker-*.log"))

    def commands(self) -> list[bytes]:
        return [value for _, value in read_topic(self.bootstrap, self.settings.topic_reorders, quiet_s=2.0)]

    def state(self) -> dict[bytes, bytes]:
        return read_changelog(self.bootstrap, self.settings.topic_changelog, quiet_s=2.0)


def log_text(worker: WorkerProcess) -> str:
    return worker.log_path.read_text(errors="replace") if worker.log_path.exists() else ""


def settle(worker: WorkerProcess, minimum: int, timeout_s: float) -> None:
    """Wait for the worker to hold its partitions, then for ``minimum`` events and quiet.

    A worker that restarts after the others finished everything has nothing to count, so "quiet" only means
    something once it has restored its state and been assigned.
    """
    deadline = time.monotonic() + timeout_s
    while '"partitions assigned"' not in log_text(worker):
        if not worker.alive():
            raise BrokerError(f"the worker exited; see {worker.log_path}")
        if time.monotonic() > deadline:
            raise BrokerError(f"the worker was not assigned partitions within {timeout_s:.0f} s; see {worker.log_path}")
        time.sleep(0.1)
    if not worker.wait_settled(minimum, SETTLE_QUIET_S, max(deadline - time.monotonic(), 1.0)):
        raise BrokerError(f"the worker did not settle within {timeout_s:.0f} s; see {worker.log_path}")


def decision_passes(worker: WorkerProcess) -> int:
    return log_text(worker).count('"decision pass"')


def kill_at_random(worker: WorkerProcess, rng: random.Random, near_decision: bool) -> str:
    """Wait for a decision pass (or a random time), then ``kill -9``; say which."""
    deadline = time.monotonic() + (rng.uniform(3.0, 20.0) if near_decision else rng.uniform(0.5, 6.0))
    before = decision_passes(worker)
    while time.monotonic() < deadline and worker.alive():
        if near_decision and decision_passes(worker) > before + rng.randint(0, 3):
            break
        time.sleep(0.005)
    if not worker.alive():
        raise BrokerError(f"a worker exited on its own; see {worker.log_path}")
    worker.kill9()
    return "after a decision pass" if near_decision and time.monotonic() < deadline else "at a random moment"


def restore_seconds(logs: list[Path]) -> list[float]:
    out = []
    for path in logs:
        for line in path.read_text(errors="replace").splitlines():
            if '"state restored"' in line:
                out.append(float(orjson.loads(line)["seconds"]))
    return out


def restore_summary(seconds: list[float]) -> dict[str, float]:
    if not seconds:
        return {}
    return {"median": round(statistics.median(seconds), 3), "max": round(max(seconds), 3), "count": len(seconds)}


def compare(fault: list[bytes], calm: list[bytes]) -> dict[str, int]:
    """Lost, extra, changed and duplicated commands of the fault run against the calm one (by id and bytes)."""

    def by_id(payloads: list[bytes]) -> tuple[dict[str, set[bytes]], Counter[str]]:
        seen: dict[str, set[bytes]] = {}
        counts: Counter[str] = Counter()
        for payload in payloads:
            command_id = decode_command(payload).command_id
            seen.setdefault(command_id, set()).add(payload)
            counts[command_id] += 1
        return seen, counts

    got, counts = by_id(fault)
    want, _ = by_id(calm)
    changed = sum(1 for k in got.keys() & want.keys() if got[k] != want[k])
    return {
        "lost": len(want.keys() - got.keys()),
        "extra": len(got.keys() - want.keys()),
        "changed": changed,
        "duplicated": sum(1 for k, n in counts.items() if n > 1),
        "commands": len(want),
    }


def state_differences(got: dict[bytes, bytes], want: dict[bytes, bytes]) -> int:
    a, b = parse_table(got, HISTORY_BLOCK_DAYS), parse_table(want, HISTORY_BLOCK_DAYS)
    return sum(1 for name in a.keys() | b.keys() if name not in a or name not in b or
               a[name].canonical() != b[name].canonical())  # fmt: skip


def run_faults(skus: int, locations: int, days: int, kills: int, freeze_s: float, workdir: Path) -> dict[str, Any]:
    if skus < 1 or locations < 1 or days < 14 or kills < 1 or freeze_s < 0:
        raise ValueError("need skus >= 1, locations >= 1, days >= 14, kills >= 1 and freeze_s >= 0")
    rng = random.Random(SEED)
    run_id = f"faults{uuid.uuid4().hex[:8]}"
    root = Path(workdir) / run_id
    root.mkdir(parents=True, exist_ok=True)
    _say(f"generating {skus} x {locations} series over {days} days")
    messages: list[OutboundMessage] = demo_history(
        SEED, start_day=START_DAY, n_skus=skus, n_locations=locations, days=days
    ).messages
    first = int(len(messages) * 0.6)
    broker = EmbeddedBroker(root / "broker.log")
    live: list[WorkerProcess] = []
    kill_log: Counter[str] = Counter()
    rebalances = 0
    try:
        broker.start()
        bootstrap = broker.bootstrap_servers
        settings = bench_settings(bootstrap, run_id, 4).model_copy(update={"topic_cuts": f"{run_id}.cuts"})
        create_topics(settings, bootstrap)
        _say(f"publishing {first:,} of {len(messages):,} events")
        publish(messages[:first], settings, bootstrap)
        fault = Run(settings, bootstrap, root, "faults")
        sender: threading.Thread | None = None
        started = time.monotonic()
        for cycle in range(kills):
            worker = fault.worker()
            live.append(worker)
            if cycle % 3 == 2:
                joiner = fault.worker()
                live.append(joiner)
                time.sleep(rng.uniform(2.0, 5.0))
                joiner.stop()
                live.remove(joiner)
                rebalances += 1
            if cycle == kills // 2:
                assert broker.process is not None
                _say(f"freezing the broker for {freeze_s:g} s while the rest of the history is published")
                broker.process.send_signal(signal.SIGSTOP)
                sender = threading.Thread(target=publish, args=(messages[first:], settings, bootstrap), daemon=True)
                sender.start()
                time.sleep(freeze_s)
                broker.process.send_signal(signal.SIGCONT)
            kill_log[kill_at_random(worker, rng, near_decision=cycle % 2 == 0)] += 1
            live.remove(worker)
            _say(f"kill {cycle + 1} of {kills} ({sum(kill_log.values())} so far)")
        if sender is None:
            publish(messages[first:], settings, bootstrap)
        else:
            sender.join(300)
        final = fault.worker()
        live.append(final)
        settle(final, 0, timeout_s=900)
        final.stop()
        live.remove(final)
        fault_s = time.monotonic() - started
        _say("calm run over the same topics")
        calm = Run(settings, bootstrap, root, "calm")
        quiet = calm.worker()
        live.append(quiet)
        settle(quiet, len(messages), timeout_s=900)
        quiet.stop()
        live.remove(quiet)
        _say("restoring the calm run's state from its changelog alone")
        again = calm.worker()  # the other state folder: empty, so everything comes from the changelog
        live.append(again)
        settle(again, 0, timeout_s=300)
        again.stop()
        live.remove(again)
        _say("reading both outputs back")
        verdict = compare(fault.commands(), calm.commands())
        differing = state_differences(fault.state(), calm.state())
        restores = restore_seconds(fault.logs())
        from_changelog = restore_seconds([again.log_path])
    finally:
        for worker in live:
            worker.kill9()
        broker.stop()
    result = {
        **verdict,
        "state_keys_differing": differing,
        "events": len(messages),
        "series": skus * locations,
        "kills": sum(kill_log.values()),
        "kills_by_moment": dict(kill_log),
        "rebalances": rebalances,
        "broker_freeze_s": freeze_s,
        "fault_run_s": round(fault_s, 1),
        "restore_local_s": restore_summary(restores),
        "restore_from_changelog_s": from_changelog[-1] if from_changelog else None,
        "code": code_version(),
    }
    print(f"{'measure':<44} {'value':>12}")
    print("-" * 58)
    for name in ("lost", "extra", "changed", "duplicated", "commands", "state_keys_differing", "events", "kills",
                 "rebalances"):  # fmt: skip
        print(f"{name:<44} {result[name]:>12,}")
    print(f"{'broker frozen (s)':<44} {freeze_s:>12g}")
    if restores:
        print(
            f"{'restore after a kill, median / max (s)':<44} {statistics.median(restores):>6.2f} / {max(restores):.2f}"
        )
    print(f"{'restore from the changelog alone (s)':<44} {result['restore_from_changelog_s']}")
    print(orjson.dumps(result).decode(), flush=True)
    return result
