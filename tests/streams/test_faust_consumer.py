"""The lean fetch loop's hand-over: a callback that suspends is finished in a task exactly as asyncio would."""

from __future__ import annotations

import asyncio

import pytest

from streams.faust_consumer import TRANSPORT_SCHEME, LeanDrainTransport, _finish


def start(coro):  # what LeanDrainConsumer._deliver does
    try:
        awaiting = coro.send(None)
    except StopIteration as done:
        return done.value, None
    return None, asyncio.ensure_future(_finish(coro, awaiting))


def test_a_callback_that_does_not_wait_completes_without_a_task() -> None:
    async def main() -> None:
        queue: asyncio.Queue[int] = asyncio.Queue(maxsize=1)
        _, task = start(queue.put(1))
        assert task is None and queue.get_nowait() == 1

    asyncio.run(main())


def test_a_callback_blocked_on_a_full_queue_finishes_when_there_is_room() -> None:
    async def main() -> None:
        queue: asyncio.Queue[int] = asyncio.Queue(maxsize=1)
        queue.put_nowait(0)

        async def deliver(item: int) -> str:
            await asyncio.sleep(0)
            await queue.put(item)
            return f"delivered {item}"

        _, task = start(deliver(1))
        assert task is not None
        await asyncio.sleep(0.01)
        assert not task.done() and queue.qsize() == 1
        assert queue.get_nowait() == 0
        assert await asyncio.wait_for(task, 1) == "delivered 1"
        assert queue.get_nowait() == 1

    asyncio.run(main())


def test_errors_and_cancellation_reach_the_callback() -> None:
    async def main() -> None:
        gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        cleaned: list[str] = []

        async def failing() -> None:
            await gate
            raise ValueError("bad message")

        _, task = start(failing())
        gate.set_result(None)
        with pytest.raises(ValueError, match="bad message"):
            await task

        blocker: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def blocked() -> None:
            try:
                await blocker
            finally:
                cleaned.append("finally ran")

        _, task = start(blocked())
        await asyncio.sleep(0)
        task.cancel()  # what wait_first does when a rebalance suspends the flow
        with pytest.raises(asyncio.CancelledError):
            await task
        assert cleaned == ["finally ran"] and blocker.cancelled()

    asyncio.run(main())


def test_the_transport_is_registered_under_its_scheme() -> None:
    from faust.transport.drivers import by_url

    assert by_url(f"{TRANSPORT_SCHEME}://127.0.0.1:9092") is LeanDrainTransport
