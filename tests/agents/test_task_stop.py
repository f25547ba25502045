"""cancel_and_wait against a task that swallows its first cancellation, as redis-py does."""

from __future__ import annotations

import asyncio

from agents.task_stop import cancel_and_wait


async def _swallows_once(passes: list[int]) -> None:
    while True:
        try:
            await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            if not passes:
                passes.append(1)  # the first cancel is eaten, as inside a redis-py command
                continue
            raise


async def test_a_task_that_swallows_one_cancel_is_still_stopped() -> None:
    passes: list[int] = []
    task = asyncio.create_task(_swallows_once(passes))
    await asyncio.sleep(0.02)
    left = await cancel_and_wait([task], grace_s=5)
    assert left == set() and task.done() and passes == [1]


async def test_a_task_that_never_stops_is_named_and_left_behind(caplog) -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                pass

    task = asyncio.create_task(stubborn(), name="stubborn")
    await asyncio.sleep(0)
    left = await cancel_and_wait([task], grace_s=0.5, who="test")
    assert left == {task}
    assert "test: stubborn ignored cancellation" in caplog.text
    release.set()  # end it for real before the loop closes
    await task


async def test_errors_of_stopped_tasks_are_retrieved_not_raised() -> None:
    async def fails() -> None:
        raise ValueError("boom")

    task = asyncio.create_task(fails())
    await asyncio.sleep(0)
    assert await cancel_and_wait([task]) == set()
