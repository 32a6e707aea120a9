"""Small enums that say which policy decided a row and which service measure its target is in.

Stored as int8 codes in arrays (like :class:`~policies.rules.Rule`); new members are only ever appended so
that codes written to commands and logs keep their meaning.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["PolicyKind", "ServiceMeasure"]


class PolicyKind(IntEnum):
    """The replenishment policy that produced a row of an :class:`~policies.decision.OrderDecision`."""

    PERIODIC_ORDER_UP_TO = 0
    """(R, s, S) periodic review: order up to S = s + d R when the position is below s."""
    REORDER_POINT_QUANTITY = 1
    """(s, Q) continuous review: order the smallest multiple of Q that lifts the position to s or above."""
    REORDER_POINT_ORDER_UP_TO = 2
    """(s, S) continuous review with S = s + Q: order up to S when the position is below s."""
    NEWSVENDOR = 3
    """Critical-ratio base stock: order up to the demand quantile at the critical ratio."""

    @property
    def label(self) -> str:
        """snake_case name, e.g. ``"periodic_order_up_to"``."""
        return self.name.lower()


class ServiceMeasure(IntEnum):
    """What a service target means (Silver, Pyke & Peterson, 4th ed., section 6.5)."""

    CYCLE_SERVICE_LEVEL = 0
    """alpha = P(no stockout in a replenishment cycle): z = Phi^-1(alpha)."""
    FILL_RATE = 1
    """beta = fraction of demand met from stock: sigma G(z) = (1 - beta) x demand per cycle."""

    @property
    def label(self) -> str:
        """snake_case name, e.g. ``"fill_rate"``."""
        return self.name.lower()
