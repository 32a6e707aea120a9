"""`restock bench faults` end to end at a tiny size: real broker, real kills, the verdict on its last line."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from streams.cli import app

pytestmark = pytest.mark.integration


def test_tiny_soak_finds_nothing_lost_changed_or_invented(tmp_path: Path) -> None:
    args = ["bench", "faults", "--skus", "10", "--locations", "2", "--days", "30", "--kills", "2", "--freeze-s", "1",
            "--workdir", str(tmp_path)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    verdict = orjson.loads(result.stdout.strip().splitlines()[-1])
    assert (verdict["lost"], verdict["extra"], verdict["changed"], verdict["state_keys_differing"]) == (0, 0, 0, 0)
    assert verdict["commands"] > 0 and verdict["kills"] == 2
    assert verdict["restore_local_s"]["count"] >= 2


def test_bad_sizes_are_one_line_and_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bench", "faults", "--kills", "0", "--workdir", str(tmp_path)])
    assert result.exit_code == 2
    assert "--kills" in result.output and "Traceback" not in result.output
