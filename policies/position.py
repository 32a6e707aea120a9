"""Inventory position: the stock a periodic-review policy compares with its reorder point.

Why restock's own pending orders count: a command already sent but not yet acknowledged upstream is stock
on its way; leaving it out would make every decision pass re-order the same units until the warehouse
acknowledges (Silver, Pyke & Peterson, "Inventory and Production Management in Supply Chains", 4th ed., ch. 6:
inventory position = on hand + on order - backorders).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from policies._arrays import check_condition, vector
from policies.params import flags

__all__ = ["inventory_position", "shelf_stock"]


def _counts(
    on_hand: npt.ArrayLike, on_order: npt.ArrayLike, pending: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    hand = vector("on_hand", on_hand)
    n = hand.shape[0]
    order = vector("on_order", on_order, n)
    pend = vector("pending", pending, n)
    for name, array in (("on_hand", hand), ("on_order", order), ("pending", pend)):
        check_condition(name, np.isfinite(array) & (array >= 0), "must be finite and >= 0")
    return hand, order, pend


def inventory_position(
    on_hand: npt.ArrayLike,
    on_order: npt.ArrayLike,
    backorders: npt.ArrayLike,
    pending: npt.ArrayLike,
    *,
    lost_sales: npt.ArrayLike | None = None,
) -> npt.NDArray[np.float64]:
    """``[n]`` inventory position = on_hand + on_order - backorders + pending (all ``[n]``, finite, >= 0).

    ``pending`` is restock's own issued orders that upstream has not yet acknowledged (not yet in on_order).
    ``lost_sales`` (optional ``[n]`` bool, e.g. ``params.lost_sales``): where True, demand that found the
    shelf empty is lost, nobody waits for it, so the backorders term is zero whatever ``backorders`` says
    (Silver, Pyke & Peterson, 4th ed., section 6.3: under lost sales the position is on hand + on order).
    """
    hand, order, pend = _counts(on_hand, on_order, pending)
    n = hand.shape[0]
    back = vector("backorders", backorders, n)
    check_condition("backorders", np.isfinite(back) & (back >= 0), "must be finite and >= 0")
    if lost_sales is not None:
        back = np.where(flags("lost_sales", lost_sales, n), 0.0, back)
    position: npt.NDArray[np.float64] = hand + order - back + pend
    return position


def shelf_stock(on_hand: npt.ArrayLike, on_order: npt.ArrayLike, pending: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """``[n]`` units that will occupy the shelf once everything ordered arrives: on_hand + on_order + pending.

    The shelf-capacity cap of :func:`policies.order_up_to` needs this, not the position: backorders are owed
    to customers but do not free shelf space before the stock arrives.
    """
    hand, order, pend = _counts(on_hand, on_order, pending)
    stock: npt.NDArray[np.float64] = hand + order + pend
    return stock
