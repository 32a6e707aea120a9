from __future__ import annotations

import numpy as np

from policies import Rule


def test_labels_are_snake_case_names() -> None:
    assert Rule.ORDER_UP_TO.label == "order_up_to"
    assert Rule.NO_ORDER_ABOVE_REORDER_POINT.label == "no_order_above_reorder_point"
    assert [rule.label for rule in Rule] == [rule.name.lower() for rule in Rule]


def test_codes_are_stable_and_round_trip_from_numpy() -> None:
    # Codes travel in commands and logs: existing ones never move, new ones are appended.
    assert {rule.name: int(rule) for rule in Rule} == {
        "NO_ORDER_ABOVE_REORDER_POINT": 0,
        "ORDER_UP_TO": 1,
        "RAISED_TO_MOQ": 2,
        "ROUNDED_TO_CASE_PACK": 3,
        "CAPPED_BY_MAX_ORDER": 4,
        "CAPPED_BY_SHELF": 5,
        "NO_ORDER_AFTER_CAPS": 6,
        "ORDER_MULTIPLE_OF_Q": 7,
        "TRIMMED_BY_BUDGET": 8,
        "CUT_BY_BUDGET": 9,
    }
    assert [int(rule) for rule in Rule] == list(range(len(Rule)))
    assert Rule(np.int8(5)) is Rule.CAPPED_BY_SHELF  # type: ignore[arg-type]  # numpy ints work
