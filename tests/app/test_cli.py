"""The ``aiwebtest`` command as a user runs it: real processes, real servers."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.migrations import discover
from tests.helpers.pg import server_processes

ROOT = Path(__file__).parents[2]


def run_cli(*args: str, data_dir: Path, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "AIWEBTEST_DATA_DIR": str(data_dir), "QT_QPA_PLATFORM": "offscreen",
                "AIWEBTEST_API_PORT": "0", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "ui.entry", *args],
        cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout,
    )


@pytest.mark.slow
def test_smoke_exits_zero_and_leaves_nothing_running(data_dir: Path) -> None:
    result = run_cli("--smoke", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("smoke ok: window ")
    assert "postgres embedded" in result.stdout and "redis embedded" in result.stdout
    assert "Traceback" not in result.stderr
    assert server_processes(data_dir) == []


def test_bad_config_is_one_clear_message(data_dir: Path) -> None:
    result = run_cli("--smoke", data_dir=data_dir, env={"AGENT_TOKEN_BUDGET_DAILY": "lots"})
    assert result.returncode == 2
    assert "AGENT_TOKEN_BUDGET_DAILY='lots'" in result.stderr
    assert "Traceback" not in result.stderr
    assert server_processes(data_dir) == []


def test_smoke_fails_clearly_when_a_server_is_unreachable(data_dir: Path) -> None:
    result = run_cli("--smoke", data_dir=data_dir, env={"REDIS_STREAMS_URL": "redis://127.0.0.1:1"})
    assert result.returncode == 1
    assert "Cannot reach Redis at REDIS_STREAMS_URL=redis://127.0.0.1:1" in result.stderr
    assert "Traceback" not in result.stderr
    assert server_processes(data_dir) == []


@pytest.mark.slow
def test_migrate_twice_then_status(data_dir: Path) -> None:
    first = run_cli("migrate", data_dir=data_dir)
    assert first.returncode == 0, first.stderr
    assert f"applied: {', '.join(m.name for m in discover())}" in first.stdout
    second = run_cli("migrate", data_dir=data_dir)
    assert second.stdout.strip() == "database is up to date"
    status = run_cli("services", "status", data_dir=data_dir)
    assert status.returncode == 0
    lines = status.stdout.splitlines()
    assert lines[1].startswith("postgres ") and "stopped" in lines[1]
    assert lines[2].startswith("redis ") and "stopped" in lines[2]
    assert "stagehand: Chromium at /usr/bin/chromium (STAGEHAND_API_KEY unset): used when Settings' browser " \
           "backend is 'stagehand'" in lines
    assert server_processes(data_dir) == []


@pytest.mark.slow
def test_serve_runs_until_sigterm_and_shuts_down_cleanly(data_dir: Path) -> None:
    env = {**os.environ, "AIWEBTEST_DATA_DIR": str(data_dir), "AIWEBTEST_API_PORT": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("aiwebtest serving: postgres embedded"), proc.stderr.read() if proc.stderr else ""
        status = run_cli("services", "status", data_dir=data_dir)
        assert status.stdout.count("running") == 2
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    deadline = time.time() + 10
    while server_processes(data_dir) and time.time() < deadline:
        time.sleep(0.1)
    assert server_processes(data_dir) == []


@pytest.mark.slow
def test_a_module_missing_after_start_exits_with_a_message_and_stops_the_servers(data_dir: Path,
                                                                                 tmp_path: Path) -> None:
    """The panels import pygments only once the servers run: a broken one must not hang or leak them."""
    shadow = tmp_path / "shadow" / "pygments"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('simulated broken install', name='pygments')\n")
    env = {"PYTHONPATH": str(tmp_path / "shadow")}
    result = run_cli("--smoke", data_dir=data_dir, env=env, timeout=90)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "cannot start: the module 'pygments' is missing or broken" in result.stderr
    assert "Traceback" not in result.stderr
    assert server_processes(data_dir) == []
