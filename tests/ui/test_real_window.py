"""The real app in a real X window (Xvfb), driven with the keyboard through one generation.

Everything else in tests/ui drives widgets offscreen; this one starts ``aiwebtest`` as a user
does, under an X server, types with xdotool (Ctrl+L, the path, Enter, Space on the first file,
Ctrl+Return), waits for the request to finish (read from the app's own /metrics), grabs the
screen, and quits with Ctrl+Q. ``make setup`` installs xvfb and xdotool as root; without them
this test is skipped with that reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers.pg import server_processes

ROOT = Path(__file__).parents[2]
TITLE = "AI Web Test Control Center"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("Xvfb") is None or shutil.which("xdotool") is None,
                       reason="Xvfb and xdotool are needed (make setup installs xvfb and xdotool as root)"),
]

GRAB = ("import sys\nfrom PySide6.QtGui import QGuiApplication\napp = QGuiApplication([])\n"
        "sys.exit(0 if app.primaryScreen().grabWindow(0).save(sys.argv[1]) else 1)\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_xvfb() -> tuple[subprocess.Popen, str]:
    read, write = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
                            pass_fds=(write,), stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    return xvfb, f":{number}"


def xdo(display: str, *args: str) -> str:
    done = subprocess.run(["xdotool", *args], env={**os.environ, "DISPLAY": display}, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, f"xdotool {args}: {done.stderr}"
    return done.stdout


def wait_for_log(path: Path, text: str, timeout_s: float = 90.0) -> None:
    """What the window says reaches the app's log file: wait for it there rather than guess a delay."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        time.sleep(0.2)
    pytest.fail(f"the app never said {text!r} (log: {path})")


def finished(client: httpx.Client) -> str | None:
    """The first finished request's verdict, from the app's own metrics."""
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("aiwebtest_generation_finished_total{") and not line.endswith(" 0.0"):
            return line.split('outcome="')[1].split('"')[0]
    return None


def test_a_generation_driven_with_the_keyboard_in_a_real_window(data_dir: Path, tmp_path: Path, sample_repo: Path,
                                                               pynguin_runner) -> None:
    (data_dir / "tools").symlink_to(pynguin_runner.venv.parent)  # the session's Pynguin install
    xvfb, display = start_xvfb()
    port = free_port()
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", "AIWEBTEST_DATA_DIR": str(data_dir),
           "AIWEBTEST_API_PORT": str(port), "AIWEBTEST_LOG_DIR": str(tmp_path / "log"),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}  # a first start: no remembered form
    env.pop("LLM_BASE_URL", None)
    app = subprocess.Popen([sys.executable, "-m", "ui.entry"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    try:
        window = xdo(display, "search", "--sync", "--name", TITLE).split()[0]
        token = ""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # the API answers once the services and panels are up
            token = (data_dir / "api-token").read_text().strip() if (data_dir / "api-token").exists() else ""
            try:
                if token and httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("the app did not come up within 120 s")
        log = tmp_path / "log" / "aiwebtest.log"
        wait_for_log(log, "status: Ready")
        xdo(display, "windowfocus", "--sync", window)
        xdo(display, "key", "--clearmodifiers", "ctrl+l")
        xdo(display, "type", "--delay", "15", str(sample_repo))
        xdo(display, "key", "Return")
        wait_for_log(log, "status: Loaded ")  # the files are listed; focus is on the first one
        time.sleep(0.5)
        xdo(display, "key", "space")  # tick calc.py
        time.sleep(0.5)
        xdo(display, "key", "--clearmodifiers", "alt+m")  # no mutation score: its time box is not this test's
        time.sleep(0.5)
        xdo(display, "key", "--clearmodifiers", "ctrl+Return")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"},
                          timeout=10) as client:
            deadline = time.monotonic() + 240
            while (verdict := finished(client)) is None:
                assert time.monotonic() < deadline, "no generation finished within 240 s"
                assert app.poll() is None, app.stdout.read() if app.stdout else ""
                time.sleep(1.0)
        assert verdict in ("completed", "partial")
        time.sleep(1.5)  # the result is drawn
        shot = tmp_path / "real-window-generate.png"
        grab = subprocess.run([sys.executable, "-c", GRAB, str(shot)], env={**env}, capture_output=True, timeout=60)
        assert grab.returncode == 0 and shot.stat().st_size > 20_000, grab.stderr
        if os.environ.get("AIWEBTEST_KEEP_SCREENSHOT"):
            shutil.copy(shot, os.environ["AIWEBTEST_KEEP_SCREENSHOT"])
        xdo(display, "key", "--clearmodifiers", "ctrl+q")
        assert app.wait(timeout=60) == 0
    finally:
        if app.poll() is None:
            app.terminate()
            app.wait(timeout=30)
        xvfb.terminate()
        xvfb.wait(timeout=10)
    assert server_processes(data_dir) == []
