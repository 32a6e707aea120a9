"""The ingest benchmark end to end with tiny numbers: every path runs and the JSON line has the figures."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from streams.bench_ingest import Sample, run_bench, worker_timing

pytestmark = pytest.mark.integration

KEYS = (
    "events_per_s", "raw_events_per_s", "faust_noop_events_per_s", "ratio", "noop_ratio", "changelog_records",
    "peak_rss_mb", "events", "keys", "partitions", "publish_events_per_s",
)  # fmt: skip


def test_tiny_run_prints_a_table_and_a_json_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_bench(events=3000, keys=300, partitions=2, workdir=tmp_path)

    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert orjson.loads(last) == result
    assert set(KEYS) <= set(result)
    assert (result["events"], result["keys"], result["partitions"]) == (3000, 300, 2)
    for key in KEYS:
        assert result[key] > 0, key
    assert result["ratio"] == pytest.approx(result["events_per_s"] / result["raw_events_per_s"], rel=1e-3)
    assert result["noop_ratio"] == pytest.approx(result["events_per_s"] / result["faust_noop_events_per_s"], rel=1e-3)
    assert not list(tmp_path.glob("*/worker/state")), "the RocksDB state of the run is removed"


def test_worker_timing_runs_from_the_first_finished_events_to_the_last() -> None:
    polls = [(0.0, 0), (1.0, 1000), (2.0, 3000), (5.0, 9960), (5.2, 10_000), (6.0, 10_000)]
    timing = worker_timing([Sample(t, n) for t, n in polls], 10_000)
    assert timing.method == "steady"
    assert timing.events_per_s == pytest.approx((10_000 - 1000) / 4.2)


def test_tiny_runs_are_timed_from_before_the_first_batch() -> None:
    timing = worker_timing([Sample(t, n) for t, n in [(0.0, 0), (0.4, 0), (0.6, 900), (0.8, 1000)]], 1000)
    assert timing.method == "coarse" and timing.events_per_s == pytest.approx(1000 / 0.4)
