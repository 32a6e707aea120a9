"""The Faust app: one agent over the three input topics, one changelogged RocksDB table, two output topics.

Why one agent: the three topics must be merged per partition in a deterministic order (see
``streams.merge``), so they are consumed by one stream whose batches are decoded, routed to their
partition's merger and processor, and acknowledged only once their effects are written.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import faust
from faust.types import TP

from schemas import decode_click, decode_inventory, decode_order
from schemas.validation import Rejection, ValidationLimits
from streams.acks import OrderedAcks
from streams.dead_letters import dead_letter_bytes
from streams.decision import DecisionEngine
from streams.delivery import DeliveryCursor, Verdict
from streams.faust_store import FaustPartitionStore
from streams.merge import PartitionMerger
from streams.metrics import WorkerMetrics
from streams.processor import InputEvent, PartitionProcessor, Rejected, StepResult, boundary_ms
from streams.settings import Settings
from streams.state_codec import Topic

log = logging.getLogger("restock.worker")

STATE_TABLE = "state"


@dataclass
class PartitionRuntime:
    merger: PartitionMerger
    processor: PartitionProcessor | None = None
    anchor: Any = None
    last_arrival_wall: float = field(default_factory=time.time)


class Worker:
    """Holds the per-partition merge and state processors of one Faust worker process."""

    def __init__(self, app: faust.App, settings: Settings, metrics: WorkerMetrics) -> None:
        self.app = app
        self.settings = settings
        self.metrics = metrics
        self.limits = ValidationLimits(
            max_message_bytes=settings.max_message_bytes,
            max_quantity=settings.max_quantity,
            max_future_ms=settings.max_future_seconds * 1000,
            click_default_location=settings.click_default_location,
        )
        self.topic_of = {
            settings.topic_orders: Topic.ORDERS,
            settings.topic_inventory: Topic.INVENTORY,
            settings.topic_clicks: Topic.CLICKS,
        }
        self.decoders = {Topic.ORDERS: decode_order, Topic.INVENTORY: decode_inventory, Topic.CLICKS: decode_click}
        self.table = app.Table(
            STATE_TABLE, partitions=settings.partitions,
            key_type=bytes, value_type=bytes,
            help="Per sku|location hot records, history ring buffers and per-partition progress.",
        )  # fmt: skip
        self.reorders = app.topic(settings.topic_reorders, key_serializer="raw", value_serializer="raw")
        self.dlq = app.topic(settings.topic_dlq, key_serializer="raw", value_serializer="raw")
        self.engine = DecisionEngine(settings)
        self.partitions: dict[int, PartitionRuntime] = {}
        self.stream: Any = None
        self.lock = asyncio.Lock()
        self.caught_up = False
        self.last_batch_at = time.monotonic()
        self.paused: set[TP] = set()
        self.acks = OrderedAcks()
        self.cursor = DeliveryCursor()
        self.last_wait_log = 0.0

    # ---------------------------------------------------------------------------------------------
    def runtime_for(self, partition: int) -> PartitionRuntime:
        runtime = self.partitions.get(partition)
        if runtime is None:
            runtime = self.partitions[partition] = PartitionRuntime(PartitionMerger(self.settings.merge_idle_s))
        return runtime

    def forget(self, partitions: set[int]) -> None:
        """Drop revoked partitions: their unacknowledged events are redelivered to the new owner."""
        for partition in partitions:
            self.partitions.pop(partition, None)
        self.acks.forget(partitions)
        self.cursor.forget(partitions)

    def processor_for(self, partition: int, runtime: PartitionRuntime) -> PartitionProcessor:
        store = FaustPartitionStore(self.table, self.stream, runtime.anchor, partition)
        if runtime.processor is None:
            runtime.processor = PartitionProcessor(store, self.settings)
        else:
            runtime.processor.store = store
        return runtime.processor

    async def handle_batch(self, stream: Any, events: list[Any]) -> None:
        async with self.lock:
            await self._handle_batch(stream, events)

    async def drain_all(self) -> None:
        """Move merged events along when a batch has not come for a while (queues may have gone idle)."""
        if self.stream is None:
            return
        async with self.lock:
            if time.monotonic() - self.last_batch_at > 2 * self.settings.batch_within_s:
                self.caught_up = True  # no batch came although the stream would have returned a partial one
            for partition in sorted(self.partitions):
                await self._drain(self.stream, partition)
            self._log_waiting()

    def _log_waiting(self) -> None:
        """Say which topic a partition's merge is waiting for, at most every 10 s (an operator's first question)."""
        now = time.monotonic()
        if now - self.last_wait_log < 10:
            return
        for partition, runtime in sorted(self.partitions.items()):
            queues = runtime.merger.queues
            if runtime.merger.buffered:
                self.last_wait_log = now
                log.info(
                    "merge waiting",
                    extra={
                        "partition": partition,
                        "queued": {name: len(queues[topic]) for name, topic in self.topic_of.items()},
                        "caught_up": self.caught_up,
                        "quiet_s": [round(time.monotonic() - t, 1) for t in runtime.merger.last_arrival],
                    },
                )

    async def _handle_batch(self, stream: Any, events: list[Any]) -> None:
        started = time.perf_counter()
        self.stream = stream
        self.caught_up = len(events) < self.settings.batch_max_events
        now_ms = int(time.time() * 1000)
        touched: set[int] = set()
        for event in events:
            message = event.message
            topic = self.topic_of[message.topic]
            runtime = self.runtime_for(message.partition)
            verdict = self.cursor.classify(message.topic, message.partition, message.offset)
            if verdict is not Verdict.TAKE:
                await self._skip_delivery(message, verdict)
                continue
            delivery = self.acks.delivered(event)
            decoded = self.decoders[topic](message.value, message.key, now_ms, self.limits)
            if isinstance(decoded, Rejection):
                self._dead_letter(event, decoded.reason, decoded.detail, decoded.event_id)
                self.metrics.events.labels(message.topic, "rejected").inc()
                delivery.finished = True
                continue
            runtime.anchor = event
            runtime.last_arrival_wall = time.time()
            key = message.key or b""  # the decoder refused messages without the right key
            runtime.merger.add(InputEvent(topic, message.offset, key, decoded.event_time_ms, decoded, delivery))
            touched.add(message.partition)
        for partition in sorted(set(self.partitions) | touched):
            await self._drain(stream, partition)
        await self._ack_ready(stream)
        self.metrics.batch_events.observe(len(events))
        self.metrics.batch_seconds.observe(time.perf_counter() - started)
        self.last_batch_at = time.monotonic()  # from now on the stream could hand over the next batch

    async def _drain(self, stream: Any, partition: int) -> None:
        runtime = self.partitions.get(partition)
        if runtime is None or runtime.anchor is None:
            return
        items = runtime.merger.drain(self.caught_up)
        self.metrics.buffered.set(sum(r.merger.buffered for r in self.partitions.values()))
        for name, topic in self.topic_of.items():
            if runtime.merger.idle_skips[topic]:
                self.metrics.idle_skips.labels(name).inc(runtime.merger.idle_skips[topic])
                runtime.merger.idle_skips[topic] = 0
        self._apply_backpressure(partition, runtime)
        if not items:
            return
        processor = self.processor_for(partition, runtime)
        while items:
            step = processor.apply_until_decision(items)
            for rejected in step.rejected:
                self._reject(rejected)
            done, items = items[: step.consumed], items[step.consumed :]
            self._count_outcomes(done, step)
            if step.decision_window is not None:
                await self._decide(processor, step.decision_window)
            for item in done:
                item.ref.finished = True
        processor.write_meta()
        await self._ack_ready(stream)
        if processor.watermark_ms is not None:
            self.metrics.lag.labels(str(partition)).set(time.time() - processor.watermark_ms / 1000)

    async def _skip_delivery(self, message: Any, verdict: Verdict) -> None:
        """A repeat is dropped (its first delivery is being handled); a gap re-fetches from the missing offset."""
        self.metrics.events.labels(message.topic, "redelivered" if verdict is Verdict.REPEAT else "refetched").inc()
        if verdict is Verdict.GAP:
            expected = self.cursor.expected(message.topic, message.partition)
            log.warning(
                "offset gap: re-fetching",
                extra={"topic": message.topic, "partition": message.partition, "got": message.offset,
                       "expected": expected},
            )  # fmt: skip
            if expected is not None:
                await self.app.consumer.seek(TP(message.topic, message.partition), expected)

    async def _ack_ready(self, stream: Any) -> None:
        for event in self.acks.ready():
            await stream.ack(event)

    def _apply_backpressure(self, partition: int, runtime: PartitionRuntime) -> None:
        """Pause this partition's topics that have events waiting while another one is behind; resume later.

        Without this, a topic that the consumer happens to deliver late would let the other two pile up in the
        merge without bound.
        """
        limit = self.settings.merge_max_buffered
        tps = {TP(name, partition) for name, topic in self.topic_of.items() if runtime.merger.queues[topic]}
        if runtime.merger.buffered > limit:
            newly = tps - self.paused
            if newly:
                self.app.consumer.pause_partitions(newly)
                self.paused |= newly
                runtime.merger.restart_idle_clocks()
                log.info("merge backpressure", extra={"partition": partition, "paused": sorted(t.topic for t in newly)})
        elif runtime.merger.buffered < limit // 2:
            mine = {tp for tp in self.paused if tp.partition == partition}
            if mine:
                self.app.consumer.resume_partitions(mine)
                self.paused -= mine

    def _count_outcomes(self, done: list[InputEvent], step: StepResult) -> None:
        """Per-topic accepted counts; rejected ones were counted when dead-lettered."""
        by_topic: dict[str, int] = {}
        for item in done:
            topic = item.ref.message.topic
            by_topic[topic] = by_topic.get(topic, 0) + 1
        if step.redelivered:
            self.metrics.events.labels("applied_before", "redelivered").inc(step.redelivered)
        accepted_total = step.accepted
        for topic, n in sorted(by_topic.items()):
            self.metrics.events.labels(topic, "processed").inc(n)
        self.metrics.accepted.inc(accepted_total)

    async def _decide(self, processor: PartitionProcessor, window: int) -> None:
        started = time.perf_counter()
        created_ms = max(processor.watermark_ms or 0, boundary_ms(window, self.settings.decision_offset_seconds))
        decisions = self.engine.decide(list(processor.store.items()), window, created_ms)
        for key, payload in decisions.payloads:
            await self.reorders.send(key=key, value=payload)
        if decisions.payloads:
            await self.app.producer.flush()
        processor.record_decision(window, decisions.pending)
        self.metrics.commands.inc(len(decisions.payloads))
        self.metrics.state_keys.set(decisions.keys_seen)
        self.metrics.decision_seconds.observe(time.perf_counter() - started)
        log.info(
            "decision pass",
            extra={"partition": processor.store.partition, "window": window, "keys": decisions.keys_seen,
                   "commands": len(decisions.payloads)},
        )  # fmt: skip

    def _reject(self, rejected: Rejected) -> None:
        ref = rejected.item.ref
        self._dead_letter(ref, rejected.reason, rejected.detail, rejected.item.event.event_id)

    def _dead_letter(self, event: Any, reason: Any, detail: str, event_id: str | None) -> None:
        message = event.message
        payload = dead_letter_bytes(self.settings.app_id, message, reason, detail, event_id)
        self.dlq.send_soon(key=message.key, value=payload)  # delivered before the offset commit (it flushes)
        self.metrics.dlq.labels(str(reason)).inc()

    async def close_idle_partitions(self) -> None:
        async with self.lock:
            await self._close_idle_partitions()

    async def _close_idle_partitions(self) -> None:
        """Advance event time of partitions that received nothing for ``idle_close_after_s``.

        Event time is assumed to pass like wall-clock time while a partition is idle, so a quiet partition still
        reaches its daily decision; a replay that has finished moves on by the idle time only, not to today.
        """
        now = time.time()
        for partition, runtime in sorted(self.partitions.items()):
            processor = runtime.processor
            idle_s = now - runtime.last_arrival_wall
            if processor is None or processor.watermark_ms is None or idle_s < self.settings.idle_close_after_s:
                continue
            if runtime.merger.buffered:
                continue
            target = processor.watermark_ms + int(idle_s * 1000)
            runtime.last_arrival_wall = now
            processor = self.processor_for(partition, runtime)
            window = processor.advance_idle(target)
            while window is not None:
                await self._decide(processor, window)
                window = processor.advance_idle(target)


def create_app(settings: Settings, bootstrap_servers: str, metrics: WorkerMetrics | None = None) -> Worker:
    """Build the Faust app and its worker logic; nothing connects until the app starts."""
    app = faust.App(
        settings.app_id,
        broker=f"kafka://{bootstrap_servers}",
        store="rocksdb://",
        datadir=str(settings.state_dir),
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.heartbeat_interval_s,
        producer_max_batch_size=settings.producer_max_batch_size,
        # Small per-partition fetches interleave the three topics closely, so the merge rarely waits on one.
        consumer_max_fetch_size=max(256 * 1024, 2 * settings.max_message_bytes),
        web_enabled=False,
        key_serializer="raw",
        value_serializer="raw",
        topic_allow_declare=True,
        stream_wait_empty=False,  # revoked partitions' pending events are redelivered; nothing to wait for
    )
    worker = Worker(app, settings, metrics or WorkerMetrics())
    inputs = app.topic(*settings.input_topics, key_serializer="raw", value_serializer="raw")

    @app.agent(inputs, name="ingest")
    async def ingest(stream: Any) -> None:
        async for events in stream.noack_take(settings.batch_max_events, within=settings.batch_within_s):
            await worker.handle_batch(stream, events)

    @app.timer(interval=max(1.0, settings.merge_idle_s / 2))  # type: ignore[untyped-decorator]
    async def drain_idle_queues() -> None:
        await worker.drain_all()

    @app.timer(interval=max(1.0, min(60.0, settings.idle_close_after_s / 4)))  # type: ignore[untyped-decorator]
    async def close_idle() -> None:
        await worker.close_idle_partitions()

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def on_revoked(app: faust.App, revoked: set[Any], **kwargs: Any) -> None:
        worker.forget({tp.partition for tp in revoked if tp.topic in worker.topic_of})

    return worker
