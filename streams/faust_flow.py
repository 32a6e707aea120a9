"""Pausing and resuming input partitions of a Faust worker without losing records in flight.

Faust's own ``Consumer.pause_partitions`` only takes partitions out of its set of *active* partitions, and the
fetch loop (``Consumer.getmany``) drops every record of a partition that is not active while the fetch is being
delivered, though aiokafka has already moved past it: a silent gap. Replacing that set instead of shrinking it
is not safe either: Faust's stream-buffer flow control (``on_buffer_full`` / ``on_buffer_drop``) edits whatever
set is current, so a fetch in delivery can miss a partition it re-added (seen as a skipped run of thousands of
offsets). So this pauses one level down, in aiokafka, on the consumer's own thread: aiokafka keeps records it
fetched for a paused partition unreturned and fetches them again after the resume, and what Faust already
holds is delivered as usual. ``Consumer._thread`` is private Faust API; this module is the only place that
touches it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiokafka import TopicPartition


async def pause(consumer: Any, tps: Iterable[Any]) -> None:
    await _on_consumer_thread(consumer, "pause", tps)


async def resume(consumer: Any, tps: Iterable[Any]) -> None:
    await _on_consumer_thread(consumer, "resume", tps)


async def _on_consumer_thread(consumer: Any, action: str, tps: Iterable[Any]) -> None:
    thread = consumer._thread
    wanted = {(tp.topic, tp.partition) for tp in tps}

    async def call() -> None:
        client = thread._ensure_consumer()
        chosen = [TopicPartition(*tp) for tp in sorted(wanted) if tp in client.assignment()]
        if chosen:
            getattr(client, action)(*chosen)

    await thread.call_thread(call)
