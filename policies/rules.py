"""Which step of a policy decided an order quantity, as a compact int code per series.

Codes are stable: new rules are appended at the end, so a code in a stored command keeps its meaning.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["Rule"]


class Rule(IntEnum):
    """The last step that set the quantity (see :func:`policies.order_up_to` and the other policies)."""

    NO_ORDER_ABOVE_REORDER_POINT = 0
    """Position at or above the reorder point s: no order."""
    ORDER_UP_TO = 1
    """Ordered S - position, rounded up to whole units."""
    RAISED_TO_MOQ = 2
    """The need was below the minimum order quantity and was raised to it."""
    ROUNDED_TO_CASE_PACK = 3
    """Rounded up to a multiple of the case pack."""
    CAPPED_BY_MAX_ORDER = 4
    """Cut to the largest case-pack multiple within the maximum order quantity."""
    CAPPED_BY_SHELF = 5
    """Cut to the largest case-pack multiple that still fits the shelf capacity."""
    NO_ORDER_AFTER_CAPS = 6
    """Below the reorder point, but the caps left nothing (or less than the MOQ) to order."""
    ORDER_MULTIPLE_OF_Q = 7
    """(s, Q): ordered the smallest multiple of the batch Q that lifts the position to s or above."""
    TRIMMED_BY_BUDGET = 8
    """The location's budget could not pay for the whole order: cut to the case packs it still affords."""
    CUT_BY_BUDGET = 9
    """The location's budget was spent on orders ranked higher by value per unit of money: no order."""

    @property
    def label(self) -> str:
        """snake_case name, e.g. ``"order_up_to"``, for commands and logs."""
        return self.name.lower()
