"""One typed settings object for the worker, the CLI and the demo.

Every field reads the environment variable ``RESTOCK_<FIELD>`` (upper case), and an optional TOML file named
by ``RESTOCK_CONFIG`` (or passed to :func:`load_settings`) supplies values below the environment in
precedence. Nothing reads the environment on import: call :func:`load_settings` at the edge.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from schemas import ValidationLimits, to_epoch_ms

DAY_SECONDS = 86_400


class Settings(BaseSettings):
    """Runtime configuration. Defaults are safe for a single local worker on the embedded broker."""

    model_config = SettingsConfigDict(env_prefix="RESTOCK_", frozen=True, extra="forbid")

    # --- broker and topics -------------------------------------------------------------------------
    bootstrap_servers: str | None = Field(
        default=None,
        description="Kafka bootstrap servers (host:port,...). Unset: `restock demo` starts the embedded broker.",
    )
    app_id: str = Field(default="restock", description="Consumer group id and prefix of the state changelog topic.")
    topic_orders: str = "restock.orders"
    topic_inventory: str = "restock.inventory"
    topic_clicks: str = "restock.clicks"
    topic_reorders: str = "restock.reorders"
    topic_dlq: str = "restock.dlq"
    topic_cuts: str = Field(
        default="restock.decision-cuts",
        description="Where the worker records the input offsets of decisions the idle rule released, so a "
        "restart or replay takes them at the same offsets (streams.engine.cuts).",
    )
    cuts_app_id: str | None = Field(
        default=None,
        description="Whose decision cuts to follow: unset, this app's own; a replay into a fresh app id names the "
        "live app to reproduce its commands byte for byte.",
    )
    partitions: int = Field(default=4, ge=1, description="Partitions of every input, state and output topic.")
    replication_factor: int = Field(default=1, ge=1)
    session_timeout_s: float = Field(default=6.0, gt=0, description="Consumer group session timeout.")
    heartbeat_interval_s: float = Field(default=1.0, gt=0)
    max_poll_interval_s: float = Field(
        default=60.0,
        ge=1,
        description="The longest a worker may go between polls (a decision pass holds the loop) "
        "before the group drops it; it is also the rebalance timeout, how long a rebalance waits for a member "
        "that died in the middle of joining.",
    )

    # --- time and state ----------------------------------------------------------------------------
    bucket_seconds: int = Field(default=DAY_SECONDS, ge=3600, description="Width of one demand bucket.")
    grace_seconds: int = Field(
        default=3600, ge=0, description="How far behind the partition's event-time watermark an event may be."
    )
    history_days: int = Field(default=120, ge=14, le=3660, description="Closed buckets kept per series.")
    decision_time: time = Field(default=time(6, 0), description="UTC time of day of the daily decision.")
    idle_close_after_s: float = Field(
        default=300.0,
        gt=0,
        description="Wall-clock idleness after which a partition's event time is advanced by the idle time.",
    )
    topic_idle_s: float = Field(
        default=10.0,
        gt=0,
        description=(
            "Wall-clock quiet after which an input topic of a partition stops holding back its decisions "
            "(see streams.pacing)."
        ),
    )
    max_topic_lead_seconds: int = Field(
        default=DAY_SECONDS,
        ge=3600,
        description="Event time an input topic may run ahead of the slowest one of its partition before it is paused.",
    )
    state_shards: int = Field(
        default=16,
        ge=1,
        le=4096,
        description=(
            "State records per partition; keys are spread over them by hash. Fixed for the life of the state: "
            "changing it needs a rebuild into a fresh app id."
        ),
    )
    dedup_horizon_seconds: int = Field(
        default=3600, ge=0, description="Event-time window in which a repeated event_id is a duplicate."
    )
    state_dir: Path = Field(default=Path("var/state"), description="RocksDB tables live under this folder.")

    # --- validation limits -------------------------------------------------------------------------
    max_message_bytes: int = Field(default=64 * 1024, ge=256)
    max_quantity: int = Field(default=10_000, ge=1, description="Larger quantities go to the DLQ as absurd.")
    max_future_seconds: int = Field(
        default=DAY_SECONDS,
        ge=0,
        description="Events further ahead of their record's timestamp (when it was produced) go to the DLQ.",
    )
    earliest_event_time: datetime = Field(
        default=datetime(2000, 1, 1, tzinfo=UTC),
        description="Events dated before it (a zero, negative or seconds-for-milliseconds event_time) go to the "
        "DLQ as ancient_timestamp instead of starting a partition's history decades ago.",
    )
    dlq_max_copy_bytes: int = Field(
        default=256 * 1024,
        ge=0,
        le=512 * 1024,
        description="Largest original value copied into a dead letter; a larger one travels as its size and "
        "SHA-256 (the original stays in its input topic), so a dead letter always fits the topic.",
    )
    click_default_location: str = Field(
        default="web", min_length=1, description="Location of click events that carry none (used in the key)."
    )

    # --- processing --------------------------------------------------------------------------------
    batch_max_events: int = Field(
        default=20_000,
        ge=1,
        description="Events taken per batch: state is written once per batch, so larger batches write less.",
    )
    batch_within_s: float = Field(default=1.0, gt=0, description="Longest wait to fill a batch.")

    # --- policy defaults (an InventoryEvent's item master overrides them per sku|location) -------------
    service_level: float = Field(default=0.95, gt=0.5, lt=1.0, description="Target cycle service level.")
    review_days: int = Field(default=1, ge=1, description="Review period R of the order-up-to policy.")
    calibration_origins: int = Field(
        default=12,
        ge=0,
        le=52,
        description="Past weekly origins whose forecasts are scored to calibrate the safety factor to the target "
        "(policies.calibration); 0: the forecast's own normal quantile.",
    )
    calibration_min_windows: int = Field(
        default=200, ge=1, description="Uncensored past windows a partition needs before its calibration is used."
    )
    default_lead_time_days: float = Field(default=7.0, gt=0)
    default_lead_time_std_days: float = Field(default=0.0, ge=0)
    forecast_window_days: int = Field(default=28, ge=7, description="Trailing window of the baseline forecaster.")
    min_history_days: int = Field(default=14, ge=1, description="Days of history before a series is forecast.")
    model_dir: Path | None = Field(
        default=None,
        description="Folder of a trained forecaster (`restock train --out`); unset: the moving-average baseline.",
    )
    calendar_path: Path | None = Field(
        default=None,
        description="Table of event and SNAP days, past and future (forecasting.calendar), read at start; a model "
        "trained with --calendar needs it to see them.",
    )
    model_check_s: float = Field(default=30.0, gt=0, description="How often the model folder is checked for a new one.")
    forecast_device: Literal["auto", "cpu", "cuda"] = Field(
        default="auto", description="Where the forecaster runs: auto takes CUDA when torch sees a GPU."
    )
    pending_timeout_days: int = Field(
        default=14,
        ge=0,
        description="Days past its need-by date after which an unacknowledged command no longer counts as on order.",
    )
    policy_version: str = Field(default="out-v1", min_length=1)

    # --- observability -----------------------------------------------------------------------------
    web_bind: str = Field(default="127.0.0.1", description="Bind address of the metrics endpoint.")
    web_port: int = Field(default=6066, ge=0, le=65535, description="0 disables the metrics endpoint.")
    log_level: str = "info"

    @field_validator("web_bind")
    @classmethod
    def _web_bind_is_an_address(cls, value: str) -> str:
        if not value:
            raise ValueError("web_bind must be an address, e.g. 127.0.0.1 (the default; 0.0.0.0 only in containers)")
        return value

    @field_validator("earliest_event_time")
    @classmethod
    def _earliest_is_aware(cls, value: datetime) -> datetime:
        if value.utcoffset() is None:
            raise ValueError("earliest_event_time needs a UTC offset, e.g. 2000-01-01T00:00:00Z")
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _group_timeouts_agree(self) -> Settings:
        """Kafka refuses a member whose poll interval is below its session timeout; a heartbeat interval at or
        above the session timeout drops the member between heartbeats."""
        if self.max_poll_interval_s < self.session_timeout_s:
            raise ValueError(
                f"max_poll_interval_s={self.max_poll_interval_s:g} is below session_timeout_s="
                f"{self.session_timeout_s:g}; Kafka requires max.poll.interval.ms >= session.timeout.ms"
            )
        if self.heartbeat_interval_s >= self.session_timeout_s:
            raise ValueError(
                f"heartbeat_interval_s={self.heartbeat_interval_s:g} must be below session_timeout_s="
                f"{self.session_timeout_s:g} (a third of it is usual)"
            )
        return self

    @model_validator(mode="after")
    def _buckets_divide_days(self) -> Settings:
        if DAY_SECONDS % self.bucket_seconds:
            raise ValueError(f"bucket_seconds={self.bucket_seconds} must divide a day ({DAY_SECONDS} s) evenly")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @property
    def input_topics(self) -> tuple[str, str, str]:
        return (self.topic_orders, self.topic_inventory, self.topic_clicks)

    @property
    def topic_changelog(self) -> str:
        """The state changelog (``streams.state.changelog_codec``): one per app id, like its consumer group."""
        return f"{self.app_id}.state-changelog"

    @property
    def all_topics(self) -> tuple[str, ...]:
        return (*self.input_topics, self.topic_reorders, self.topic_dlq, self.topic_cuts, self.topic_changelog)

    @property
    def validation_limits(self) -> ValidationLimits:
        return ValidationLimits(
            max_message_bytes=self.max_message_bytes,
            max_quantity=self.max_quantity,
            max_future_ms=self.max_future_seconds * 1000,
            click_default_location=self.click_default_location,
            earliest_event_ms=to_epoch_ms(self.earliest_event_time),
        )

    @property
    def decision_offset_seconds(self) -> int:
        """Seconds after midnight UTC at which the daily decision boundary falls."""
        t = self.decision_time
        return t.hour * 3600 + t.minute * 60 + t.second


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build settings from (highest first) ``overrides``, ``RESTOCK_*`` env vars and a TOML file.

    The file is ``config_file`` or else the one named by ``RESTOCK_CONFIG``; neither is required.
    """
    named = config_file or (Path(os.environ["RESTOCK_CONFIG"]) if os.environ.get("RESTOCK_CONFIG") else None)
    if named is None:
        return Settings(**overrides)
    if not named.is_file():
        raise FileNotFoundError(f"settings file {named} does not exist; pass an existing TOML file")

    class FileSettings(Settings):
        model_config = SettingsConfigDict(**{**Settings.model_config, "toml_file": named})

    return FileSettings(**overrides)
