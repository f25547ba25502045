"""The run log: every progress line kept with its request, in order, readable after a restart."""

from __future__ import annotations

import asyncio

from agents import run_log


async def test_lines_are_kept_in_order_and_read_as_the_log_pane_shows_them(pool) -> None:
    await run_log.append(pool, "task-1", "agent_observation_ab12", "Checking out /repo")
    await run_log.append(pool, "task-1", "agent_evolution_cd34", "Round 1: generating", attempt=2,
                         data={"target_file": "calc.py"})
    await run_log.append(pool, "task-2", "phase2", "Phase 2 single pass")
    lines = await run_log.read(pool, "task-1")
    assert [line["message"] for line in lines] == ["Checking out /repo", "Round 1: generating"]
    assert lines[1]["data"] == {"target_file": "calc.py"}
    text = run_log.as_text(lines)
    assert "[observation] Checking out /repo" in text and "[evolution] (attempt 2) Round 1: generating" in text
    assert run_log.as_text(await run_log.read(pool, "task-2")).endswith("[phase2] Phase 2 single pass")


async def test_a_store_that_is_away_does_not_hold_up_the_work(pool) -> None:
    """The line is lost, the caller is not: ``append`` returns within its write budget and raises nothing."""
    await run_log.append(pool, "task-1", "phase2", "kept")
    assert [line["message"] for line in await run_log.read(pool, "task-1")] == ["kept"]
    await pool.close()  # every write now fails
    loop = asyncio.get_running_loop()
    started = loop.time()
    await run_log.append(pool, "task-1", "phase2", "lost, and that is fine")
    assert loop.time() - started < run_log.WRITE_BUDGET_S + 1.0
