from __future__ import annotations

import numpy as np

from streams.inventory import deferred_row, deferred_rows, fold_before
from streams.shard_state import ShardState
from streams.state_codec import Channel

from .conftest import DAY_MS, LIMITS, NOW_MS, inventory_payload

BUCKET_MS = DAY_MS


def event(event_id: str, t_ms: int, **kw: object):
    import orjson

    from schemas import decode_inventory

    decoded = decode_inventory(orjson.dumps(inventory_payload(event_id, t_ms, **kw)), b"A|L1", NOW_MS, LIMITS)
    assert not hasattr(decoded, "reason"), decoded
    return decoded


def shard_with(*events: tuple[object, int]) -> ShardState:
    shard = ShardState(0)
    shard.add_keys([b"A|L1"])
    shard.add_deferred(deferred_rows([deferred_row(e, 0, window, e.event_time_ms) for e, window in events]))
    return shard


def test_fold_is_in_window_then_offset_order_and_leaves_later_windows_waiting() -> None:
    t = 100 * DAY_MS
    shard = shard_with(
        (event("late-window", t + DAY_MS, kind="snapshot", on_hand=50), 101),
        (event("snap", t, kind="snapshot", on_hand=10), 100),
        (event("ship", t + 1000, kind="shipment", delta=4), 100),
    )
    assert fold_before(shard, 101, BUCKET_MS) == 2
    assert float(shard.rows["on_hand"][0]) == 6.0
    assert len(shard.deferred) == 1 and int(shard.deferred["window"][0]) == 101
    assert shard.bucket(100)[0, Channel.ON_HAND_END] == 6.0


def test_older_snapshot_is_ignored_and_receipts_lower_on_order() -> None:
    t = 100 * DAY_MS
    shard = shard_with(
        (event("s1", t + 5000, kind="snapshot", on_hand=10, on_order=30), 100),
        (event("s0", t, kind="snapshot", on_hand=99), 100),
        (event("r", t + 6000, kind="receipt", delta=12), 100),
    )
    fold_before(shard, 101, BUCKET_MS)
    assert (float(shard.rows["on_hand"][0]), float(shard.rows["on_order"][0])) == (22.0, 18.0)


def test_stock_at_or_below_zero_marks_a_stockout_and_an_ack_clears_the_pending_order() -> None:
    t = 100 * DAY_MS
    shard = shard_with(
        (event("s", t, kind="snapshot", on_hand=3), 100),
        (event("ship", t + 1000, kind="shipment", delta=3, lead_time_days=4.5), 100),
        (event("ack", t + 2000, kind="adjustment", delta=1, command_id="c" * 32), 100),
    )
    shard.rows["pending_qty"][0] = 12.0
    shard.rows["pending_id"][0] = b"c" * 32
    fold_before(shard, 101, BUCKET_MS)
    values = shard.bucket(100)[0]
    assert values[Channel.STOCKOUT] == 1.0 and values[Channel.ON_HAND_END] == 1.0
    assert float(shard.rows["pending_qty"][0]) == 0.0 and shard.rows["pending_id"][0] == b""
    assert np.isclose(shard.rows["lead_time_days"][0], 4.5)
