"""End-to-end: the embedded broker, a worker in a subprocess, confluent-kafka producers and readers."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date
from pathlib import Path

import orjson
import pytest

from schemas import DlqReason, decode_command, decode_dead_letter
from streams.embedded_broker import EmbeddedBroker
from streams.partitioning import key_partition
from streams.sample_events import OutboundMessage, demo_history
from streams.state_codec import HISTORY_BLOCK_DAYS, KEY_ROW
from streams.state_view import parse_table
from streams.worker_process import WorkerProcess

from .conftest import DAY_MS, inventory_payload, order_payload
from .harness import Deployment, new_deployment, wait_for_consumed, wait_until_settled

pytestmark = pytest.mark.integration

DAY0 = 20_000


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory):
    with EmbeddedBroker(tmp_path_factory.mktemp("broker") / "broker.log") as running:
        yield running


def message(kind: str, payload: dict | bytes, key: str = "A|L1", partition: int | None = None) -> OutboundMessage:
    """The record timestamp (when it was produced) is the event time, or day 0 for bytes and bad times."""
    value = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    produced = DAY0 * DAY_MS
    if isinstance(payload, dict) and isinstance(payload.get("event_time"), int):
        produced = max(payload["event_time"], produced)
    return OutboundMessage(kind, key.encode(), value, produced, partition)  # type: ignore[arg-type]


def one_sku_history() -> list[OutboundMessage]:
    """30 days of 4 units a day from 100 on hand (lead time 3, case pack 6, MOQ 12): see test_processor."""
    t0 = DAY0 * DAY_MS
    out = [
        message(
            "inventory",
            inventory_payload(
                "inv0", t0, kind="snapshot", on_hand=100, on_order=0, lead_time_days=3.0, case_pack=6, moq=12
            ),
        )
    ]
    for d in range(30):
        for j in range(4):
            out.append(message("orders", order_payload(f"o{d}-{j}", t0 + d * DAY_MS + 3_600_000 * (8 + j))))
        out.append(
            message("inventory", inventory_payload(f"s{d}", t0 + d * DAY_MS + 72_000_000, kind="shipment", delta=4))
        )
    return out


def bad_messages(previous: OutboundMessage) -> dict[DlqReason, OutboundMessage]:
    """One of each, to follow ``previous`` (the order of day 11 at 11:00, which sets the watermark)."""
    t = DAY0 * DAY_MS + 11 * DAY_MS + 10 * 3_600_000 + 1_800_000
    good = order_payload("bad-base", t)
    return {
        DlqReason.MALFORMED_JSON: message("orders", b'{"schema_version": 1, "event_id": '),
        DlqReason.MISSING_FIELD: message("orders", {k: v for k, v in good.items() if k != "sku"}),
        DlqReason.WRONG_TYPE: message("orders", {**good, "event_id": "b1", "quantity": "3"}),
        DlqReason.INVALID_VALUE: message("orders", {**good, "event_id": "b2", "currency": "pounds"}),
        DlqReason.UNKNOWN_SCHEMA_VERSION: message("orders", {**good, "event_id": "b3", "schema_version": 9}),
        DlqReason.INVALID_QUANTITY: message("orders", {**good, "event_id": "b4", "quantity": 0}),
        DlqReason.ABSURD_QUANTITY: message("orders", {**good, "event_id": "b5", "quantity": 74_215}),
        DlqReason.FUTURE_TIMESTAMP: message("orders", {**good, "event_id": "b6", "event_time": "2100-01-01T00:00:00Z"}),
        DlqReason.OVERSIZED: message("orders", {**good, "event_id": "b7", "channel": "x" * 2_500_000}),
        DlqReason.KEY_MISMATCH: message("orders", {**good, "event_id": "b8"}, key="B|L1"),
        DlqReason.ANCIENT_TIMESTAMP: message("orders", {**good, "event_id": "b10", "event_time": -1}),
        DlqReason.WRONG_PARTITION: message(
            "orders", {**good, "event_id": "b11"}, partition=(key_partition(b"A|L1", 4) + 1) % 4
        ),
        DlqReason.DUPLICATE: previous,
        DlqReason.LATE: message("orders", order_payload("b9", t - 2 * 3_600_000)),
    }


def test_one_command_below_reorder_point_and_every_bad_message_dead_lettered(broker, tmp_path: Path) -> None:
    deployment = new_deployment(broker.bootstrap_servers, tmp_path)
    history = one_sku_history()
    bad = bad_messages(history[59])
    # bad messages go in the middle of the history, so the worker must carry on after them
    messages = history[:60] + list(bad.values()) + history[60:]
    sent = deployment.publish(messages)
    app_id = "single"
    worker = deployment.worker(app_id)
    try:
        wait_until_settled(worker, sent)
        metrics = worker.metrics()
    finally:
        assert worker.stop() == 0
    commands = [decode_command(v) for v in deployment.reorders(app_id)]
    assert len(commands) == 1
    command = commands[0]
    assert (command.sku, command.location, command.quantity, command.rule) == ("A", "L1", 12, "raised_to_moq")
    assert (command.decision_window - date(1970, 1, 1)).days == DAY0 + 22
    letters = [decode_dead_letter(v) for v in deployment.dead_letters(app_id)]
    assert Counter(letter.reason for letter in letters) == Counter(bad.keys())
    for letter in letters:
        if letter.reason is DlqReason.OVERSIZED:  # too large to copy: a reference and a digest
            assert letter.value_size == len(bad[letter.reason].value) and letter.value_b64 is None
            continue
        assert letter.original_value() == bad[letter.reason].value
        assert letter.topic == deployment.topics()["RESTOCK_TOPIC_ORDERS"] and letter.offset >= 0
        assert letter.detail
    assert metrics["restock_accepted_events_total{}"] == len(history)


@pytest.fixture(scope="module")
def replay_inputs(broker, tmp_path_factory: pytest.TempPathFactory) -> tuple[Deployment, int]:
    history = demo_history(11, start_day=date(2026, 3, 2), n_skus=30, n_locations=2, days=45, bad_fraction=0.004)
    deployment = new_deployment(broker.bootstrap_servers, tmp_path_factory.mktemp("replay"))
    return deployment, deployment.publish(history.messages)


@pytest.fixture(scope="module")
def reference_run(replay_inputs) -> tuple[list[bytes], dict[bytes, bytes]]:
    deployment, sent = replay_inputs
    worker = deployment.worker("reference", batch_max_events=5000)
    try:
        wait_until_settled(worker, sent)
    finally:
        assert worker.stop() == 0
    return deployment.reorders("reference"), deployment.table_state("reference")


def dead_letter_origins(deployment: Deployment, app_id: str) -> Counter[tuple[str, int, int, str]]:
    letters = [decode_dead_letter(v) for v in deployment.dead_letters(app_id)]
    return Counter((d.topic.rsplit(".", 1)[-1], d.partition, d.offset, d.reason.value) for d in letters)


def by_id(payloads: list[bytes]) -> dict[str, bytes]:
    """Commands by id; an id published twice (at-least-once) must carry identical bytes."""
    out: dict[str, bytes] = {}
    for payload in payloads:
        command_id = decode_command(payload).command_id
        assert out.setdefault(command_id, payload) == payload, f"two different commands for {command_id}"
    return out


def test_replay_into_fresh_app_id_with_small_batches_is_byte_identical(replay_inputs, reference_run) -> None:
    deployment, sent = replay_inputs
    reference_commands, _ = reference_run
    assert len(reference_commands) > 10
    app_id = "small-batches"
    worker = deployment.worker(app_id, batch_max_events=37)
    try:
        wait_until_settled(worker, sent)
    finally:
        assert worker.stop() == 0
    dlq, reference_dlq = dead_letter_origins(deployment, app_id), dead_letter_origins(deployment, "reference")
    assert set(dlq) == set(reference_dlq), (set(dlq) - set(reference_dlq), set(reference_dlq) - set(dlq))
    commands, expected = by_id(deployment.reorders(app_id)), by_id(reference_commands)
    assert commands.keys() == expected.keys()
    differing = [(commands[k], expected[k]) for k in commands if commands[k] != expected[k]]
    assert not differing, differing[:2]
    differing = series_differences(deployment.table_state(app_id), reference_run[1])
    assert not differing, differing[:5]


def test_kill_9_and_restart_recovers_tables_exactly(replay_inputs, reference_run) -> None:
    deployment, sent = replay_inputs
    reference_commands, reference_state = reference_run
    app_id = "crashy"
    worker = deployment.worker(app_id, batch_max_events=200)
    wait_for_consumed(worker, sent // 2)
    worker.kill9()
    restarted = deployment.worker(app_id, batch_max_events=200)
    try:
        state = converged_state(deployment, app_id, restarted, reference_state)
        assert "ConsistencyError" not in restarted.log_path.read_text()
    finally:
        assert restarted.stop() == 0
    differing = series_differences(state, reference_state)
    assert not differing, differing[:5]
    # a decision re-run after the crash republishes the very same bytes under the same id, nothing else
    assert by_id(deployment.reorders(app_id)) == by_id(reference_commands)


def converged_state(
    deployment: Deployment, app_id: str, worker: WorkerProcess, reference: dict[bytes, bytes], timeout_s: float = 150
) -> dict[bytes, bytes]:
    """The changelog state once it matches ``reference`` key by key (or whatever it is when ``timeout_s`` runs out)."""
    deadline = time.monotonic() + timeout_s
    while True:
        assert worker.alive(), f"restarted worker died; see {worker.log_path}"
        state = deployment.table_state(app_id)
        if not series_differences(state, reference) or time.monotonic() > deadline:
            return state
        time.sleep(2)


def series_differences(state: dict[bytes, bytes], reference: dict[bytes, bytes]) -> list[str]:
    """Keys whose stored state differs (row order inside a shard follows arrival order, so compare per key)."""
    got, want = parse_table(state, HISTORY_BLOCK_DAYS), parse_table(reference, HISTORY_BLOCK_DAYS)
    out = []
    for name in sorted(got.keys() | want.keys()):
        if name not in got or name not in want:
            out.append(f"{name}: only in {'this run' if name in got else 'the reference'}")
        elif got[name].canonical() != want[name].canonical():
            a, b = got[name].row, want[name].row
            fields = [f for f in KEY_ROW.names if a[f].tobytes() != b[f].tobytes()]
            out.append(f"{name}: row fields {fields}")
    return out
