"""A second search on the core CrossHair frees early (agents/freed_core.py)."""

from __future__ import annotations

import asyncio

import pytest

from agents.freed_core import MIN_SECOND_SEARCH_S, SECOND_START_UP_S, FreedCore


async def test_the_second_search_starts_when_the_core_is_freed_and_ends_with_the_first() -> None:
    freed = FreedCore(window_s=30.0)
    started: list[int] = []

    async def start(left: int) -> str:
        started.append(left)
        return "candidate"

    second = asyncio.create_task(freed.search(start))
    await asyncio.sleep(0.2)
    assert not started  # CrossHair still holds its core
    assert await freed.signalling(asyncio.sleep(0, result="crosshair's tests")) == "crosshair's tests"
    assert await second == "candidate"
    assert started and started[0] == pytest.approx(30 - SECOND_START_UP_S, abs=1)
    assert freed.waited_s >= 0.2  # told apart from its search's own time (the result's steps)


async def test_too_little_of_the_window_left_starts_nothing_and_a_failing_job_still_frees_the_core() -> None:
    freed = FreedCore(window_s=SECOND_START_UP_S + MIN_SECOND_SEARCH_S - 1)

    async def start(left: int) -> str:
        raise AssertionError("not to be started")

    second = asyncio.create_task(freed.search(start))

    async def crashing() -> None:
        raise RuntimeError("CrossHair crashed")

    with pytest.raises(RuntimeError):
        await freed.signalling(crashing())
    assert await second is None
