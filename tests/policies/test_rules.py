from __future__ import annotations

import numpy as np

from policies import Rule


def test_labels_are_snake_case_names() -> None:
    assert Rule.ORDER_UP_TO.label == "order_up_to"
    assert Rule.NO_ORDER_ABOVE_REORDER_POINT.label == "no_order_above_reorder_point"
    assert [rule.label for rule in Rule] == [rule.name.lower() for rule in Rule]


def test_codes_are_stable_and_round_trip_from_numpy() -> None:
    assert [int(rule) for rule in Rule] == list(range(7))
    assert Rule(np.int8(5)) is Rule.CAPPED_BY_SHELF  # type: ignore[arg-type]  # numpy ints work
