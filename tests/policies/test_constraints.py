from __future__ import annotations

import numpy as np

from policies import ItemParams, Rule, constrain_quantity


def test_each_step_and_the_rule_it_leaves() -> None:
    # Rows: plain; MOQ; pack; MOQ then pack; max cap to a pack multiple; shelf cap; shelf leaves < MOQ.
    params = ItemParams(
        lead_time_days=np.ones(7),
        lead_time_std_days=np.zeros(7),
        review_days=np.ones(7),
        case_pack=np.array([1, 1, 6, 6, 6, 6, 6]),
        moq=np.array([1, 10, 1, 10, 1, 1, 12]),
        max_order_qty=np.array([np.inf, np.inf, np.inf, np.inf, 20.0, np.inf, np.inf]),
        shelf_capacity=np.full(7, np.inf),
        service_level=np.full(7, 0.9),
    )
    needed = np.array([7, 7, 7, 7, 30, 30, 30], dtype=np.int64)
    room = np.array([np.inf] * 5 + [17.0, 11.0])
    quantity, rule = constrain_quantity(needed, params, room)
    assert quantity.tolist() == [7, 10, 12, 12, 18, 12, 0]
    assert [Rule(int(code)) for code in rule] == [
        Rule.ORDER_UP_TO,
        Rule.RAISED_TO_MOQ,
        Rule.ROUNDED_TO_CASE_PACK,
        Rule.ROUNDED_TO_CASE_PACK,
        Rule.CAPPED_BY_MAX_ORDER,
        Rule.CAPPED_BY_SHELF,
        Rule.NO_ORDER_AFTER_CAPS,
    ]
