"""The Faust app: one agent over the three input topics, one changelogged RocksDB table, two output topics.

Why one agent: a partition's decisions need all three topics' progress, so their events go through one
stream whose batches are decoded, applied per partition (``streams.processor``) and acknowledged once their
effects are written. Nothing is held back between batches, so every event of a batch is finished with it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import faust
from faust.types import TP

from schemas import DlqReason, decode_click, decode_inventory, decode_order
from schemas.validation import Rejection
from streams import faust_flow
from streams.dead_letters import dead_letter_record
from streams.decision import DecisionEngine, decide_window, forecaster_for
from streams.delivery import DeliveryGuard, Verdict
from streams.faust_consumer import TRANSPORT_SCHEME
from streams.faust_store import FaustPartitionStore
from streams.metrics import WorkerMetrics
from streams.pacing import TopicPacing
from streams.partitioning import key_partition, wrong_partition_detail
from streams.processor import ApplyResult, InputEvent, PartitionProcessor
from streams.settings import Settings
from streams.state_codec import I64_MIN, Topic

log = logging.getLogger("restock.worker")

STATE_TABLE = "state"


@dataclass
class PartitionRuntime:
    """One assigned partition: its processor (state cache), its topics' pacing and an event to route writes."""

    processor: PartitionProcessor
    pacing: TopicPacing
    store: FaustPartitionStore


