"""The outbound reorder command and its byte encoding.

A command must encode to the same bytes every time the same decision is taken, so that a replay of the
input topics reproduces the output topic exactly: the id is derived from the decision, ``created_at`` is an
event-time watermark (never the wall clock), floats are rounded on construction and keys are sorted.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from typing import Annotated, Literal, Self

import orjson
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from schemas.errors import SchemaError
from schemas.events import KeyPart

OrderType = Literal["purchase", "transfer"]
QuantileLevel = Literal["0.5", "0.9", "0.95", "0.99"]
QUANTILE_LEVELS: tuple[QuantileLevel, ...] = ("0.5", "0.9", "0.95", "0.99")

_DECIMALS = 4


def _round(value: object) -> object:
    # float() also turns numpy scalars into plain floats, which orjson and strict pydantic both accept.
    return round(float(value), _DECIMALS) if isinstance(value, float) else value


def _as_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


Rounded = Annotated[float, BeforeValidator(_round)]
"""A float kept to four decimals, so its shortest repr (and the encoding) cannot drift between runs."""

UtcDatetime = Annotated[AwareDatetime, AfterValidator(_as_utc)]
RuleName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]


def command_id(sku: str, location: str, policy_version: str, decision_window: date) -> str:
    """Derived from the decision, not random, so a replayed or retried decision keeps its id and
    downstream systems can drop the repeat."""
    if isinstance(decision_window, datetime):
        raise SchemaError(f"decision_window must be a date, got the datetime {decision_window!r}; pass its .date()")
    text = f"{sku}|{location}|{policy_version}|{decision_window.isoformat()}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class _Frozen(BaseModel):
    model_config = ConfigDict(
        strict=True,
        frozen=True,
        extra="forbid",
        allow_inf_nan=False,
        json_schema_serialization_defaults_required=True,
    )


class ForecastSummary(_Frozen):
    """The demand forecast a command was sized from, kept with it so the decision can be audited."""

    protection_days: Rounded = Field(gt=0, description="Lead time plus review period, in days.")
    mean: Rounded = Field(ge=0, description="Mean demand over the protection period, units.")
    std: Rounded = Field(ge=0, description="Standard deviation of demand over the protection period.")
    quantiles: dict[QuantileLevel, Rounded] = Field(
        description="Demand over the protection period at each level in QUANTILE_LEVELS.",
        json_schema_extra={"required": list(QUANTILE_LEVELS)},
    )
    daily_mean: Rounded = Field(ge=0)
    method: RuleName = Field(description="The forecaster, e.g. moving_average or short_history_fallback.")

    @model_validator(mode="after")
    def _all_quantiles(self) -> Self:
        if len(self.quantiles) != len(QUANTILE_LEVELS):
            missing = sorted(set(QUANTILE_LEVELS) - self.quantiles.keys())
            raise ValueError(f"quantiles lacks levels {missing}; give all of {list(QUANTILE_LEVELS)}")
        return self


class ReorderCommand(_Frozen):
    """Order ``quantity`` units of ``sku`` for ``location``, with the numbers that justified it."""

    schema_version: Literal[1] = 1
    command_id: str = Field(pattern=r"^[0-9a-f]{32}$", description="command_id(sku, location, ...).")
    sku: KeyPart
    location: KeyPart
    quantity: int = Field(gt=0)
    unit: Literal["each"] = "each"
    order_type: OrderType
    need_by: date
    decision_window: date = Field(description="The day the decision belongs to.")
    decision_time: UtcDatetime = Field(description="The decision boundary, UTC.")
    created_at: UtcDatetime = Field(
        description="Event-time watermark at which the decision was taken (not wall clock)."
    )
    inventory_position: int = Field(description="on_hand + on_order + pending_quantity - backorders.")
    on_hand: int
    on_order: int = Field(ge=0)
    backorders: int = Field(ge=0)
    pending_quantity: int = Field(ge=0, description="restock's own commands not yet acknowledged.")
    reorder_point: Rounded = Field(ge=0)
    order_up_to: Rounded = Field(ge=0)
    safety_stock: Rounded = Field(ge=0)
    forecast: ForecastSummary
    service_level: Rounded = Field(gt=0, lt=1)
    lead_time_days: Rounded = Field(gt=0)
    lead_time_std_days: Rounded = Field(ge=0)
    review_days: int = Field(ge=1)
    case_pack: int = Field(ge=1)
    moq: int = Field(ge=1)
    unit_cost: Rounded | None = Field(
        default=None, ge=0, description="Cost per unit from the item master when known; quantity x unit_cost values it."
    )
    rule: RuleName = Field(description="The rule that fixed the quantity, e.g. order_up_to, raised_to_moq.")
    reason: str = Field(min_length=1, max_length=1000, description="One sentence with the numbers.")
    model_version: str = Field(min_length=1, max_length=64)
    policy_version: str = Field(min_length=1, max_length=64)

    @model_validator(mode="after")
    def _id_matches_decision(self) -> Self:
        expected = command_id(self.sku, self.location, self.policy_version, self.decision_window)
        if self.command_id != expected:
            raise ValueError(
                f"command_id {self.command_id} does not match command_id(sku, location, policy_version,"
                f" decision_window) = {expected}; build it with schemas.command_id"
            )
        return self


def encode_command(command: ReorderCommand) -> bytes:
    """JSON with sorted keys: the same command always gives the same bytes."""
    return orjson.dumps(command.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)


def decode_command(data: bytes) -> ReorderCommand:
    """Read a command back, e.g. from the reorders topic; raises :class:`SchemaError` on any defect."""
    try:
        return ReorderCommand.model_validate_json(data)
    except ValidationError as exc:
        raise SchemaError(f"not a valid ReorderCommand: {exc}") from exc
