"""The batch engine's commands and state are a function of the input topics alone, under any timing or fault.

One demo history of more than 200k events over 4 partitions, replayed at full speed into fresh app ids that
differ in everything timing depends on: batch size, one or two workers in the group (a rebalance moves
partitions mid-stream), the smallest idle setting, and a worker frozen (SIGSTOP) for longer than that idle
setting while it has a backlog, as a slow decision pass would be. Then faults: a loop of ``kill -9`` right
after decision passes, two workers with one killed mid-stream, and the broker frozen for 30 s while producers
keep sending. Each must give the reference's commands (a command sent twice only with the same bytes) and the
same state key by key.
"""

from __future__ import annotations

import random
import signal
import threading
import time
from datetime import date

import pytest

from streams.embedded_broker import EmbeddedBroker
from streams.sample_events import demo_history
from streams.worker_process import WorkerProcess

from ..harness import Deployment, new_deployment
from ..test_worker import by_id, dead_letter_origins, series_differences

pytestmark = pytest.mark.integration

IDLE_S = 0.05  # far below the time one turn of the loop can take: only the engine's rules keep it deterministic


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory):
    history = demo_history(5, start_day=date(2026, 1, 5))
    assert len(history.messages) >= 200_000
    with EmbeddedBroker(tmp_path_factory.mktemp("broker") / "broker.log") as broker:
        deployment = new_deployment(broker.bootstrap_servers, tmp_path_factory.mktemp("determinism"))
        sent = deployment.publish(history.messages)
        yield deployment, sent


def settle(workers: list[WorkerProcess], minimum: int, quiet_s: float = 4.0, timeout_s: float = 240.0) -> None:
    """Wait until the workers together finished ``minimum`` events and nothing moved for ``quiet_s``."""
    deadline = time.monotonic() + timeout_s
    last, changed = None, time.monotonic()
    while time.monotonic() < deadline:
        assert all(w.alive() for w in workers), [w.log_path for w in workers]
        progress = [w.progress() for w in workers]
        now = tuple(sum(p[i] for p in progress) for i in range(3))
        if now != last:
            last, changed = now, time.monotonic()
        elif now[0] >= minimum and time.monotonic() - changed >= quiet_s:
            return
        time.sleep(0.25)
    raise AssertionError(f"workers did not settle within {timeout_s} s at {last}; see {[w.log_path for w in workers]}")


def run(deployment: Deployment, sent: int, app_id: str, workers: int = 1, freeze_s: float = 0.0, **settings: object):
    started = [deployment.worker(app_id, topic_idle_s=IDLE_S, **settings)]
    try:
        if workers > 1 or freeze_s:
            while started[0].consumed() < sent // 4:
                assert started[0].alive(), started[0].log_path
                time.sleep(0.05)
        if workers > 1:
            started.append(deployment.worker(app_id, topic_idle_s=IDLE_S, **settings))
        if freeze_s:
            process = started[0].process
            assert process is not None
            process.send_signal(signal.SIGSTOP)
            time.sleep(freeze_s)
            process.send_signal(signal.SIGCONT)
        settle(started, sent)
    finally:
        for worker in started:
            assert worker.stop() == 0, worker.log_path
    return by_id(deployment.reorders(app_id)), deployment.table_state(app_id)


@pytest.fixture(scope="module")
def reference(replayed):
    deployment, sent = replayed
    commands, state = run(deployment, sent, "reference", batch_max_events=20_000)
    assert len(commands) > 500
    return commands, state


@pytest.mark.parametrize(
    ("app_id", "workers", "freeze_s", "batch"),
    [("small-batches-frozen", 1, 2.0, 997), ("two-workers", 2, 0.0, 5_000)],
)
def test_replays_give_byte_identical_commands_and_state(replayed, reference, app_id, workers, freeze_s, batch):
    deployment, sent = replayed
    expected_commands, expected_state = reference
    commands, state = run(deployment, sent, app_id, workers, freeze_s, batch_max_events=batch)
    assert commands.keys() == expected_commands.keys(), (
        len(commands.keys() - expected_commands.keys()), len(expected_commands.keys() - commands.keys())
    )  # fmt: skip
    changed = [k for k in commands if commands[k] != expected_commands[k]]
    assert not changed, changed[:3]
    differing = series_differences(state, expected_state)
    assert not differing, differing[:5]
    assert dead_letter_origins(deployment, app_id) == dead_letter_origins(deployment, "reference")


