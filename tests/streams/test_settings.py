from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from streams.settings import Settings, load_settings


def test_defaults_are_safe() -> None:
    settings = Settings()
    assert settings.web_bind == "127.0.0.1"
    assert settings.bootstrap_servers is None
    assert settings.decision_offset_seconds == 6 * 3600


def test_environment_overrides_toml_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "restock.toml"
    config.write_text('partitions = 3\nservice_level = 0.9\ntopic_orders = "shop.orders"\n')
    monkeypatch.setenv("RESTOCK_PARTITIONS", "8")
    settings = load_settings(config)
    assert (settings.partitions, settings.service_level, settings.topic_orders) == (8, 0.9, "shop.orders")


def test_config_file_named_by_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "restock.toml"
    config.write_text("history_days = 60\n")
    monkeypatch.setenv("RESTOCK_CONFIG", str(config))
    assert load_settings().history_days == 60


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("field", "value"), [("bucket_seconds", 7000), ("service_level", 1.0), ("partitions", 0), ("web_bind", "")]
)
def test_invalid_values_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        Settings(**{field: value})


def test_unknown_setting_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(partition_count=4)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"session_timeout_s": 10.0, "max_poll_interval_s": 5.0}, "max.poll.interval.ms >= session.timeout.ms"),
        ({"session_timeout_s": 3.0, "heartbeat_interval_s": 3.0}, "heartbeat_interval_s=3 must be below"),
    ],
)
def test_group_timeouts_that_kafka_would_refuse_are_refused_at_start(overrides: dict[str, float], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(**overrides)  # type: ignore[arg-type]


def test_the_changelog_topic_is_created_with_the_others() -> None:
    settings = Settings(app_id="shop")
    assert settings.topic_changelog == "shop.state-changelog" and settings.topic_changelog in settings.all_topics
