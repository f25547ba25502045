import asyncio
import os
import sys
import uuid
from pathlib import Path

import psutil
import pytest

from engine.sandbox import SANDBOX_NICENESS, SandboxLimits, clean_env, run_sandboxed


def marker_processes(marker: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if marker in " ".join(proc.info["cmdline"] or []) and proc.status() != psutil.STATUS_ZOMBIE:
            found.append(proc)
    return found


def run_cgroups() -> set[Path]:
    root = Path("/sys/fs/cgroup")
    return {*root.glob("*/aiwebtest-run-*"), *root.glob("aiwebtest-run-*")}


async def test_time_limit_kills_the_whole_tree(tmp_path: Path) -> None:
    marker = f"aiwebtest-marker-{uuid.uuid4().hex[:8]}"
    code = (
        "import subprocess, sys\n"
        f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', '{marker}'])\n"
        "while True: pass\n"
    )
    before = run_cgroups()
    result = await run_sandboxed(
        [sys.executable, "-c", code], python=sys.executable, cwd=tmp_path,
        limits=SandboxLimits(timeout_s=2, memory_mb=512), env=clean_env(tmp_path),
    )
    assert result.timed_out
    assert result.duration_s < 2 + 2
    await asyncio.sleep(0.2)
    assert marker_processes(marker) == []
    # Nor a cgroup (where the machine lets us make them). Another test worker's run may be live meanwhile,
    # its cgroup made and not yet joined (empty for a moment): only an empty cgroup that stays is ours, left.
    def empty_new() -> set[Path]:
        return {d for d in run_cgroups() - before if d.exists() and not _procs(d)}

    left = empty_new()
    for _ in range(50):
        left &= empty_new()
        if not left:
            break
        await asyncio.sleep(0.1)
    assert left == set()


def _procs(cgroup: Path) -> str:
    try:
        return (cgroup / "cgroup.procs").read_text().strip()
    except OSError:  # removed while we looked
        return "gone"


async def test_memory_cap_holds(tmp_path: Path) -> None:
    result = await run_sandboxed(
        [sys.executable, "-c", "x = bytearray(2 * 1024**3)"], python=sys.executable, cwd=tmp_path,
        limits=SandboxLimits(timeout_s=30, memory_mb=256), env=clean_env(tmp_path),
    )
    assert result.returncode != 0
    assert result.out_of_memory


async def test_environment_has_no_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("LLM_API_KEY", "STAGEHAND_API_KEY", "POSTGRES_URL", "REDIS_STREAMS_URL", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(var, "s3cr3t-value")
    result = await run_sandboxed(
        [sys.executable, "-c", "import os; print(sorted(os.environ)); print(os.getcwd())"],
        python=sys.executable, cwd=tmp_path, limits=SandboxLimits(30, 512), env=clean_env(tmp_path),
    )
    assert "s3cr3t-value" not in result.stdout
    assert "LLM_API_KEY" not in result.stdout and "POSTGRES_URL" not in result.stdout
    assert str(tmp_path) in result.stdout


async def test_output_is_capped(tmp_path: Path) -> None:
    result = await run_sandboxed(
        [sys.executable, "-c", "import sys\nfor _ in range(200000): sys.stdout.write('x' * 100 + '\\n')"],
        python=sys.executable, cwd=tmp_path, limits=SandboxLimits(60, 512), env=clean_env(tmp_path),
        output_cap=10_000,
    )
    assert result.truncated
    assert len(result.stdout) < 10_100
    assert result.returncode == 0


async def test_without_isolation_code_is_refused_unless_the_user_allowed_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from engine import isolation
    from engine.sandbox import SandboxUnavailable

    missing = isolation.Isolation(False, None, "bwrap is not installed (package bubblewrap)", "rlimits")
    monkeypatch.setattr(isolation, "probe", lambda: missing)
    monkeypatch.setattr(isolation, "known", lambda: missing)  # the answer kept in memory (health reads it too)
    argv = [sys.executable, "-c", "print('ran')"]
    with pytest.raises(SandboxUnavailable, match="bwrap is not installed.*allow_unisolated to true"):
        await run_sandboxed(argv, python=sys.executable, cwd=tmp_path, limits=SandboxLimits(30, 512),
                            env=clean_env(tmp_path))
    result = await run_sandboxed(argv, python=sys.executable, cwd=tmp_path, limits=SandboxLimits(30, 512),
                                 env=clean_env(tmp_path), allow_unisolated=True)
    assert result.stdout.strip() == "ran" and not result.isolated


@pytest.mark.skipif(os.geteuid() != 0, reason="as a normal user the sandbox runs as that user and reads its files")
async def test_as_root_an_owner_only_repository_is_read_at_its_own_path(tmp_path: Path) -> None:
    """Was refused with "chmod -R o+rX" (issue 26): the sandbox account now reads a snapshot mounted there."""
    repo = tmp_path / "private"
    repo.mkdir(mode=0o700)
    (repo / "lib.py").write_text("VALUE = 42\n")
    os.chmod(repo / "lib.py", 0o600)
    code = f"import os, sys; sys.path.insert(0, {str(repo)!r}); import lib; print(lib.VALUE, os.getuid())"
    (tmp_path / "scratch").mkdir()
    result = await run_sandboxed([sys.executable, "-c", code], python=sys.executable, cwd=tmp_path / "scratch",
                                 limits=SandboxLimits(30, 512), env=clean_env(tmp_path), readable=[repo])
    assert result.returncode == 0, result.stderr
    value, uid = result.stdout.split()
    assert value == "42" and uid != "0"


async def test_the_repositorys_code_runs_below_the_apps_cpu_priority(tmp_path: Path) -> None:
    """Two generations on two cores must not starve the window's loop (issue 28): the sandbox runs niced."""
    result = await run_sandboxed(
        [sys.executable, "-c", "import os; print(os.nice(0))"], python=sys.executable, cwd=tmp_path,
        limits=SandboxLimits(timeout_s=30, memory_mb=512), env=clean_env(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) >= os.nice(0) + SANDBOX_NICENESS
