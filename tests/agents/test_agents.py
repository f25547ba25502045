"""Single agents, driven through the runtime like any other task."""

import subprocess
from pathlib import Path

import pytest

from agents.base import Services, dispatch, wait_for_task
from agents.phase2_client import HttpPhase2


async def _run(services: Services, task_type: str, payload: dict) -> dict:
    task_id = await dispatch(services.pool, services.bus, task_type, payload)
    return await wait_for_task(services.pool, task_id, timeout_s=120)


async def test_clone_failure_is_a_clear_error(agent_host, agent_services: Services, tmp_path: Path) -> None:
    done = await _run(agent_services, "observe", {"repository_url": f"file://{tmp_path}/missing.git"})
    assert done["status"] == "failed"
    assert done["error"].startswith(f"Could not clone file://{tmp_path}/missing.git:")
    (tmp_path / "notgit").mkdir()
    plain = await _run(agent_services, "observe", {"repository_url": f"file://{tmp_path}/notgit"})
    # git's reason, not the advice that follows it ("... and the repository exists.")
    assert plain["error"] == (f"Could not clone file://{tmp_path}/notgit: '{tmp_path}/notgit' does not appear "
                              "to be a git repository"), plain["error"]


async def test_a_url_that_looks_like_a_git_option_runs_nothing(agent_host, agent_services: Services,
                                                               tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    option = await _run(agent_services, "observe", {"repository_url": f"--upload-pack=touch {marker} x.git"})
    # git took it for what it is, a repository that does not exist, not for an option
    assert option["error"].startswith("Could not clone") and f"repository '--upload-pack=touch {marker} x.git'" \
        in option["error"], option["error"]
    ext = await _run(agent_services, "observe", {"repository_url": f"ext::sh -c touch% {marker} .git"})
    assert "transport 'ext' not allowed" in ext["error"], ext["error"]
    assert not marker.exists()


async def test_observation_clones_a_git_url_and_takes_stock(agent_host, agent_services: Services,
                                                           sample_repo: Path) -> None:
    (sample_repo / "tests").mkdir()
    (sample_repo / "tests" / "test_calc.py").write_text("from calc import classify\n\ndef test_zero():\n"
                                                        "    assert classify(0) == 'zero'\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q", str(sample_repo)], check=True)
    subprocess.run([*git, "-C", str(sample_repo), "add", "."], check=True)
    subprocess.run([*git, "-C", str(sample_repo), "commit", "-qm", "x"], check=True)
    done = await _run(agent_services, "observe", {"repository_url": f"file://{sample_repo}",
                                                  "target_files": ["calc.py"]})
    assert done["status"] == "completed", done["error"]
    result = done["result"]
    assert result["source"] == "git" and Path(result["repository"]).parent == agent_services.workspace
    assert result["test_files"] == ["tests/test_calc.py"] and result["target_files"] == ["calc.py"]
    missing = await _run(agent_services, "observe", {"repository_url": str(sample_repo),
                                                     "target_files": ["nope.py"]})
    assert missing["error"] == f"Target files not found in {sample_repo}: nope.py"


async def test_a_cloned_link_that_leads_out_of_the_repository_is_refused_as_a_target(
        agent_host, agent_services: Services, sample_repo: Path, tmp_path: Path) -> None:
    """The model's prompt and the analysis read targets in our process, outside the sandbox."""
    secret = tmp_path / "secrets" / "llm-api-key"
    secret.parent.mkdir()
    secret.write_text("sk-do-not-send")
    (sample_repo / "helpers.py").symlink_to(secret)
    (sample_repo / "inner.py").symlink_to("calc.py")  # a link that stays inside is fine
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q", str(sample_repo)], check=True)
    subprocess.run([*git, "-C", str(sample_repo), "add", "."], check=True)
    subprocess.run([*git, "-C", str(sample_repo), "commit", "-qm", "x"], check=True)
    url = f"file://{sample_repo}"
    refused = await _run(agent_services, "observe", {"repository_url": url, "target_files": ["calc.py", "helpers.py"]})
    assert refused["status"] == "failed"
    assert refused["error"] == ("Target files must be regular files inside the repository; these are not (a folder, "
                                "or a link that leads out of it): helpers.py")
    listed = await _run(agent_services, "observe", {"repository_url": url})
    assert "helpers.py" not in listed["result"]["python_files"] and "inner.py" in listed["result"]["target_files"]


async def test_analysis_measures_baseline_coverage_of_existing_tests(agent_host, agent_services: Services,
                                                                      sample_repo: Path) -> None:
    (sample_repo / "tests").mkdir()
    (sample_repo / "tests" / "test_calc.py").write_text("from calc import classify\n\ndef test_zero():\n"
                                                        "    assert classify(0) == 'zero'\n")
    done = await _run(agent_services, "analyze", {
        "repository": str(sample_repo), "target_files": ["calc.py"], "test_files": ["tests/test_calc.py"]})
    assert done["status"] == "completed", done["error"]
    names = [f["name"] for f in done["result"]["functions"]["calc.py"]]
    assert names == ["classify", "safe_div", "clamp"]
    clamp = done["result"]["functions"]["calc.py"][2]
    assert clamp["raises"] == ["ValueError"] and clamp["branches"] >= 1
    baseline = done["result"]["baseline"]
    assert 0 < baseline["line_rate"] < 1
    assert baseline["files"][0]["path"] == "calc.py"


@pytest.mark.slow
async def test_evolution_reaches_phase2_over_http(agent_host, agent_services: Services, test_client,
                                                  sample_repo: Path, pool, api_token: str) -> None:
    """With PHASE2_API_URL set, Evolution POSTs to /api/v1/execute as the spec shows."""
    agent_services.phase2 = HttpPhase2(str(test_client.base_url), api_token)
    done = await _run(agent_services, "evolve", {
        "repository": str(sample_repo), "target_files": ["calc.py"],
        "request": {"repository_url": str(sample_repo), "coverage_target": 0.8, "search_time_s": 10,
                    "mutation_score": False}})  # its time box says nothing of the HTTP path
    assert done["status"] == "completed", done["error"]
    assert done["result"]["coverage"]["line_rate"] >= 0.8
    # Keep per test: the candidate's run, then the kept file's run (green) -- both over HTTP.
    assert await pool.fetchval("SELECT count(*) FROM executions") >= 2
    assert await pool.fetchval("SELECT count(*) FROM executions WHERE status = 'success'") >= 1
