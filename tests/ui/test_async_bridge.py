"""Views' periodic reads: a short store-retry budget, one at a time per view, and stale figures said as stale."""

from __future__ import annotations

import asyncio

from agents.store_retry import AGENT_BUDGET_S, current_budget_s
from ui.async_bridge import REFRESH_BUDGET_S, AsyncRunner
from ui.stale_note import StaleNote


async def test_a_refresh_waits_out_a_store_restart_briefly_and_never_twice_at_once(qapp) -> None:
    runner = AsyncRunner()
    seen: list[float] = []
    release = asyncio.Event()
    started = 0

    async def read() -> float:
        nonlocal started
        started += 1
        await release.wait()
        return current_budget_s()

    first = runner.refresh("costs", read(), seen.append)
    assert first is not None
    assert runner.refresh("costs", read(), seen.append) is None  # still running: not started again
    other = runner.refresh("agents", read(), seen.append)  # another view's read is its own
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(first, other)
    await asyncio.sleep(0)
    assert started == 2 and seen == [REFRESH_BUDGET_S, REFRESH_BUDGET_S]
    assert current_budget_s() == AGENT_BUDGET_S  # the caller's own budget is untouched
    done = runner.run(read())  # a user's action keeps the default budget
    assert await done == AGENT_BUDGET_S


async def test_a_read_that_met_a_store_restarting_is_one_line_in_the_log_not_a_traceback(qapp, caplog) -> None:
    """bench/soak.py's PostgreSQL kill printed a panel refresh's whole traceback; a program error still gets one."""
    import asyncpg

    runner = AsyncRunner()
    errors: list[str] = []

    async def starting_up() -> None:
        raise asyncpg.CannotConnectNowError("the database system is starting up")

    async def broken() -> None:
        raise TypeError("a bug")

    for read in (starting_up, broken):
        task = runner.run(read(), on_error=errors.append)
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.sleep(0)
    restarting, bug = [r for r in caplog.records if "background call failed" in r.getMessage()]
    assert restarting.exc_info is None and "starting up" in restarting.getMessage()
    assert bug.exc_info is not None
    assert len(errors) == 2  # each still said where the user looks


def test_stale_figures_say_how_old_they_are_and_why(qtbot) -> None:
    note = StaleNote()
    qtbot.addWidget(note)
    note.show()
    note.stale("A service is not answering (ConnectionRefusedError)")
    assert note.isVisible() and note.text().startswith("No figures yet: A service is not answering")
    note.fresh()
    assert note.isHidden()
    note.stale("A service is not answering (ConnectionRefusedError)")
    assert note.text().startswith("Figures from ") and "s old): A service is not answering" in note.text()
