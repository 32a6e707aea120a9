"""End-to-end: a running worker picks up a model dropped into RESTOCK_MODEL_DIR and stamps its version."""

from __future__ import annotations

import shutil
import time
from datetime import date
from pathlib import Path

import pytest

from forecasting import MovingAverageForecaster
from schemas import decode_command
from streams.embedded_broker import EmbeddedBroker
from streams.sample_events import demo_history

from .harness import new_deployment, wait_until_settled

pytestmark = pytest.mark.integration

FIXTURE = Path(__file__).parents[1] / "forecasting" / "data" / "lstm_format1"
FIXTURE_VERSION = "lstm-c6dd5d135646"


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory):
    with EmbeddedBroker(tmp_path_factory.mktemp("broker") / "broker.log") as running:
        yield running


def test_worker_swaps_in_a_new_model_without_a_restart(broker, tmp_path: Path) -> None:
    history = demo_history(5, start_day=date(2026, 3, 2), n_skus=20, n_locations=1, days=40, bad_fraction=0.0)
    messages = sorted(history.messages, key=lambda m: m.event_time_ms)
    split = next(i for i, m in enumerate(messages) if m.event_time_ms >= messages[0].event_time_ms + 25 * 86_400_000)
    deployment = new_deployment(broker.bootstrap_servers, tmp_path)
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    worker = deployment.worker("swap", model_dir=model_dir, model_check_s=0.2, forecast_device="cpu")
    try:
        sent = deployment.publish(messages[:split])
        wait_until_settled(worker, sent)
        before = [decode_command(v) for v in deployment.reorders("swap")]
        shutil.copytree(FIXTURE, model_dir, dirs_exist_ok=True)
        time.sleep(0.5)
        sent += deployment.publish(messages[split:])
        wait_until_settled(worker, sent)
        metrics = worker.metrics()
    finally:
        assert worker.stop() == 0
    seen = {c.command_id for c in before}
    after = [c for c in (decode_command(v) for v in deployment.reorders("swap")) if c.command_id not in seen]
    assert before and after, "the history should order both before and after the swap"
    assert {c.model_version for c in before} == {MovingAverageForecaster().version}
    assert {c.model_version for c in after} == {FIXTURE_VERSION}
    assert {c.forecast.method for c in after} <= {"lstm", "tsb_fallback"}
    assert min(c.decision_window for c in after) > max(c.decision_window for c in before)
    assert metrics["restock_model_loads_total{outcome=loaded}"] == 1
    assert metrics[f"restock_model_info{{model_version={FIXTURE_VERSION}}}"] == 1
