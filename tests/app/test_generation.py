"""The Generate feature's service: cancel keeps what was kept, and says so in the verdict."""

from app.generation import GenerationService
from app.outcome import FINISHED_SQL, of_state


def _service(pool) -> GenerationService:
    """Cancel needs only the table: no config, no agents behind it."""
    return GenerationService(pool, None, None)  # type: ignore[arg-type]


async def test_a_cancel_keeps_the_tests_already_kept(pool, tmp_path) -> None:
    """Cancel threw away every test the request had kept (issue 14): now they are its partial result, laid out
    as a finished one is: one tests/conftest.py, not a sys.path line atop each file."""
    from agents import run_log, tasks

    await pool.execute("INSERT INTO agent_tasks (task_id, task_type, payload, status) "
                       "VALUES ('task-c', 'generate', '{}', 'in_progress')")
    code = "def test_a():\n    assert 1\n\ndef test_b():\n    assert 2\n"
    header = "import sys\nfrom pathlib import Path\nsys.path.insert(0, str(Path(__file__).resolve().parents[1]))\n"
    await run_log.append(pool, "task-c", "agent_evolution_x", "Round 1: tests/test_generated_calc.py: 2 tests kept",
                         data={"kept_file": {"path": "tests/test_generated_calc.py", "code": header + code,
                                             "target_file": "calc.py", "repository": str(tmp_path)},
                               "coverage": 0.6})
    await _service(pool).cancel("task-c")
    task = await tasks.get(pool, "task-c")
    assert task["status"] == "failed" and task["error"] == "cancelled by the user"
    state = {"status": task["status"], "error": task["error"], "result": task["result"]}
    verdict = of_state(state)
    assert verdict.kind == "partial" and "the 2 tests kept until then" in verdict.reason
    files = task["result"]["files"]
    assert set(files) == {"tests/test_generated_calc.py", "tests/conftest.py"}  # jsonb keeps no order
    assert "sys.path" not in files["tests/test_generated_calc.py"] and "def test_b():" in files[
        "tests/test_generated_calc.py"]
    assert task["result"]["coverage_estimate"] == 0.6
    await pool.execute(
        "INSERT INTO generation_requests (request_id, route, rollout_mode, rollout_percentage, bucket, routing_key, "
        "reason, request, agent_task_id) VALUES ('task-c', 'agents', 'full', 100, 1, 'k', 'r', '{}', 'task-c')")
    assert await pool.fetchval(f"SELECT verdict FROM ({FINISHED_SQL}) f") == "partial"


async def test_a_cancel_before_anything_was_kept_is_a_failure(pool) -> None:
    from agents import tasks

    await pool.execute("INSERT INTO agent_tasks (task_id, task_type, payload, status) "
                       "VALUES ('task-d', 'generate', '{}', 'pending')")
    await _service(pool).cancel("task-d")
    task = await tasks.get(pool, "task-d")
    assert task["result"] is None and of_state({"status": "failed", "error": task["error"]}).kind == "failed"


async def test_a_result_row_naming_another_folder_loses_it_and_says_why(pool, tmp_path) -> None:
    """Save and Run read the result's ``repository``; a row written by another machine or changed by hand
    (issue 28: the database is shared) may name any folder. Only the checkout of the request's own repository
    stays; anything else is taken out, with a note every reader shows."""
    from tests.conftest import make_config

    repo = tmp_path / "repo"
    repo.mkdir()
    service = GenerationService(pool, make_config(tmp_path / "data"), None)  # type: ignore[arg-type]
    for request_id, named in (("p2-good", str(repo)), ("p2-bad", "/root/.config/autostart")):
        await pool.execute(
            "INSERT INTO generation_requests (request_id, route, rollout_mode, rollout_percentage, bucket, "
            "routing_key, reason, request, status, phase2_seconds, phase2_result) VALUES ($1, 'phase2', 'off', 0, "
            "1, 'k', 'r', $2, 'completed', 1.0, $3)", request_id, {"repository_url": str(repo)},
            {"test_count": 1, "outcome": "complete", "repository": named, "files": {"tests/test_a.py": "x = 1\n"}})
    good = await service.status("p2-good")
    assert good["result"]["repository"] == str(repo) and "repository_note" not in good["result"]
    bad = await service.status("p2-bad")
    assert bad["result"]["repository"] is None
    assert "/root/.config/autostart" in bad["result"]["repository_note"] and str(repo) in bad["result"][
        "repository_note"]
    from app.test_results import TestResultsService
    from engine.errors import AppError
    import pytest

    with pytest.raises(AppError, match="another machine"):
        await TestResultsService(object()).run_tests(bad["result"])  # type: ignore[arg-type]