def decision_passes(worker: WorkerProcess) -> int:
    return worker.log_path.read_text(errors="replace").count('"decision pass"') if worker.log_path.exists() else 0


def assert_same_as(deployment: Deployment, app_id: str, expected: tuple[dict[str, bytes], dict[bytes, bytes]]) -> None:
    commands, state = by_id(deployment.reorders(app_id)), deployment.table_state(app_id)
    lost, extra = expected[0].keys() - commands.keys(), commands.keys() - expected[0].keys()
    changed = [k for k in commands.keys() & expected[0].keys() if commands[k] != expected[0][k]]
    assert (len(lost), len(extra), len(changed)) == (0, 0, 0), (sorted(lost)[:3], sorted(extra)[:3], changed[:3])
    differing = series_differences(state, expected[1])
    assert not differing, differing[:5]


def test_kill_9_loop_right_after_decision_passes_loses_changes_and_invents_nothing(replayed, reference) -> None:
    deployment, _ = replayed
    rng = random.Random(17)
    app_id = "killed"
    kills = 0
    for _ in range(6):
        worker = deployment.worker(app_id, topic_idle_s=IDLE_S, batch_max_events=rng.choice([500, 3_000, 20_000]))
        before, wanted = decision_passes(worker), rng.randint(1, 60)
        deadline = time.monotonic() + 60
        while decision_passes(worker) < before + wanted and worker.alive() and time.monotonic() < deadline:
            time.sleep(0.005)
        assert worker.alive(), worker.log_path
        worker.kill9()
        kills += 1
    final = deployment.worker(app_id, topic_idle_s=IDLE_S)
    try:
        settle([final], 1, quiet_s=6.0)
    finally:
        assert final.stop() == 0, final.log_path
    assert kills >= 5
    assert_same_as(deployment, app_id, reference)


def test_two_workers_one_killed_mid_stream(replayed, reference) -> None:
    deployment, sent = replayed
    app_id = "half-killed"
    first = deployment.worker(app_id, topic_idle_s=IDLE_S, batch_max_events=2_000)
    second = deployment.worker(app_id, topic_idle_s=IDLE_S, batch_max_events=2_000)
    try:
        deadline = time.monotonic() + 120
        while first.consumed() + second.consumed() < sent // 2 and time.monotonic() < deadline:
            assert first.alive() and second.alive(), (first.log_path, second.log_path)
            time.sleep(0.02)
        second.kill9()
        settle([first], 1, quiet_s=8.0)  # past the session timeout: the survivor takes the dead one's partitions
    finally:
        assert first.stop() == 0, first.log_path
    assert_same_as(deployment, app_id, reference)


def test_broker_frozen_for_30_s_while_producers_keep_sending(tmp_path_factory: pytest.TempPathFactory) -> None:
    messages = demo_history(8, start_day=date(2026, 1, 5), n_skus=60, days=120).messages
    half = len(messages) // 2
    with EmbeddedBroker(tmp_path_factory.mktemp("frozen-broker") / "broker.log") as broker:
        deployment = new_deployment(broker.bootstrap_servers, tmp_path_factory.mktemp("frozen"))
        deployment.publish(messages[:half])
        worker = deployment.worker("through-freeze", topic_idle_s=IDLE_S, batch_max_events=2_000)
        try:
            while worker.consumed() < half // 2:
                assert worker.alive(), worker.log_path
                time.sleep(0.02)
            assert broker.process is not None
            broker.process.send_signal(signal.SIGSTOP)
            sender = threading.Thread(target=deployment.publish, args=(messages[half:],))
            sender.start()  # its sends wait in the producer's queue until the broker answers again
            time.sleep(30)
            broker.process.send_signal(signal.SIGCONT)
            sender.join(120)
            assert not sender.is_alive()
            settle([worker], len(messages), quiet_s=6.0, timeout_s=300)
        finally:
            assert worker.stop() == 0, worker.log_path
        calm = deployment.worker("calm", topic_idle_s=IDLE_S)
        try:
            settle([calm], len(messages))
        finally:
            assert calm.stop() == 0, calm.log_path
        expected = by_id(deployment.reorders("calm")), deployment.table_state("calm")
        assert len(expected[0]) > 100
        assert_same_as(deployment, "through-freeze", expected)
