"""Store calls retried after transient errors only, and the usual call leaving no garbage cycle behind."""

from __future__ import annotations

import gc
import time

import pytest

from agents.store_retry import with_retry


class Flaky:
    """Fails with ``error`` the first ``failures`` times, then answers."""

    def __init__(self, failures: int, error: BaseException) -> None:
        self.failures, self.error, self.calls = failures, error, 0

    async def __call__(self) -> int:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return 42


async def test_a_call_that_succeeds_leaves_no_reference_cycle_for_the_collector() -> None:
    # Issue 28: tenacity's per-call state is a cycle; app/db.py sends every query through here, and the
    # soak's full collections were freeing them with the loop held (bench/soak.py --gc-census).
    gc.collect()
    gc.disable()
    try:
        for _ in range(50):
            assert await with_retry(Flaky(0, OSError())) == 42
        unreachable = gc.collect()
    finally:
        gc.enable()
    assert unreachable < 50, f"{unreachable} unreachable objects after 50 calls that never failed"


async def test_a_transient_error_is_retried_and_the_answer_returned() -> None:
    call = Flaky(2, ConnectionRefusedError("the server is restarting"))
    assert await with_retry(call, budget_s=10) == 42
    assert call.calls == 3


async def test_an_error_that_is_not_transient_is_raised_at_once() -> None:
    call = Flaky(1, ValueError("a bad argument"))
    with pytest.raises(ValueError, match="a bad argument"):
        await with_retry(call, budget_s=10)
    assert call.calls == 1


async def test_a_store_still_down_when_the_budget_is_spent_raises_its_error() -> None:
    call = Flaky(10**6, ConnectionRefusedError("still down"))
    started = time.monotonic()
    with pytest.raises(ConnectionRefusedError, match="still down"):
        await with_retry(call, budget_s=0.5)
    assert 1 < call.calls and time.monotonic() - started < 3
