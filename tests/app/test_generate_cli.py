"""``aiwebtest generate`` end to end, offline, as a user runs it."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agents.generation.readability import measure

from tests.helpers.pg import server_processes

ROOT = Path(__file__).parents[2]
BIN = Path(sys.executable).parent


def test_a_search_time_out_of_range_is_refused_before_anything_starts(data_dir: Path) -> None:
    """The same sentence as the API's 422 and the window's, and no server is started for it."""
    env = {**os.environ, "AIWEBTEST_DATA_DIR": str(data_dir)}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "generate", "--repo", str(data_dir), "--files", "calc.py",
         "--search-time", "2"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip() == "aiwebtest: search_time_s: must be from 5 to 600 seconds, got 2"
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert not server_processes(data_dir)


@pytest.mark.slow
def test_generate_offline_reaches_target_and_tests_pass_under_plain_pytest(
    data_dir: Path, sample_repo: Path, pynguin_runner
) -> None:
    (data_dir / "tools").symlink_to(pynguin_runner.venv.parent)  # reuse the session's Pynguin install
    env = {**os.environ, "AIWEBTEST_DATA_DIR": str(data_dir)}
    env.pop("LLM_BASE_URL", None)
    # One run, as a user runs it: progress per agent step, the summary, and the files written into the repository.
    clean = data_dir / "check"
    shutil.copytree(sample_repo, clean)
    progress = subprocess.run(
        [sys.executable, "-m", "app.cli", "generate", "--repo", str(clean), "--files", "calc.py,text_utils.py",
         "--coverage-target", "0.8", "--agents", "--search-time", "10", "--write"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert progress.returncode == 0, progress.stderr
    lines = progress.stdout.splitlines()
    for agent in ("orchestration", "observation", "requirements", "analysis", "evolution", "reporting"):
        assert any(line.startswith(f"[{agent}]") for line in lines), f"no progress line from {agent}"
    assert "route agents" in lines[0]
    # What each generator of the portfolio kept (or why nothing), one line each.
    assert any(line.startswith("  round 1 pynguin dynamosa") for line in lines), progress.stdout
    assert any(line.startswith("  round 1 crosshair cover") for line in lines), progress.stdout
    done = next(line for line in lines if line.startswith("done: "))
    coverage = float(done.split("measured line coverage ")[1].split("%")[0])
    assert coverage >= 80 and "$0 (no model call)" in done, done
    assert any(line.startswith("mutation score ") for line in lines), progress.stdout  # the one run that measures it
    assert any(line.startswith("wrote ") for line in lines), progress.stdout
    assert server_processes(data_dir) == []

    # The written files pass under plain pytest from the root.
    plain_env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(clean)}
    run = subprocess.run([str(BIN / "pytest"), "-q", "-p", "no:cacheprovider"], cwd=clean, env=plain_env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    # One tests/conftest.py makes the modules importable; no file carries its own sys.path line.
    assert (clean / "tests" / "conftest.py").is_file()
    # What search and CrossHair made was distilled: no var_N, nothing assigned and unread, every test asserts.
    for written in (clean / "tests").glob("test_*.py"):
        assert "sys.path" not in written.read_text(), written.read_text()
        looks = measure(written.read_text())
        assert looks.placeholder_share == 0 and looks.unused_names == 0 and looks.assert_share == 1, \
            written.read_text()
    subprocess.run([str(BIN / "coverage"), "run", "--branch", "--source=.", str(BIN / "pytest"), "-q",
                    "-p", "no:cacheprovider"], cwd=clean, env=plain_env, check=True, capture_output=True)
    report = subprocess.run([str(BIN / "coverage"), "json", "-o", "-", "--include=calc.py,text_utils.py"],
                            cwd=clean, env=plain_env, check=True, capture_output=True, text=True)
    totals = json.loads(report.stdout)["totals"]
    # The figure the app printed is the one the user measures with the written files (issue 26).
    assert totals["covered_lines"] / totals["num_statements"] * 100 == pytest.approx(coverage, abs=0.051), \
        (totals, done)


def test_bad_repository_is_a_clear_failure(data_dir: Path) -> None:
    env = {**os.environ, "AIWEBTEST_DATA_DIR": str(data_dir)}
    run = subprocess.run(
        [sys.executable, "-m", "app.cli", "generate", "--repo", "/no/such/repo", "--files", "a.py", "--agents",
         "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 1
    assert "observe failed: The repository '/no/such/repo' does not exist" in run.stderr
    assert "Traceback" not in run.stderr
    state = json.loads(run.stdout)  # --json: the v2 state, failed, with its reason
    assert state["status"] == "failed" and state["route"] == "agents" and "does not exist" in state["error"]


@pytest.mark.slow
def test_a_run_that_keeps_nothing_exits_1_with_the_reason(data_dir: Path, tmp_path: Path, pynguin_runner) -> None:
    """Phase 2's single pass used to report such a run "done: 0 tests" and exit 0 (issue 14)."""
    (data_dir / "tools").symlink_to(pynguin_runner.venv.parent)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "broken.py").write_text("import a_module_nobody_has\n\ndef f(x):\n    return x\n")
    env = {**os.environ, "AIWEBTEST_DATA_DIR": str(data_dir)}
    env.pop("LLM_BASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "generate", "--repo", str(repo), "--files", "broken.py", "--phase2",
         "--search-time", "5", "--no-mutation"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "aiwebtest: failed: no test was kept:" in done.stderr, done.stderr
    assert "a_module_nobody_has" in done.stderr
    assert "\x1b[" not in done.stderr and "│" not in done.stderr  # tool output as clean text
    assert server_processes(data_dir) == []


def test_the_cost_line_never_says_zero_for_an_unpriced_model() -> None:
    """A model missing from the price table cost "$0" without a word (issue 16)."""
    from app.generate_cli import _cost

    assert _cost({"token_usage": 0, "cost_usd": 0}) == "$0 (no model call)"
    assert _cost({"token_usage": 1500, "cost_usd": 0.00036}) == "$0.0004"
    unpriced = {"token_usage": 1393, "cost_usd": 0.0, "cost_note": "cost unknown for local-1.5b: add a price"}
    assert _cost(unpriced) == "cost unknown for local-1.5b: add a price"
    mixed = {"token_usage": 900, "cost_usd": 0.0002, "cost_note": "cost unknown for local-1.5b: add a price"}
    assert _cost(mixed) == "$0.0002 + cost unknown for local-1.5b: add a price"


def test_write_goes_only_into_the_repository_asked_for(tmp_path: Path) -> None:
    """``--write`` works out the folder from ``--repo``; a result row naming another folder, or a file outside
    it, writes nothing at all (issue 28: the row comes from a database other machines write to)."""
    from app.generate_cli import _write
    from engine.errors import AppError, BadResult

    repo, elsewhere, workspace = tmp_path / "repo", tmp_path / "elsewhere", tmp_path / "workspaces"
    repo.mkdir()
    elsewhere.mkdir()
    files = {"tests/test_generated_a.py": "def test_a():\n    assert 1\n"}
    with pytest.raises(BadResult, match="not .* that was asked for"):
        _write(str(repo), workspace, {"repository": str(elsewhere), "files": files})
    with pytest.raises(BadResult, match="not a relative path"):
        _write(str(repo), workspace, {"repository": str(repo), "files": {**files, "/tmp/x.py": "import os\n"}})
    assert not (repo / "tests").exists() and not any(elsewhere.iterdir())
    (repo / "tests").mkdir()
    (repo / "tests" / "test_generated_b.py").write_text("# mine\n")
    with pytest.raises(AppError, match="nothing was written"):  # one file exists: none is written
        _write(str(repo), workspace, {"repository": str(repo),
                                      "files": {**files, "tests/test_generated_b.py": "x = 1\n"}})
    assert sorted(p.name for p in (repo / "tests").iterdir()) == ["test_generated_b.py"]
    _write(str(repo), workspace, {"repository": str(repo), "files": files})
    assert (repo / "tests" / "test_generated_a.py").read_text() == files["tests/test_generated_a.py"]
