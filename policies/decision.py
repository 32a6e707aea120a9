"""The policy's output: quantities per series, with the numbers and the rule that explain each."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from policies.rules import Rule

__all__ = ["OrderDecision"]

_LABELS = np.array([rule.label for rule in Rule], dtype=np.str_)


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
