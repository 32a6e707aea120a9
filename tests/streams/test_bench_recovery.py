"""`restock bench recovery` end to end at a tiny size: real broker, a real kill -9, restore times on its last line."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from streams.cli import app

pytestmark = pytest.mark.integration


def test_tiny_run_reports_both_restore_times(tmp_path: Path) -> None:
    args = ["bench", "recovery", "--events", "3000", "--series", "300", "--days", "3", "--workdir", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    verdict = orjson.loads(result.stdout.strip().splitlines()[-1])
    assert verdict["restore_local_s"] > 0 and verdict["restore_changelog_s"] > 0
    assert (verdict["series"], verdict["events"]) == (300, 3000) and verdict["changelog_records"] > 0
    assert not list(tmp_path.glob("*/state-*")), "the RocksDB folders of the run are removed"


def test_fewer_events_than_series_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bench", "recovery", "--events", "10", "--series", "20"])
    assert result.exit_code == 2 and "--events" in result.output and "Traceback" not in result.output
