from __future__ import annotations

import math
import tomllib

import numpy as np
import pytest

from policies import ItemMaster, PolicyConfig, PolicyError, ServiceMeasure, location_budgets, resolve_params

TOML = """
[default]
lead_time_days = 5
service_level = 0.95
moq = 2
unit_cost = 1.0

[category.toys]
service_measure = "fill_rate"
service_level = 0.98
lost_sales = true
moq = 6
price = 9.5

[series."A|L1"]
moq = 24
review_days = 7

[location.L1]
budget = 5000.0
"""

IDS = ["A|L1", "B|L1", "C|L2", "D|L2"]
CATEGORIES = ["toys", "toys", None, "garden"]


def config() -> PolicyConfig:
    return PolicyConfig.from_mapping(tomllib.loads(TOML))


def test_precedence_item_master_over_series_over_category_over_default() -> None:
    master = ItemMaster(
        moq=np.array([np.nan, 12.0, np.nan, np.nan]),
        lead_time_days=np.array([np.nan, np.nan, 3.0, np.nan]),
        unit_cost=np.array([2.5, np.nan, np.nan, np.nan]),
    )
    resolved = resolve_params(config(), IDS, CATEGORIES, master)
    items, costs = resolved.items, resolved.costs
    assert items.moq.tolist() == [24, 12, 2, 2]  # series, item master, default, default (unknown category)
    assert items.lead_time_days.tolist() == [5.0, 5.0, 3.0, 5.0]
    assert items.review_days.tolist() == [7.0, 1.0, 1.0, 1.0]  # series, then built-in
    np.testing.assert_allclose(items.service_level, [0.98, 0.98, 0.95, 0.95])
    assert items.service_measure.tolist() == [ServiceMeasure.FILL_RATE] * 2 + [ServiceMeasure.CYCLE_SERVICE_LEVEL] * 2
    assert items.lost_sales.tolist() == [True, True, False, False]
    assert np.isinf(items.max_order_qty).all()
    np.testing.assert_allclose(costs.unit_cost, [2.5, 1.0, 1.0, 1.0])
    np.testing.assert_allclose(costs.price[:2], [9.5, 9.5])
    assert np.isnan(costs.price[2:]).all()


def test_location_budgets() -> None:
    index, budget, names = location_budgets(config(), IDS)
    assert names.tolist() == ["L1", "L2"]
    assert index.tolist() == [0, 0, 1, 1]
    assert budget[0] == 5000.0 and math.isinf(budget[1])
    with pytest.raises(PolicyError, match=r"^series_ids:"):
        location_budgets(config(), ["nolocation"])


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"defaults": {}}, r"^defaults: unknown config table"),
        ({"default": {"moq": 0}}, r"^moq: expected an int >= 1 in default"),
        ({"default": {"moq": 2.5}}, r"^moq: expected an int >= 1 in default"),
        ({"category": {"toys": {"service_level": 1.2}}}, r"^service_level: .* in category\.toys"),
        ({"series": {"A|L1": {"lead_time_days": -1}}}, r"^lead_time_days: must be >= 0 in series\.A\|L1"),
        ({"series": {"A|L1": {"leadtime": 1}}}, r"^leadtime: unknown parameter in series\.A\|L1"),
        ({"default": {"service_measure": "csl"}}, r"^service_measure: expected one of"),
        ({"default": {"lost_sales": 1}}, r"^lost_sales: expected true or false in default"),
        ({"default": {"price": "cheap"}}, r"^price: expected a number in default"),
        ({"default": {"shelf_capacity": -math.inf}}, r"^shelf_capacity: expected a finite number"),
        ({"location": {"L1": {"budget": -5}}}, r"^budget: expected a number >= 0 in location\.L1"),
        ({"category": {"toys": 3}}, r"^category\.toys: expected a table"),
    ],
)
def test_config_errors_name_parameter_and_section(raw: dict[str, object], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        PolicyConfig.from_mapping(raw)


def test_infinite_caps_allowed() -> None:
    parsed = PolicyConfig.from_mapping({"default": {"lead_time_days": 2, "max_order_qty": math.inf}})
    assert parsed.default.max_order_qty == math.inf


def test_resolution_errors_name_the_series() -> None:
    with pytest.raises(PolicyError, match=r"^lead_time_days: no value for series 'B\|L1'"):
        resolve_params(PolicyConfig.from_mapping({"series": {"A|L1": {"lead_time_days": 1}}}), IDS[:3], [None] * 3)
    with pytest.raises(PolicyError, match=r"^case_pack: item master value 0.0 for series 'B\|L1'"):
        resolve_params(config(), IDS, CATEGORIES, ItemMaster(case_pack=np.array([np.nan, 0.0, 1.0, 1.0])))
    # Consistency checks of ItemParams gain the series id: max order 10 < moq 24 of A|L1.
    capped = PolicyConfig.from_mapping(tomllib.loads(TOML.replace("[default]\n", "[default]\nmax_order_qty = 10\n")))
    with pytest.raises(PolicyError, match=r"^max_order_qty: .*\(series 'A\|L1'\)"):
        resolve_params(capped, IDS, CATEGORIES)
    with pytest.raises(PolicyError, match=r"^categories: expected length 4"):
        resolve_params(config(), IDS, ["toys"])
