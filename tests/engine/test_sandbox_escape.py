"""Hostile test code submitted through the engine, as a repository or a model could write it.

Each test file asserts that its attack fails *and* that a harmless
neighbour of it works (its own environ reads, its scratch dir writes), so
a test cannot pass because the attack code itself is broken.
"""

from __future__ import annotations

import asyncio
import os
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import psutil
import pytest

from app.services import Endpoints
from engine import isolation, settings_store
from engine.engine import ExecuteRequest, ExecutionEngine
from engine.settings_store import SettingsUpdate

pytestmark = pytest.mark.skipif(not isolation.probe().available,
                                reason=f"no sandbox here: {isolation.probe().detail}")


async def run(engine: ExecutionEngine, code: str, **request: object) -> dict:
    execution = await engine.execute(ExecuteRequest(textwrap.dedent(code), strategy="tier1_only", **request))
    first = execution.attempts[0]
    message = first.get("message", "") + "\n" + first.get("output_tail", "")
    return {"status": execution.status, "message": message, "execution": execution}


def marker_processes(marker: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if marker in " ".join(proc.info["cmdline"] or []) and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except psutil.Error:
            pass
    return found


@pytest.fixture
def secrets_in_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    value = f"s3cret-{uuid.uuid4().hex}"
    for var in ("LLM_API_KEY", "STAGEHAND_API_KEY", "AIWEBTEST_API_TOKEN"):
        monkeypatch.setenv(var, value)
    yield value


async def test_no_secret_is_readable_in_any_environ(engine: ExecutionEngine, secrets_in_env: str) -> None:
    outcome = await run(engine, f"""
        import glob, os
        SECRET = {secrets_in_env!r}

        def test_no_secret_anywhere():
            assert SECRET not in repr(dict(os.environ))
            readable = 0
            for path in glob.glob("/proc/*/environ"):
                try:
                    data = open(path, "rb").read()
                except OSError:
                    continue
                readable += 1
                assert SECRET.encode() not in data, path
            assert readable >= 1  # our own environ was read: the scan works
            # Only the sandbox's own processes are visible at all.
            assert len([p for p in os.listdir("/proc") if p.isdigit()]) < 10
    """)
    assert outcome["status"] == "success", outcome["message"]


async def test_no_connection_to_the_api_or_the_embedded_servers(
    engine: ExecutionEngine, servers: Endpoints,
) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    api = await asyncio.start_server(answer, "127.0.0.1", 0)  # stands in for our API port
    port = api.sockets[0].getsockname()[1]
    pg_socket_dir = servers.postgres_url.split("host=")[-1].split("&")[0]
    redis_socket = servers.redis_url.split("unix://")[-1].split("?")[0] if "unix://" in servers.redis_url else ""
    try:
        outcome = await run(engine, f"""
            import os, socket
            import pytest

            def test_no_tcp_to_our_port():
                with pytest.raises(OSError):
                    socket.create_connection(("127.0.0.1", {port}), timeout=2)

            def test_no_unix_sockets_of_ours():
                assert not os.path.exists({pg_socket_dir!r})
                if {redis_socket!r}:
                    assert not os.path.exists({redis_socket!r})
        """)
    finally:
        api.close()
        await api.wait_closed()
    assert outcome["status"] == "success", outcome["message"]


async def test_no_read_of_home_or_data_dir_and_no_write_outside_scratch(
    engine: ExecutionEngine, tmp_path: Path, data_dir: Path,
) -> None:
    (data_dir / "secrets").mkdir(exist_ok=True)
    (data_dir / "secrets" / "postgres-password").write_text("pw")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    outcome = await run(engine, f"""
        import os
        import pytest
        from calc import add

        def test_repository_is_read_only_but_readable():
            assert add(1, 2) == 3
            with pytest.raises(OSError):
                open(os.path.join({str(repo)!r}, "planted.py"), "w")

        def test_home_and_data_dir_are_not_there():
            assert not os.path.exists({str(data_dir / "secrets" / "postgres-password")!r})
            assert not os.path.exists({str(Path.home() / ".bashrc")!r}) or {str(Path.home())!r} == os.getcwd()

        def test_no_write_outside_scratch():
            for target in ("/usr/planted", "/etc/planted", {str(tmp_path / "planted")!r}):
                with pytest.raises(OSError):
                    open(target, "w")
            open("written-in-scratch.txt", "w").write("fine")  # the working dir is writable
    """, repository=repo)
    assert outcome["status"] == "success", outcome["message"]
    assert not (repo / "planted.py").exists() and not (tmp_path / "planted").exists()


@pytest.mark.slow
async def test_a_setsid_child_is_gone_after_a_normal_end_and_after_a_time_out(
    engine: ExecutionEngine, pool: asyncpg.Pool,
) -> None:
    for ending in ("normal", "timeout"):
        marker = f"aiwebtest-escapee-{uuid.uuid4().hex[:8]}"
        tail = "time.sleep(300)" if ending == "timeout" else "pass"
        # The normal end needs room for pytest's start on a loaded machine (4 s ran out in one CI run);
        # only the time-out case needs the limit to be short.
        await settings_store.update(pool, SettingsUpdate(timeout_seconds=60 if ending == "normal" else 4))
        outcome = await run(engine, f"""
            import subprocess, sys, time

            def test_leaves_a_daemon():
                subprocess.Popen(["setsid", sys.executable, "-c",
                                  "import time\\nwhile True: sum(range(10000))", {marker!r}],
                                 start_new_session=True)
                time.sleep(0.5)
                {tail}
        """)
        assert outcome["status"] == ("success" if ending == "normal" else "timeout") or \
            (ending == "timeout" and "time limit" in outcome["message"]), outcome
        await asyncio.sleep(0.3)
        assert marker_processes(marker) == [], f"a child survived the {ending} end"


async def test_a_large_shared_mapping_fails_under_the_default_limit(engine: ExecutionEngine) -> None:
    outcome = await run(engine, """
        import mmap
        import pytest

        def test_shared_mapping_is_refused():
            with pytest.raises((OSError, MemoryError, ValueError)):
                m = mmap.mmap(-1, 1536 * 1024 * 1024, flags=mmap.MAP_SHARED)
                for i in range(0, len(m), 4096):
                    m[i] = 1

        def test_a_small_one_is_fine():
            m = mmap.mmap(-1, 64 * 1024 * 1024, flags=mmap.MAP_SHARED)
            m[0] = 1
    """)
    assert outcome["status"] == "success", outcome["message"]


@pytest.mark.slow
async def test_a_fork_bomb_is_contained(engine: ExecutionEngine) -> None:
    marker = f"aiwebtest-bomb-{uuid.uuid4().hex[:8]}"
    outcome = await run(engine, f"""
        import os, time

        def test_fork_until_refused():
            started = 0
            for _ in range(5000):
                try:
                    pid = os.fork()
                except OSError:
                    break
                if pid == 0:
                    os.execvp("sleep", ["sleep", "300", {marker!r}])
                started += 1
            assert started < 5000, "nothing stopped the fork bomb"
    """)
    assert outcome["status"] == "success", outcome["message"]
    await asyncio.sleep(0.3)
    assert marker_processes(marker) == []


def test_isolation_is_reported_plainly() -> None:
    found = isolation.probe()
    assert found.available
    assert "bubblewrap" in found.summary() and "limits:" in found.summary()
    if os.geteuid() == 0:
        assert "aiwebtest-sbx" in found.detail
