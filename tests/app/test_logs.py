"""The log file: where it goes, what reaches it, how it and the servers' logs rotate."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import logs

ROOT = Path(__file__).parents[2]


@pytest.fixture
def log_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AIWEBTEST_LOG_DIR", str(tmp_path / "log"))
    yield tmp_path / "log"
    logs.stop_logging()


def test_records_reach_the_file_through_the_queue(log_dir: Path) -> None:
    path = logs.setup_logging()
    assert path == log_dir / "aiwebtest.log"
    logging.getLogger("aiwebtest.test").info("a line for the file")
    logging.getLogger("aiwebtest.test").debug("below the file's level")
    logs.stop_logging()  # flushes the queue's thread
    text = path.read_text()
    assert "INFO aiwebtest.test: a line for the file" in text
    assert "below the file's level" not in text


def test_an_unwritable_log_dir_is_said_once_and_the_app_goes_on(tmp_path: Path, monkeypatch, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("AIWEBTEST_LOG_DIR", str(blocker / "log"))
    try:
        assert logs.setup_logging() is None
    finally:
        logs.stop_logging()
    assert "logging to stderr only" in capsys.readouterr().err


def test_rotate_keeps_the_newest_files(tmp_path: Path) -> None:
    path = tmp_path / "redis.log"
    for generation in range(5):
        path.write_text(f"generation {generation}\n" * 100)
        assert logs.rotate(path, max_bytes=100, keep=3)
    assert not path.exists()
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert kept == ["redis.log.1", "redis.log.2", "redis.log.3"]
    assert (tmp_path / "redis.log.1").read_text().startswith("generation 4")
    assert (tmp_path / "redis.log.3").read_text().startswith("generation 2")
    path.write_text("small")
    assert not logs.rotate(path, max_bytes=100, keep=3)


def test_a_command_started_without_a_terminal_still_logs(tmp_path: Path) -> None:
    """What a launcher-started app says goes to the file, not only to a stderr nobody reads."""
    env = {**os.environ, "AIWEBTEST_LOG_DIR": str(tmp_path / "log"), "AIWEBTEST_DATA_DIR": str(tmp_path / "d")}
    done = subprocess.run([sys.executable, "-m", "app.cli", "api-token"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "log" / "aiwebtest.log").read_text()
    assert "aiwebtest 0." in text and "api-token" in text
    assert done.stdout.strip() not in text  # the token itself is printed, never logged


def test_a_forked_child_exits_without_waiting_for_the_parents_log_thread(log_dir: Path) -> None:
    """The frozen build's watchdog forks after logging is set up; its exit joined a thread it did not
    have and hung for ever (the suite found it left running)."""
    logs.setup_logging()
    pid = os.fork()
    if pid == 0:  # the child: stop_logging must return at once
        logs.stop_logging()
        os._exit(0)
    deadline = 0
    while deadline < 100:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        import time

        time.sleep(0.05)
        deadline += 1
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        raise AssertionError("the forked child hung in stop_logging")
    assert os.waitstatus_to_exitcode(status) == 0
