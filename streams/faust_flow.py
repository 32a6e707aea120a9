"""Pausing and resuming input partitions of a Faust consumer without losing the records in flight.

Faust's own ``pause_partitions`` shrinks the set of active partitions *in place*, and the fetch loop
(``Consumer.getmany``) checks every record it is delivering against that same set object: records of a
partition paused while their fetch is being delivered are dropped, though aiokafka has already moved past
them. That is a silent gap in the stream. Here the set is replaced instead, so a fetch in delivery finishes
with the set it started with and the next fetch asks aiokafka only for the active partitions (aiokafka keeps
what it fetched for the others until they are resumed). ``_active_partitions`` and ``_paused_partitions`` are
private Faust attributes; this module is the only place that touches them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def pause(consumer: Any, tps: Iterable[Any]) -> None:
    chosen = set(tps)
    consumer._paused_partitions.update(chosen)
    consumer._active_partitions = set(consumer._get_active_partitions()) - chosen


def resume(consumer: Any, tps: Iterable[Any]) -> None:
    chosen = set(tps) & set(consumer.assignment())
    consumer._paused_partitions.difference_update(chosen)
    consumer._active_partitions = set(consumer._get_active_partitions()) | chosen
