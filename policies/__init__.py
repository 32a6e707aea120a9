"""Replenishment policies for restock: pure numpy, no I/O.

The seam: the caller computes the position with :func:`inventory_position`, the protection-period demand with
``forecast.over_period(params.protection_days)``, and calls :func:`order_up_to`, which returns an
:class:`OrderDecision`; :func:`explain` words one row of it.
"""

from policies.constraints import constrain_quantity
from policies.decision import OrderDecision
from policies.errors import PolicyError
from policies.explain import explain
from policies.order_up_to import order_up_to
from policies.params import ItemParams
from policies.position import inventory_position, shelf_stock
from policies.rules import Rule
from policies.service import z_for_service_level

__all__ = [
    "ItemParams",
    "OrderDecision",
    "PolicyError",
    "Rule",
    "constrain_quantity",
    "explain",
    "inventory_position",
    "order_up_to",
    "shelf_stock",
    "z_for_service_level",
]
