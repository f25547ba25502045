"""The one periodic loop: steps on time, survives what it should, drains and stops."""

import asyncio

import pytest

from agents.periodic import Periodic


async def test_it_steps_every_interval_and_a_failed_step_does_not_end_it() -> None:
    calls: list[int] = []
    errors: list[BaseException] = []

    async def step() -> None:
        calls.append(len(calls))
        if len(calls) == 2:
            raise OSError("store away")

    loop = Periodic("test", step, 0.01, survive=(OSError,), on_error=errors.append)
    loop.start()
    while len(calls) < 4:
        await asyncio.sleep(0.01)
    await loop.stop()
    assert not loop.running and [type(e) for e in errors] == [OSError]
    seen = len(calls)
    await asyncio.sleep(0.05)
    assert len(calls) == seen  # stopped means no more steps


async def test_an_unexpected_error_ends_the_loop() -> None:
    async def step() -> None:
        raise KeyError("bug")

    loop = Periodic("test", step, 0.01, survive=(OSError,))
    loop.start()
    await asyncio.sleep(0.05)
    assert not loop.running
    with pytest.raises(KeyError):
        loop._task.result()
    await loop.stop()


async def test_drain_lets_the_step_in_progress_finish_and_runs_no_other() -> None:
    started, finished = asyncio.Event(), []

    async def step() -> None:
        started.set()
        await asyncio.sleep(0.1)
        finished.append(True)

    loop = Periodic("test", step, 60)  # a minute between steps: drain must not wait for it
    loop.start()
    await started.wait()
    await asyncio.wait_for(loop.drain(), 5)
    assert finished == [True] and loop.steps == 1 and not loop.running
