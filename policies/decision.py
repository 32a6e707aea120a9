"""The policy's output: quantities per series, with the numbers and the rule that explain each."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from policies.errors import PolicyError
from policies.kinds import PolicyKind, ServiceMeasure
from policies.rules import Rule

__all__ = ["OrderDecision"]

_LABELS = np.array([rule.label for rule in Rule], dtype=np.str_)
_POLICY_LABELS = np.array([kind.label for kind in PolicyKind], dtype=np.str_)


def _empty_int8() -> npt.NDArray[np.int8]:
    return np.zeros(0, dtype=np.int8)


def _empty_int64() -> npt.NDArray[np.int64]:
    return np.zeros(0, dtype=np.int64)


def _empty_float() -> npt.NDArray[np.float64]:
    return np.zeros(0, dtype=np.float64)


# Optional fields: name -> (dtype, value that fills an omitted (empty) field).
_OPTIONAL: dict[str, tuple[type[np.generic], float]] = {
    "policy": (np.int8, float(PolicyKind.PERIODIC_ORDER_UP_TO)),
    "service_measure": (np.int8, float(ServiceMeasure.CYCLE_SERVICE_LEVEL)),
    "target": (np.float64, float("nan")),
    "batch_quantity": (np.float64, float("nan")),
    "value_per_money": (np.float64, float("nan")),
    "budget_rank": (np.int64, -1.0),
    "budget_left": (np.float64, float("nan")),
    "order_cost": (np.float64, float("nan")),
}


@dataclass(frozen=True, slots=True)
class OrderDecision:
    """Outcome of one decision pass for ``n`` series; every field is ``[n]``.

    Attributes:
        quantity: int64 units to order now (0: no order); a multiple of the case pack and >= moq when > 0.
        rule: int8 :class:`Rule` codes, the last step that set the quantity.
        reorder_point: s = protection_mean + safety_stock.
        order_up_to: S = s + daily mean * R.
        safety_stock: z * protection_std.
        protection_mean: mean demand over the protection period L + R.
        protection_std: sigma_P, std of protection-period demand including the lead-time-uncertainty term.
        position: inventory position the decision compared with s.
        z: safety factor of the target service level.
        needed: int64 whole units S - position rounded up, before MOQ, case pack and caps (0 if no order).
        shelf_room: shelf_capacity - shelf stock (inf without a shelf cap).

    Optional fields (added with the (s, Q), (s, S), newsvendor and budget rules; an omitted one is filled
    with its "not applicable" value so that older constructors keep working):
        policy: int8 :class:`~policies.kinds.PolicyKind` codes (default PERIODIC_ORDER_UP_TO).
        service_measure: int8 :class:`~policies.kinds.ServiceMeasure` of ``target`` (default cycle service).
        target: the probability the safety factor was set for: the cycle service level alpha, the fill rate
            beta, or the newsvendor critical ratio (nan: not recorded; :func:`policies.explain` then reads
            ``params.service_level``).
        batch_quantity: Q of the (s, Q) and (s, S) policies (nan otherwise).
        value_per_money: expected shortage value avoided per unit of money spent on the order, as ranked by
            :func:`policies.apply_budget` (nan when no budget was applied or no order).
        budget_rank: 0-based rank of the order among its location's orders by ``value_per_money`` (-1: none).
        budget_left: money left in the location's budget when this order's turn came (nan: none).
        order_cost: quantity x unit cost before the budget (nan: no budget applied).
    """

    quantity: npt.NDArray[np.int64]
    rule: npt.NDArray[np.int8]
    reorder_point: npt.NDArray[np.float64]
    order_up_to: npt.NDArray[np.float64]
    safety_stock: npt.NDArray[np.float64]
    protection_mean: npt.NDArray[np.float64]
    protection_std: npt.NDArray[np.float64]
    position: npt.NDArray[np.float64]
    z: npt.NDArray[np.float64]
    needed: npt.NDArray[np.int64]
    shelf_room: npt.NDArray[np.float64]
    policy: npt.NDArray[np.int8] = field(default_factory=_empty_int8)
    service_measure: npt.NDArray[np.int8] = field(default_factory=_empty_int8)
    target: npt.NDArray[np.float64] = field(default_factory=_empty_float)
    batch_quantity: npt.NDArray[np.float64] = field(default_factory=_empty_float)
    value_per_money: npt.NDArray[np.float64] = field(default_factory=_empty_float)
    budget_rank: npt.NDArray[np.int64] = field(default_factory=_empty_int64)
    budget_left: npt.NDArray[np.float64] = field(default_factory=_empty_float)
    order_cost: npt.NDArray[np.float64] = field(default_factory=_empty_float)

    def __post_init__(self) -> None:
        n = int(np.asarray(self.quantity).shape[0])
        for name, (dtype, fill) in _OPTIONAL.items():
            value = np.asarray(getattr(self, name))
            if value.shape == (0,):
                value = np.full(n, fill, dtype=dtype)
            elif value.shape != (n,):
                raise PolicyError(f"{name}: expected shape [{n}], got {value.shape}")
            object.__setattr__(self, name, value.astype(dtype, copy=False))

    @property
    def n(self) -> int:
        """Number of series."""
        return int(self.quantity.shape[0])

    def rule_at(self, i: int) -> Rule:
        """The :class:`Rule` of series ``i``."""
        return Rule(int(self.rule[i]))

    def labels(self) -> npt.NDArray[np.str_]:
        """``[n]`` snake_case rule labels, e.g. ``"order_up_to"``."""
        labels: npt.NDArray[np.str_] = _LABELS[self.rule.astype(np.intp)]
        return labels

    def policy_at(self, i: int) -> PolicyKind:
        """The :class:`~policies.kinds.PolicyKind` of series ``i``."""
        return PolicyKind(int(self.policy[i]))

    def policy_labels(self) -> npt.NDArray[np.str_]:
        """``[n]`` snake_case policy labels, e.g. ``"newsvendor"``."""
        labels: npt.NDArray[np.str_] = _POLICY_LABELS[self.policy.astype(np.intp)]
        return labels
