"""Replenishment policies for restock: pure numpy, no I/O, vectorised over a batch of n series.

The seam: the caller computes the position with :func:`inventory_position` (``lost_sales=params.lost_sales``
drops backorders where sales are lost), the protection-period demand with
``forecast.over_period(params.protection_days)`` (or ``params.lead_time_days`` for continuous review), and
calls one policy, each returning an :class:`OrderDecision` with the rule that fired:

- :func:`order_up_to`: periodic (R, s, S) at a cycle service level or fill rate;
- :func:`s_q_policy` / :func:`s_s_policy`: continuous review (s, Q) / (s, S), Q e.g. the
  :func:`economic_order_quantity`;
- :func:`newsvendor`: base stock at the critical ratio of :func:`critical_ratio`.

:func:`apply_budget` then fits each location's spend to its budget, and :func:`explain` words one row.
Parameters come from a config file and the item master through :func:`resolve_params`.

:func:`simulate` runs any decider (:func:`order_up_to_decider` with the worker's forecaster and policy,
:func:`min_max_decider`, the perfect-foresight :func:`oracle_decider`) day by day over a
:class:`SimulationSetup` and returns a :class:`SimulationResult` of service and cost measures.
"""

from policies.budget import apply_budget, expected_shortage
from policies.config import ItemMaster, ParamOverrides, PolicyConfig, ResolvedParams, location_budgets, resolve_params
from policies.constraints import constrain_quantity
from policies.continuous import reorder_point, s_q_policy, s_s_policy
from policies.costs import CostParams, economic_order_quantity
from policies.decision import OrderDecision
from policies.errors import PolicyError
from policies.explain import explain
from policies.kinds import PolicyKind, ServiceMeasure
from policies.newsvendor import critical_ratio, critical_ratio_from_costs, newsvendor, newsvendor_level
from policies.normal import (
    inverse_standard_normal_loss,
    standard_normal_cdf,
    standard_normal_loss,
    standard_normal_pdf,
    standard_normal_sf,
)
from policies.order_up_to import order_up_to
from policies.params import ItemParams
from policies.position import inventory_position, shelf_stock
from policies.rules import Rule
from policies.service import protection_std, safety_factor, z_for_fill_rate, z_for_service_level
from policies.simulator import (
    DailyTrace,
    Decider,
    SimulationResult,
    SimulationSetup,
    SimulationTotals,
    SystemView,
    draw_lead_times,
    min_max_decider,
    oracle_decider,
    order_up_to_decider,
    simulate,
)

__all__ = [
    "CostParams",
    "DailyTrace",
    "Decider",
    "ItemMaster",
    "ItemParams",
    "OrderDecision",
    "ParamOverrides",
    "PolicyConfig",
    "PolicyError",
    "PolicyKind",
    "ResolvedParams",
    "Rule",
    "ServiceMeasure",
    "SimulationResult",
    "SimulationSetup",
    "SimulationTotals",
    "SystemView",
    "apply_budget",
    "constrain_quantity",
    "critical_ratio",
    "critical_ratio_from_costs",
    "draw_lead_times",
    "economic_order_quantity",
    "expected_shortage",
    "explain",
    "inventory_position",
    "inverse_standard_normal_loss",
    "location_budgets",
    "min_max_decider",
    "newsvendor",
    "newsvendor_level",
    "oracle_decider",
    "order_up_to",
    "order_up_to_decider",
    "protection_std",
    "reorder_point",
    "resolve_params",
    "s_q_policy",
    "s_s_policy",
    "safety_factor",
    "shelf_stock",
    "simulate",
    "standard_normal_cdf",
    "standard_normal_loss",
    "standard_normal_pdf",
    "standard_normal_sf",
    "z_for_fill_rate",
    "z_for_service_level",
]
