"""Turn a raw order-up-to need into an orderable quantity: MOQ, case pack, maximum order, shelf capacity.

Why one function: the steps interact (a cap must land on a case-pack multiple, and a capped order below the
MOQ is not orderable), and the recorded rule must be the last step that changed the quantity.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from policies.params import ItemParams
from policies.rules import Rule

__all__ = ["constrain_quantity"]


def constrain_quantity(
    needed: npt.NDArray[np.int64],
    params: ItemParams,
    shelf_room: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int8]]:
    """Apply, in order, for rows with ``needed > 0`` (other rows are left to the caller):

    1. raise to the MOQ: ``q = max(needed, moq)``;
    2. round up to the case pack: ``q = ceil(q / pack) * pack``;
    3. cap by the maximum order: if ``q > max``, ``q = floor(max / pack) * pack``;
    4. cap by the shelf: if ``q > room`` (room = capacity - on hand - on order - pending),
       ``q = floor(room / pack) * pack``;
    5. if ``q <= 0`` or ``q < moq`` the order cannot be placed: ``q = 0``.

    Returns ``(quantity, rule)``; ``rule`` is the :class:`Rule` of the last step that changed ``q``
    (ORDER_UP_TO when none did). Every positive result is a case-pack multiple, >= moq, <= max and
    fits the shelf; the result never increases when ``needed`` falls or ``shelf_room`` shrinks.
    """
    pack = params.case_pack.astype(np.float64)
    moq = params.moq.astype(np.float64)
    q = needed.astype(np.float64)
    rule = np.full(q.shape, Rule.ORDER_UP_TO, dtype=np.int8)

    raised = q < moq
    q = np.where(raised, moq, q)
    rule[raised] = Rule.RAISED_TO_MOQ

    packed = np.ceil(q / pack) * pack
    rounded = packed != q
    q = packed
    rule[rounded] = Rule.ROUNDED_TO_CASE_PACK

    over_max = q > params.max_order_qty
    q = np.where(over_max, np.floor(params.max_order_qty / pack) * pack, q)
    rule[over_max] = Rule.CAPPED_BY_MAX_ORDER

    over_shelf = q > shelf_room
    q = np.where(over_shelf, np.floor(np.where(over_shelf, shelf_room, 0.0) / pack) * pack, q)
    rule[over_shelf] = Rule.CAPPED_BY_SHELF

    unorderable = (q <= 0) | (q < moq)
    q = np.where(unorderable, 0.0, q)
    rule[unorderable] = Rule.NO_ORDER_AFTER_CAPS
    return q.astype(np.int64), rule
