"""``pip install .`` in a clean venv gives a working app: data files found, every import declared.

The install is done by uv (the set-up's installer: it resolves like pip from the same metadata
and reuses the set-up's cache, where pip would download some 300 MB again); ``pip check`` then
confirms with pip's own eyes that every declared requirement is met.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.pg import server_processes

ROOT = Path(__file__).parents[2]
UV = Path(sys.executable).with_name("uv")

# Every module of ours, imported in the clean venv: an import of an undeclared package fails here.
IMPORT_ALL = """
import importlib, pkgutil, sys
import app, agents, engine, ui
failed = []
for package in (app, agents, engine, ui):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if info.name.endswith("__main__"):
            continue
        try:
            importlib.import_module(info.name)
        except Exception as exc:
            failed.append(f"{info.name}: {type(exc).__name__}: {exc}")
print("\\n".join(failed) or "all imported")
sys.exit(1 if failed else 0)
"""


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args[:3]} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.slow
@pytest.mark.skipif(not UV.exists(), reason="uv is not in the test venv (make setup installs it)")
def test_pip_install_in_a_clean_venv_gives_a_working_app(tmp_path: Path, data_dir: Path) -> None:
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    source = tmp_path / "source"  # a clean copy: the build must not depend on files outside git
    run("git", "clone", "--quiet", ROOT, source, cwd=tmp_path)
    for changed in subprocess.run(["git", "ls-files", "--modified", "--others", "--exclude-standard"], cwd=ROOT,
                                  capture_output=True, text=True).stdout.split():
        (source / changed).parent.mkdir(parents=True, exist_ok=True)
        (source / changed).write_bytes((ROOT / changed).read_bytes())
    run(UV, "pip", "install", "--quiet", "--python", python, source, cwd=tmp_path)
    run(python, "-m", "pip", "check", cwd=tmp_path)
    outside = tmp_path / "elsewhere"  # never the checkout: its folders would shadow the install
    outside.mkdir()
    assert "all imported" in run(python, "-c", IMPORT_ALL, cwd=outside, env={"QT_QPA_PLATFORM": "offscreen"})
    env = {"AIWEBTEST_DATA_DIR": str(data_dir), "AIWEBTEST_API_PORT": "0", "QT_QPA_PLATFORM": "offscreen",
           "AIWEBTEST_LOG_DIR": str(tmp_path / "log")}
    smoke = run(venv / "bin" / "aiwebtest", "--smoke", cwd=outside, env=env, timeout=180)
    migrations = len(list((ROOT / "migrations").glob("*.sql")))
    assert smoke.startswith("smoke ok") and f"migrations applied {migrations};" in smoke, smoke
    assert server_processes(data_dir) == []
