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


def test_worker_timing_leaves_out_the_merge_idle_tail() -> None:
    # (seconds, events processed, events held in the merge): busy from t=1 to t=5, then 40 events wait ~5 s.
    polls = [(0.0, 0, 0), (1.0, 1000, 500), (2.0, 3000, 900), (5.0, 9960, 40), (5.2, 9960, 40), (10.4, 10000, 0)]
    timing = worker_timing([Sample(t, n, b) for t, n, b in polls], 10_000)
    assert timing.method == "steady"
    assert timing.events_per_s == pytest.approx((9960 - 1000) / 4.0)
    assert (timing.tail_events, timing.idle_tail_s) == (40, pytest.approx(5.4))