class Worker:
    """Holds the per-partition processors of one Faust worker process."""

    def __init__(self, app: faust.App, settings: Settings, metrics: WorkerMetrics) -> None:
        self.app = app
        self.settings = settings
        self.metrics = metrics
        self.limits = settings.validation_limits
        self.topic_of = {
            settings.topic_orders: Topic.ORDERS,
            settings.topic_inventory: Topic.INVENTORY,
            settings.topic_clicks: Topic.CLICKS,
        }
        self.topic_name = {topic: name for name, topic in self.topic_of.items()}
        self.decoders = {Topic.ORDERS: decode_order, Topic.INVENTORY: decode_inventory, Topic.CLICKS: decode_click}
        self.table = app.Table(
            STATE_TABLE, partitions=settings.partitions,
            key_type=bytes, value_type=bytes,
            help="Per partition: shard records of sku|location state, history blocks and progress.",
        )  # fmt: skip
        self.reorders = app.topic(settings.topic_reorders, key_serializer="raw", value_serializer="raw")
        self.dlq = app.topic(settings.topic_dlq, key_serializer="raw", value_serializer="raw")
        self.engine = DecisionEngine(settings, forecaster_for(settings, metrics))
        self.partitions: dict[int, PartitionRuntime] = {}
        self.stream: Any = None
        self.lock = asyncio.Lock()
        self.guard = DeliveryGuard()

    # ---------------------------------------------------------------------------------------------
    def runtime_for(self, partition: int, anchor: Any) -> PartitionRuntime:
        runtime = self.partitions.get(partition)
        if runtime is None:
            store = FaustPartitionStore(self.table, anchor, partition)
            pacing = TopicPacing(self.settings.topic_idle_s, self.settings.max_topic_lead_seconds * 1000)
            runtime = self.partitions[partition] = PartitionRuntime(PartitionProcessor(store, self.settings), pacing,
                                                                    store)  # fmt: skip
        else:
            runtime.store.anchor = anchor
        return runtime

    async def forget(self, partitions: set[int]) -> None:
        """Drop revoked partitions once no batch is using them; their unacknowledged events go to the new owner."""
        async with self.lock:
            for partition in partitions:
                self.partitions.pop(partition, None)
            self.guard.forget(partitions)

    async def handle_batch(self, stream: Any, events: list[Any]) -> None:
        async with self.lock:
            await self._handle_batch(stream, events)

    async def tick(self) -> None:
        """Take decisions that became due by wall-clock time (a topic went quiet) and re-plan pacing."""
        async with self.lock:
            await self._reseek()
            await self._advance(self.partitions)

    async def _handle_batch(self, stream: Any, events: list[Any]) -> None:
        started = time.perf_counter()
        self.stream = stream
        generation = self.app.consumer_generation_id
        clock_ms = int(time.time() * 1000)
        inputs: dict[int, list[InputEvent]] = {}
        runtimes: dict[int, PartitionRuntime] = {}
        current: list[Any] = []
        for event in events:
            message = event.message
            if message.generation_id != generation:
                continue  # fetched before a rebalance; Faust delivers it again to whoever owns it now
            verdict = self.guard.classify(message.topic, message.partition, message.offset)
            if verdict is Verdict.HOLE:
                self.metrics.out_of_sequence.labels(verdict.value).inc()
                log.error(
                    "input offsets missing after a re-fetch: taken as a hole in the topic",
                    extra={"topic": message.topic, "partition": message.partition, "offset": message.offset},
                )
            elif verdict is not Verdict.TAKE:
                await self._out_of_sequence(event, verdict)
                continue
            current.append(event)
            topic = self.topic_of[message.topic]
            runtime = runtimes.get(message.partition)
            if runtime is None:
                runtime = runtimes[message.partition] = self.runtime_for(message.partition, event)
            produced_ms = int(message.timestamp * 1000) if message.timestamp else clock_ms
            decoded = self.decoders[topic](message.value, message.key, produced_ms, self.limits)
            if not isinstance(decoded, Rejection) and key_partition(message.key, self.settings.partitions) != (
                message.partition
            ):
                detail = wrong_partition_detail(message.key, message.partition, self.settings.partitions)
                decoded = Rejection(DlqReason.WRONG_PARTITION, detail, decoded.event_id)
            if isinstance(decoded, Rejection):
                self.metrics.events.labels(message.topic, "rejected").inc()
                if not runtime.processor.finished_before(topic, message.offset):
                    self._dead_letter(event, decoded.reason, decoded.detail, decoded.event_id)
                    runtime.processor.note_finished(topic, message.offset)
                continue
            inputs.setdefault(message.partition, []).append(
                InputEvent(topic, message.offset, message.key, decoded.event_time_ms, decoded, event)
            )
        for partition in sorted(inputs):
            runtime = self.partitions[partition]
            items = inputs[partition]
            result = runtime.processor.apply(items)
            for topic in {item.topic for item in items}:
                runtime.pacing.delivered(topic)
            self._count(items, result)
        await self._advance(runtimes)
        for event in current:
            await stream.ack(event)
        self.metrics.batch_events.observe(len(events))
        self.metrics.batch_seconds.observe(time.perf_counter() - started)

    def _count(self, items: list[InputEvent], result: ApplyResult) -> None:
        for rejected in result.rejected:
            ref = rejected.item.ref
            self._dead_letter(ref, rejected.reason, rejected.detail, rejected.item.event.event_id)
        counts: dict[int, int] = {}
        for item in items:
            counts[item.topic] = counts.get(item.topic, 0) + 1
        for topic, n in sorted(counts.items()):
            name = self.topic_name[Topic(topic)]
            again = result.applied_before[topic]
            self.metrics.events.labels(name, "processed").inc(n - again)
            if again:
                self.metrics.events.labels(name, "redelivered").inc(again)
        self.metrics.accepted.inc(result.accepted)

    async def _out_of_sequence(self, event: Any, verdict: Verdict) -> None:
        """A repeat is acknowledged and dropped; past a hole the partition is re-fetched from the missing offset."""
        message = event.message
        self.metrics.out_of_sequence.labels(verdict.value).inc()
        if verdict is Verdict.REPEAT:
            await self.stream.ack(event)
        elif verdict is Verdict.REFETCH:
            expected = self.guard.expected(message.topic, message.partition)
            log.warning(
                "input offsets skipped: re-fetching",
                extra={"topic": message.topic, "partition": message.partition, "offset": message.offset,
                       "expected": expected},
            )  # fmt: skip
            if expected is not None:
                await self._seek(message.topic, message.partition, expected)
        else:
            await self._reseek()

    async def _seek(self, topic: str, partition: int, offset: int) -> None:
        # seek_wait runs on the consumer's own thread (Consumer.seek calls aiokafka from this one)
        await self.app.consumer.seek_wait({TP(topic, partition): offset})

    async def _reseek(self) -> None:
        for topic, partition, offset in self.guard.seeks_due():
            await self._seek(topic, partition, offset)

    async def _advance(self, runtimes: dict[int, PartitionRuntime]) -> None:
        """Run every decision that is due, write the partitions' state, then pause or resume their topics.

        The commands of all decisions are sent first and delivered with one flush; only then is any state
        written, so a decision in the changelog implies its commands are on the output topic (a crash before
        that re-runs the decision, which re-sends the same bytes).
        """
        commands = 0
        for partition in sorted(runtimes):
            runtime = runtimes[partition]
            gate = runtime.pacing.gate(runtime.processor.watermarks.tolist(), self.settings.idle_close_after_s)
            window = runtime.processor.due_window(gate)
            while window is not None:
                commands += self._decide(runtime.processor, window)
                window = runtime.processor.due_window(gate)
        if commands:
            await self.app.producer.flush()
        for partition in sorted(runtimes):
            runtime = runtimes[partition]
            self.metrics.changelog_writes.inc(runtime.processor.flush())
            await self._pace(partition, runtime)

    async def _pace(self, partition: int, runtime: PartitionRuntime) -> None:
        pacing = runtime.pacing
        watermarks = runtime.processor.watermarks.tolist()
        pause, resume = pacing.plan(watermarks)
        if pause:
            await faust_flow.pause(self.app.consumer, {TP(self.topic_name[Topic(t)], partition) for t in pause})
        if resume:
            await faust_flow.resume(self.app.consumer, {TP(self.topic_name[Topic(t)], partition) for t in resume})
        if pause or resume:
            log.info(
                "pacing",
                extra={"partition": partition, "paused": sorted(self.topic_name[Topic(t)] for t in pacing.paused),
                       "watermarks_ms": watermarks},
            )  # fmt: skip
        for topic, mark in enumerate(watermarks):
            if mark != I64_MIN:
                self.metrics.lag.labels(str(partition), self.topic_name[Topic(topic)]).set(time.time() - mark / 1000)
        self.metrics.paused.labels(str(partition)).set(len(pacing.paused))

    def _decide(self, processor: PartitionProcessor, window: int) -> int:
        """One decision pass: commands queued for sending, the decision recorded in memory; returns the count."""
        decisions = decide_window(self.engine, processor, window, self.metrics)
        for key, payload in decisions.payloads:
            self.reorders.send_soon(key=key, value=payload)
        return len(decisions.payloads)

    def _dead_letter(self, event: Any, reason: Any, detail: str, event_id: str | None) -> None:
        message = event.message
        key, payload = dead_letter_record(
            self.settings.app_id, (message.topic, message.partition, message.offset), message.key, message.value,
            reason, detail, event_id, self.settings.dlq_max_copy_bytes,
        )  # fmt: skip
        self.dlq.send_soon(key=key, value=payload)  # delivered before the offset commit (it flushes)
        self.metrics.dlq.labels(str(reason)).inc()


def create_app(settings: Settings, bootstrap_servers: str, metrics: WorkerMetrics | None = None) -> Worker:
    """Build the Faust app and its worker logic; nothing connects until the app starts."""
    app = faust.App(
        settings.app_id,
        broker=f"{TRANSPORT_SCHEME}://{bootstrap_servers}",
        store="rocksdb://",
        datadir=str(settings.state_dir),
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.heartbeat_interval_s,
        producer_max_batch_size=settings.producer_max_batch_size,
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

    @app.timer(interval=1.0)  # type: ignore[untyped-decorator]
    async def tick() -> None:
        await worker.tick()

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def on_revoked(app: faust.App, revoked: set[Any], **kwargs: Any) -> None:
        await worker.forget({tp.partition for tp in revoked if tp.topic in worker.topic_of})

    return worker
