from __future__ import annotations

import numpy as np
import pytest

from policies import PolicyError, inventory_position, shelf_stock


def test_position_adds_on_order_and_pending_and_subtracts_backorders() -> None:
    position = inventory_position(
        on_hand=np.array([10, 0, 5]),
        on_order=np.array([20, 0, 0]),
        backorders=np.array([3, 4, 0]),
        pending=np.array([6, 0, 1]),
    )
    np.testing.assert_array_equal(position, [33.0, -4.0, 6.0])
    assert position.dtype == np.float64


def test_shelf_stock_ignores_backorders() -> None:
    np.testing.assert_array_equal(shelf_stock([10, 0], [20, 1], [6, 2]), [36.0, 3.0])


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (([-1], [0], [0], [0]), "on_hand"),
        (([0], [-1], [0], [0]), "on_order"),
        (([0], [0], [-1], [0]), "backorders"),
        (([0], [0], [0], [np.nan]), "pending"),
        (([0, 1], [0], [0], [0]), "on_order"),
        (([[0]], [0], [0], [0]), "on_hand"),
    ],
)
def test_rejects_bad_counts(args: tuple[list[float], ...], name: str) -> None:
    with pytest.raises(PolicyError, match=rf"^{name}:"):
        inventory_position(*args)


def test_lost_sales_ignores_backorders() -> None:
    position = inventory_position([10, 0], [5, 5], [3, 4], [0, 0], lost_sales=np.array([True, False]))
    np.testing.assert_array_equal(position, [15.0, 1.0])
    with pytest.raises(PolicyError, match=r"^lost_sales:"):
        inventory_position([10], [5], [3], [0], lost_sales=np.array([True, False]))
