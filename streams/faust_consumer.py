"""Faust's aiokafka consumer with a cheaper hand-over of each fetched message to the streams.

Faust's fetch loop (``Consumer._drain_messages``) passes every message on with
``wait_first(callback(message), suspend_flow.wait())``: four new tasks and an ``asyncio.wait`` per message, so
that a callback blocked on a full stream buffer is abandoned when a rebalance suspends the flow. That is most of
Faust's per-message cost here (its no-op agent went from about 13.7k to 17-18k messages/s without it). Almost
every callback completes without waiting, so this loop first runs the callback synchronously up to its first
suspension; only a callback that does suspend is finished in a task, raced against the flow being suspended
exactly as Faust does. Everything else (read offsets, gap tracking, periodic commits) is Faust's loop as it is.

This overrides a private Faust method; the worker gets it through its own transport scheme
(``TRANSPORT_SCHEME``), and this module is the only place that knows the method. Re-check it when upgrading
faust-streaming.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from typing import Any

from faust.transport.consumer import CONSUMER_FETCHING
from faust.transport.drivers.aiokafka import Consumer as AIOKafkaConsumer
from faust.transport.drivers.aiokafka import Transport as AIOKafkaTransport

TRANSPORT_SCHEME = "restock-kafka"


async def _finish(coro: Coroutine[Any, Any, Any], awaiting: Any) -> Any:
    """Go on driving ``coro``, which has suspended on the future ``awaiting``, as a Task would."""
    try:
        while True:
            try:
                await _Wait(awaiting)
            except BaseException as exc:  # cancellation or the future's error goes into the coroutine
                awaiting = coro.throw(exc)
            else:
                awaiting = coro.send(None)
    except StopIteration as stop:
        return stop.value


class _Wait:
    """Awaits a future the way the suspended coroutine was, without consuming its result."""

    def __init__(self, future: Any) -> None:
        self.future = future

    def __await__(self) -> Generator[Any, None, None]:
        if self.future is not None:
            self.future._asyncio_future_blocking = True
            yield self.future
        else:  # a bare ``yield`` (asyncio.sleep(0)): give the loop one turn
            yield


class LeanDrainConsumer(AIOKafkaConsumer):
    async def _drain_messages(self, fetcher: Any) -> None:  # pragma: no cover (exercised by the worker tests)
        callback = self.callback
        getmany = self.getmany
        consumer_should_stop = self._stopped.is_set
        fetcher_should_stop = fetcher._stopped.is_set
        get_read_offset = self._read_offset.__getitem__
        set_read_offset = self._read_offset.__setitem__
        set_flag, unset_flag = self.diag.set_flag, self.diag.unset_flag
        commit_every = self._commit_every
        acks_enabled_for = self.app.topics.acks_enabled_for
        suspended = self.suspend_flow.is_set
        yield_every, since_yield = 100, 0
        try:
            while not (consumer_should_stop() or fetcher_should_stop()):
                set_flag(CONSUMER_FETCHING)
                messages = getmany(timeout=1.0)
                await asyncio.sleep(0)
                if not self.should_stop:
                    async for tp, message in messages:
                        since_yield += 1
                        if since_yield > yield_every:
                            await asyncio.sleep(0)
                            since_yield = 0
                        offset = message.offset
                        r_offset = get_read_offset(tp)
                        if r_offset is None or offset >= r_offset:
                            gap = offset - (r_offset or 0)
                            if gap > 1 and r_offset and acks_enabled_for(message.topic):
                                await self._add_gap(tp, r_offset + 1, offset)
                            if commit_every is not None and self._n_acked >= commit_every:
                                self._n_acked = 0
                                await self.commit()
                            if not suspended():
                                await self._deliver(callback, message)
                            set_read_offset(tp, offset)
                        else:
                            self.log.dev("DROPPED MESSAGE ROFF %r: k=%r v=%r", offset, message.key, message.value)
                    unset_flag(CONSUMER_FETCHING)
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                self.log.info("Broker stopped consumer, shutting down...")
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                self.log.info("Consumer shutting down for user cancel.")
                return
            raise
        except Exception as exc:
            self.log.exception("Drain messages raised: %r", exc)
            raise
        finally:
            unset_flag(CONSUMER_FETCHING)

    async def _deliver(self, callback: Any, message: Any) -> None:
        coro = callback(message)
        try:
            awaiting = coro.send(None)
        except StopIteration:
            return  # delivered without waiting: the common case
        await self.wait_first(asyncio.ensure_future(_finish(coro, awaiting)), self.suspend_flow.wait())


class LeanDrainTransport(AIOKafkaTransport):
    """Faust's aiokafka transport with :class:`LeanDrainConsumer`; registered as ``restock-kafka://`` through
    Faust's ``faust.transports`` entry point (pyproject.toml)."""

    Consumer = LeanDrainConsumer
