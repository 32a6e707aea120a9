from __future__ import annotations

import numpy as np
import pytest

from policies import ItemParams, PolicyError


def good() -> dict[str, np.ndarray]:
    return {
        "lead_time_days": np.array([3.0, 5.0]),
        "lead_time_std_days": np.array([0.0, 1.0]),
        "review_days": np.array([1.0, 7.0]),
        "case_pack": np.array([1, 12]),
        "moq": np.array([1, 20]),
        "max_order_qty": np.array([np.inf, 240.0]),
        "shelf_capacity": np.array([np.inf, 500.0]),
        "service_level": np.array([0.95, 0.99]),
    }


def test_valid_params_and_protection_days() -> None:
    params = ItemParams(**good())
    assert params.n == 2
    assert params.case_pack.dtype == np.int64
    np.testing.assert_array_equal(params.protection_days, [4.0, 12.0])


def test_uniform_builder() -> None:
    params = ItemParams.uniform(3, lead_time_days=2.0, case_pack=6, moq=6)
    assert params.n == 3
    np.testing.assert_array_equal(params.case_pack, [6, 6, 6])
    assert np.all(np.isinf(params.max_order_qty))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("lead_time_days", [-1.0, 2.0]),
        ("lead_time_days", [[1.0, 2.0]]),
        ("lead_time_std_days", [np.inf, 0.0]),
        ("lead_time_std_days", [0.0]),
        ("review_days", [np.nan, 1.0]),
        ("case_pack", [0, 12]),
        ("case_pack", [1.5, 12]),
        ("moq", [1, np.inf]),
        ("max_order_qty", [0.5, 240.0]),
        ("max_order_qty", [np.inf, 12.0]),  # moq 20 rounded up to a pack of 12 is 24 > 12
        ("shelf_capacity", [0.0, 1.0]),
        ("service_level", [0.0, 0.9]),
        ("service_level", [0.95, 1.0]),
    ],
)
def test_rejects_bad_fields_naming_them(field: str, value: list[float]) -> None:
    fields = good()
    fields[field] = np.array(value)
    with pytest.raises(PolicyError, match=rf"^{field}:"):
        ItemParams(**fields)


def test_new_fields_default_and_validate() -> None:
    from policies import ServiceMeasure

    params = ItemParams(**good())
    assert params.lost_sales.tolist() == [False, False]
    assert params.service_measure.tolist() == [ServiceMeasure.CYCLE_SERVICE_LEVEL] * 2
    fill = ItemParams(
        **good() | {"service_level": np.array([0.3, 0.99])},  # a fill rate may be below 0.5
        service_measure=np.array([ServiceMeasure.FILL_RATE, ServiceMeasure.CYCLE_SERVICE_LEVEL]),
        lost_sales=np.array([1, 0]),
    )
    assert fill.lost_sales.tolist() == [True, False]
    below_half = ItemParams(**good() | {"service_level": np.array([0.3, 0.99])})  # a cost-based CSL may be < 0.5
    assert below_half.service_level.tolist() == [0.3, 0.99]
    with pytest.raises(PolicyError, match=r"^service_level:"):
        ItemParams(**good() | {"service_level": np.array([1.0, 0.99])}, service_measure=np.array([1, 0]))
    with pytest.raises(PolicyError, match=r"^service_measure:"):
        ItemParams(**good(), service_measure=np.array([0, 7]))
    with pytest.raises(PolicyError, match=r"^lost_sales:"):
        ItemParams(**good(), lost_sales=np.array([0, 2]))
    with pytest.raises(PolicyError, match=r"^lost_sales:"):
        ItemParams(**good(), lost_sales=np.array([True]))
