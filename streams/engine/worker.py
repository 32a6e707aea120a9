"""The batch engine's worker: whole fetched batches from confluent-kafka, applied per partition, decided,
written to a changelog and to local RocksDB, then committed.

One loop, no framework. Each turn takes what librdkafka has fetched (up to ``batch_max_events``), hands every
assigned partition its messages (the three input topics of partition ``p`` are always assigned together, see
``streams.engine.kafka_io``), lets each partition apply them and run the decisions that became due, and ends
with one write cycle:

1. commands, dead letters and the changelog records of every changed partition are sent and flushed;
2. each partition's commit marker is sent alone and flushed (so a reader finds the group complete);
3. the same writes go to local RocksDB in one write batch with the marker's offset (the checkpoint);
4. input offsets are committed to the group.

A ``kill -9`` anywhere leaves local state at a checkpoint that the changelog holds in full, and input offsets
at or behind it; the processor skips what its state already holds, so a restart re-does only the rest and
re-sends the same bytes. A decision's cut, when the idle rule released it, is flushed before its commands.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from confluent_kafka import Consumer, KafkaError, Message, TopicPartition

from schemas import DlqReason
from streams.admin import create_topics
from streams.dead_letters import dead_letter_record
from streams.decision import DecisionEngine, decide_window, forecaster_for
from streams.engine.columns import decode_columns
from streams.engine.cuts import DecisionCut, cuts_by_window
from streams.engine.kafka_io import (
    Deliveries,
    group_consumer,
    produce,
    read_partitions,
    worker_producer,
)
from streams.errors import BrokerError, BrokerUnreachableError
from streams.metrics import WorkerMetrics
from streams.pacing import TopicPacing
from streams.processor import PartitionProcessor
from streams.settings import Settings
from streams.state import Checkpoint, GroupAssembler, PartitionState, RocksLocalState, encode_group, new_group_ids
from streams.state_codec import I64_MIN, N_TOPICS, Topic

log = logging.getLogger("restock.worker")


@dataclass
class Assigned:
    """One assigned partition: its state, pacing, known cuts, and messages fetched but not applied yet."""

    partition: int
    local: RocksLocalState
    state: PartitionState
    processor: PartitionProcessor
    pacing: TopicPacing
    cuts: dict[int, DecisionCut]
    queues: list[deque[Message]] = field(default_factory=lambda: [deque() for _ in range(N_TOPICS)])
    caught_up: list[bool] = field(default_factory=lambda: [False] * N_TOPICS)


class BatchWorker:
    def __init__(self, settings: Settings, bootstrap_servers: str, metrics: WorkerMetrics) -> None:
        self.settings = settings
        self.bootstrap = bootstrap_servers
        self.metrics = metrics
        self.limits = settings.validation_limits
        self.topic_of = {name: Topic(i) for i, name in enumerate(settings.input_topics)}
        self.changelog = settings.topic_changelog
        self.cuts_app_id = settings.cuts_app_id or settings.app_id
        self.engine = DecisionEngine(settings, forecaster_for(settings, metrics))
        self.producer = worker_producer(settings, bootstrap_servers)
        self.deliveries = Deliveries()
        self.group_ids = new_group_ids()
        self.assigned: dict[int, Assigned] = {}
        self.paused: set[tuple[str, int]] = set()
        self.poll_clock = 0.0  # seconds spent waiting on the broker: the idle rule's clock
        self.callback_seconds = 0.0  # of which spent in rebalance callbacks (restoring), not waiting
        self.consumer: Consumer | None = None

    # --- the loop ----------------------------------------------------------------------------------
    def run(self, stopping: Callable[[], bool]) -> None:
        self._create_topics(stopping)
        consumer = self.consumer = group_consumer(
            self.settings, self.bootstrap, self._on_assign, self._on_revoke, self._on_lost
        )
        log.info("worker started", extra={"app_id": self.settings.app_id})
        try:
            while not stopping():
                started, in_callbacks = time.monotonic(), self.callback_seconds
                messages = consumer.consume(self.settings.batch_max_events, self.settings.batch_within_s)
                self.poll_clock += time.monotonic() - started - (self.callback_seconds - in_callbacks)
                self.turn(messages)
            self._write(list(self.assigned.values()), final=True)
        finally:
            consumer.close()  # leaves the group: the revocation writes what is left
            for assigned in self.assigned.values():
                assigned.local.close()
            self.assigned.clear()

    def _create_topics(self, stopping: Callable[[], bool], patience_s: float = 120.0) -> None:
        """Create missing topics, waiting out a broker that does not answer yet (starting, or frozen) for up to
        ``patience_s``; a broker that answers with a refusal is an error at once."""
        deadline = time.monotonic() + patience_s
        while not stopping():
            try:
                create_topics(self.settings, self.bootstrap)
                return
            except BrokerUnreachableError as exc:
                if time.monotonic() > deadline:
                    raise
                log.warning("the broker does not answer yet; retrying", extra={"error": str(exc)})
                time.sleep(1.0)

    def turn(self, messages: list[Message]) -> None:
        started = time.perf_counter()
        received = self._receive(messages)
        for partition in sorted(self.assigned):
            assigned = self.assigned[partition]
            self._drive(assigned)
        self._write([self.assigned[p] for p in sorted(self.assigned)])
        self._pace()
        if received:
            self.metrics.batch_events.observe(received)
            self.metrics.batch_seconds.observe(time.perf_counter() - started)

    def _receive(self, messages: list[Message]) -> int:
        """Queue each message on its partition and topic; note partition ends (caught up)."""
        received = 0
        for message in messages:
            topic, partition = self.topic_of.get(message.topic() or ""), message.partition()
            assigned = self.assigned.get(partition) if partition is not None else None
            error = message.error()
            if topic is None or assigned is None:
                continue  # fetched before a revocation: its new owner reads it again
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    assigned.caught_up[topic] = True
                elif error.fatal() or not error.retriable():
                    raise BrokerError(f"consuming {message.topic()}[{partition}] failed: {error.str()}")
                else:
                    log.warning("consumer error", extra={"error": error.str()})
                continue
            assigned.queues[topic].append(message)
            assigned.caught_up[topic] = False
            assigned.pacing.delivered(topic)
            received += 1
        return received

    # --- one partition -----------------------------------------------------------------------------
    def _drive(self, assigned: Assigned) -> None:
        """Apply what may be applied and decide what is due, until neither moves."""
        processor = assigned.processor
        while True:
            window = processor.next_window()
            cut = assigned.cuts.get(window) if window is not None else None
            applied = self._apply(assigned, self._take(assigned, cut))
            if not self._decide_due(assigned) and not applied:
                break
        assigned.pacing.unfinished = {
            t for t in range(N_TOPICS) if not assigned.caught_up[t] or assigned.queues[t]
        }  # fmt: skip

    def _take(self, assigned: Assigned, cut: DecisionCut | None) -> Iterator[Message]:
        """The queued messages below the cut of the next window (all of them without a cut), in topic order."""
        for topic, queue in enumerate(assigned.queues):
            limit = cut.next_offsets[topic] if cut is not None else None
            while queue and (limit is None or (queue[0].offset() or 0) < limit):
                yield queue.popleft()

    def _apply(self, assigned: Assigned, messages: Iterator[Message]) -> int:
        processor = assigned.processor
        events = decode_columns(messages, self.topic_of, assigned.partition, self.settings.partitions, self.limits,
                                int(time.time() * 1000))  # fmt: skip
        rejected = [0] * N_TOPICS
        for topic, message, refusal in events.refused:
            rejected[topic] += 1
            offset = int(message.offset() or 0)
            if not processor.finished_before(topic, offset):
                self._dead_letter(message, refusal.reason, refusal.detail, refusal.event_id)
                processor.note_finished(topic, offset)
        result = processor.apply(events)
        for refused in result.rejected:
            self._dead_letter(events.refs[refused.row], refused.reason, refused.detail, events.event_ids[refused.row])
        counts = np.bincount(events.topic, minlength=N_TOPICS).tolist()
        for index, name in enumerate(self.settings.input_topics):
            if rejected[index]:
                self.metrics.events.labels(name, "rejected").inc(rejected[index])
            again = result.applied_before[index]
            if counts[index] - again:
                self.metrics.events.labels(name, "processed").inc(counts[index] - again)
            if again:
                self.metrics.events.labels(name, "redelivered").inc(again)
        self.metrics.accepted.inc(result.accepted)
        return len(events) + sum(rejected)

    def _decide_due(self, assigned: Assigned) -> bool:
        """Run the next window's decision if it is due; record its cut first when the idle rule released it."""
        processor = assigned.processor
        window = processor.next_window()
        if window is None:
            return False
        cut = assigned.cuts.get(window)
        if cut is not None:
            reached = processor.next_offsets()
            if any(n < c for n, c in zip(reached, cut.next_offsets, strict=True)):
                return False
            if list(cut.next_offsets) != reached:
                log.error(
                    "input read past a decision cut before the cut was known; the decision may differ",
                    extra={"partition": assigned.partition, "window": window, "cut": cut.next_offsets,
                           "reached": reached},
                )  # fmt: skip
        else:
            watermarks = processor.watermarks.tolist()
            if processor.due_window(assigned.pacing.gate(watermarks, self.settings.idle_close_after_s)) is None:
                return False
            if assigned.pacing.holds_back(watermarks, processor.due_ms(window)):
                self._record_cut(assigned, window)
        self._decide(assigned, window)
        return True

    def _record_cut(self, assigned: Assigned, window: int) -> None:
        cut = DecisionCut(
            app_id=self.settings.app_id, partition=assigned.partition, window=window,
            next_offsets=tuple(assigned.processor.next_offsets()),
        )  # fmt: skip
        produce(self.producer, self.settings.topic_cuts, cut.encode(), cut.key, assigned.partition,
                self.deliveries.report)  # fmt: skip
        self.deliveries.flush(self.producer, "decision cut")
        assigned.cuts[window] = cut
        log.info("decision cut", extra={"partition": assigned.partition, "window": window,
                                        "next_offsets": list(cut.next_offsets)})  # fmt: skip

    def _decide(self, assigned: Assigned, window: int) -> None:
        outcome = decide_window(self.engine, assigned.processor, window, self.metrics)
        for key, payload in outcome.payloads:
            produce(self.producer, self.settings.topic_reorders, payload, key, assigned.partition,
                    self.deliveries.report)  # fmt: skip

    def _dead_letter(self, message: Message, reason: DlqReason, detail: str, event_id: str | None) -> None:
        partition = int(message.partition() or 0)
        key, payload = dead_letter_record(
            self.settings.app_id, (message.topic() or "", partition, int(message.offset() or 0)), message.key(),
            message.value(), reason, detail, event_id, self.settings.dlq_max_copy_bytes,
        )  # fmt: skip
        produce(self.producer, self.settings.topic_dlq, payload, key, partition, self.deliveries.report)
        self.metrics.dlq.labels(str(reason)).inc()

    # --- writing -----------------------------------------------------------------------------------
    def _write(self, partitions: list[Assigned], final: bool = False) -> None:
        """The write cycle of the module docstring, for every partition whose state changed."""
        markers: dict[int, tuple[bytes, bytes]] = {}
        for assigned in partitions:
            self.metrics.changelog_writes.inc(assigned.processor.flush())
            writes = assigned.state.pending()
            if not writes:
                continue
            records = encode_group(next(self.group_ids), writes)
            for key, value in records[:-1]:
                produce(self.producer, self.changelog, value, key, assigned.partition, self.deliveries.report)
            markers[assigned.partition] = records[-1]
        if len(self.producer) or self.deliveries.errors:
            self.deliveries.flush(self.producer, "command, dead-letter and changelog")
        if not markers:
            return
        for partition, (key, value) in markers.items():
            produce(self.producer, self.changelog, value, key, partition, self.deliveries.offset_of(partition))
        self.deliveries.flush(self.producer, "changelog marker")
        offsets: list[TopicPartition] = []
        for assigned in partitions:
            if assigned.partition not in markers:
                continue
            marker_offset = self.deliveries.offsets.pop(assigned.partition)
            assigned.state.commit(Checkpoint(marker_offset + 1))
            for topic, next_offset in enumerate(assigned.processor.next_offsets()):
                if next_offset > 0:
                    offsets.append(TopicPartition(self.settings.input_topics[topic], assigned.partition, next_offset))
        if offsets and self.consumer is not None:
            if final:
                self.consumer.commit(offsets=offsets, asynchronous=False)
            else:
                self.consumer.commit(offsets=offsets)

    def _pace(self) -> None:
        """Pause topics that run too far ahead or are held at a cut; resume the others."""
        if self.consumer is None:
            return
        wanted: set[tuple[str, int]] = set()
        for partition, assigned in self.assigned.items():
            watermarks = assigned.processor.watermarks.tolist()
            assigned.pacing.plan(watermarks)
            held = {t for t in range(N_TOPICS) if assigned.queues[t]}
            for topic in assigned.pacing.paused | held:
                wanted.add((self.settings.input_topics[topic], partition))
            for topic, mark in enumerate(watermarks):
                if mark != I64_MIN:
                    self.metrics.lag.labels(str(partition), self.settings.input_topics[topic]).set(
                        time.time() - mark / 1000
                    )
            self.metrics.paused.labels(str(partition)).set(len(assigned.pacing.paused))
        if wanted - self.paused:
            self.consumer.pause([TopicPartition(t, p) for t, p in sorted(wanted - self.paused)])
        if self.paused - wanted:
            self.consumer.resume([TopicPartition(t, p) for t, p in sorted(self.paused - wanted)])
        self.paused = wanted

    # --- assignment --------------------------------------------------------------------------------
    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        numbers = sorted({tp.partition for tp in partitions})
        for number in numbers:
            have = {tp.topic for tp in partitions if tp.partition == number}
            if have != set(self.settings.input_topics):
                raise BrokerError(
                    f"partition {number} was assigned for {sorted(have)} only; the input topics must have the same "
                    "partition count and the group must use the range assignor (no other members with another one)"
                )
        started = time.monotonic()
        self.assigned.update(self._open([n for n in numbers if n not in self.assigned]))
        self.callback_seconds += time.monotonic() - started
        log.info("partitions assigned", extra={"partitions": numbers})

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        started = time.monotonic()
        numbers = sorted({tp.partition for tp in partitions} & set(self.assigned))
        self._write([self.assigned[n] for n in numbers], final=True)
        self._drop(numbers)
        self.callback_seconds += time.monotonic() - started
        log.info("partitions revoked", extra={"partitions": numbers})

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Another member may own them already: nothing more is written for them."""
        numbers = sorted({tp.partition for tp in partitions} & set(self.assigned))
        for number in numbers:
            self.assigned[number].state.discard()
        self._drop(numbers)
        log.warning("partitions lost", extra={"partitions": numbers})

    def _drop(self, numbers: list[int]) -> None:
        for number in numbers:
            self.assigned.pop(number).local.close()
            for topic in self.settings.input_topics:
                with contextlib.suppress(KeyError):  # no event of that topic yet
                    self.metrics.lag.remove(str(number), topic)
            with contextlib.suppress(KeyError):
                self.metrics.paused.remove(str(number))
        self.paused = {(t, p) for t, p in self.paused if p not in numbers}

    def _open(self, numbers: list[int]) -> dict[int, Assigned]:
        """Local state of each partition brought up to the end of its changelog, and the cuts that apply to it."""
        started = time.monotonic()
        locals_ = {n: RocksLocalState(state_path(self.settings, n)) for n in numbers}
        starts = {n: local.checkpoint() for n, local in locals_.items()}
        reads = [TopicPartition(self.changelog, n, c.changelog_offset if c else 0) for n, c in starts.items()]
        reads += [TopicPartition(self.settings.topic_cuts, n, 0) for n in numbers]
        assemblers = {n: GroupAssembler() for n in numbers}
        groups = dict.fromkeys(numbers, 0)
        cut_values: dict[int, list[bytes]] = {n: [] for n in numbers}
        for message in read_partitions(self.bootstrap, reads):
            n = int(message.partition() or 0)
            if message.topic() == self.settings.topic_cuts:
                cut_values[n].append(message.value() or b"")
                continue
            group = assemblers[n].feed(int(message.offset() or 0), message.key() or b"", message.value() or b"")
            if group is not None:
                locals_[n].write(group.writes, Checkpoint(group.marker_offset + 1))
                groups[n] += 1
        out: dict[int, Assigned] = {}
        for n, local in locals_.items():
            state = PartitionState(n, local)
            pacing = TopicPacing(self.settings.topic_idle_s, self.settings.max_topic_lead_seconds * 1000,
                                 clock=lambda: self.poll_clock)  # fmt: skip
            pacing.unfinished = set(range(N_TOPICS))  # nothing is known to be read to its end yet
            cuts = cuts_by_window(cut_values[n], self.cuts_app_id, n)
            out[n] = Assigned(n, local, state, PartitionProcessor(state, self.settings), pacing, cuts)
            checkpoint = starts[n]
            log.info(
                "partition restored",
                extra={"partition": n, "from_offset": checkpoint.changelog_offset if checkpoint else 0,
                       "groups": groups[n], "discarded_records": assemblers[n].discarded_records,
                       "cuts": len(cuts), "path": str(state_path(self.settings, n))},
            )  # fmt: skip
        log.info("state restored", extra={"partitions": numbers, "seconds": round(time.monotonic() - started, 3)})
        return out


def state_path(settings: Settings, partition: int) -> Path:
    return settings.state_dir / settings.app_id / f"partition-{partition:04d}"
