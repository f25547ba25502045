import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from app.errors import ServiceError
from app.services import Endpoints, ServiceManager
from tests.conftest import make_config
from tests.helpers.pg import server_processes

pytestmark = pytest.mark.slow

CRASHING_APP = """
import asyncio, sys
from app.config import load_config
from app.services import ServiceManager
async def main():
    await ServiceManager(load_config(env_file=None, aiwebtest_data_dir=sys.argv[1])).start()
    print("up", flush=True)
    await asyncio.sleep(3600)
asyncio.run(main())
"""


async def _wait_no_servers(data_dir: Path, timeout_s: float = 10) -> list:
    for _ in range(int(timeout_s * 20)):
        procs = server_processes(data_dir)
        if not procs:
            return []
        await asyncio.sleep(0.05)
    return server_processes(data_dir)


async def test_start_then_stop_leaves_no_process(data_dir: Path) -> None:
    manager = ServiceManager(make_config(data_dir))
    endpoints = await manager.start()
    assert endpoints.postgres_mode == endpoints.redis_mode == "embedded"
    assert len(server_processes(data_dir)) == 2  # one postmaster, one redis-server
    assert manager.postgres.info and manager.redis.info
    await manager.stop()
    assert await _wait_no_servers(data_dir) == []
    assert manager.postgres.running_info() is None and manager.redis.running_info() is None


async def test_second_user_adopts_and_last_one_out_stops(data_dir: Path) -> None:
    first = ServiceManager(make_config(data_dir))
    second = ServiceManager(make_config(data_dir))
    a = await first.start()
    b = await second.start()
    assert a == b
    assert second.postgres.info is not None and second.postgres.info.adopted
    assert len(server_processes(data_dir)) == 2
    await first.stop()
    assert len(server_processes(data_dir)) == 2, "servers stopped under a live user"
    await second.stop()
    assert await _wait_no_servers(data_dir) == []


async def test_concurrent_starts_never_run_two_servers(data_dir: Path) -> None:
    managers = [ServiceManager(make_config(data_dir)) for _ in range(3)]
    results = await asyncio.gather(*(m.start() for m in managers))
    assert len(set(results)) == 1
    assert len(server_processes(data_dir)) == 2
    for m in managers:
        await m.stop()
    assert await _wait_no_servers(data_dir) == []


async def test_servers_of_a_crashed_app_are_adopted_then_stopped(data_dir: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CRASHING_APP, str(data_dir)],
        stdout=subprocess.PIPE, cwd=Path(__file__).parents[2],
    )
    assert child.stdout is not None
    line = await asyncio.to_thread(child.stdout.readline)
    assert line.strip() == b"up"
    orphans = {p.pid for p in server_processes(data_dir)}
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert len(orphans) == 2 and all(p.is_running() for p in server_processes(data_dir))

    manager = ServiceManager(make_config(data_dir))
    await manager.start()
    assert {p.pid for p in server_processes(data_dir)} == orphans  # reused, not duplicated
    assert manager.postgres.info is not None and manager.postgres.info.adopted
    assert manager.redis.info is not None and manager.redis.info.adopted
    await manager.stop()  # the dead app's registration must not keep them alive
    assert await _wait_no_servers(data_dir) == []


async def test_unresponsive_redis_is_replaced(data_dir: Path) -> None:
    manager = ServiceManager(make_config(data_dir))
    await manager.start()
    stale = manager.redis.running_info()
    assert stale is not None
    os.kill(stale.pid, signal.SIGSTOP)  # alive but deaf
    try:
        again = ServiceManager(make_config(data_dir))
        await again.start()
        assert again.redis.info is not None
        assert again.redis.info.pid != stale.pid and not again.redis.info.adopted
        assert len([p for p in server_processes(data_dir) if "redis" in " ".join(p.cmdline())]) == 1
    finally:
        try:
            os.kill(stale.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    await manager.stop()
    await again.stop()
    assert await _wait_no_servers(data_dir) == []


async def test_stale_pid_files_do_not_block_start(data_dir: Path) -> None:
    manager = ServiceManager(make_config(data_dir))
    await manager.start()
    await manager.stop()
    (data_dir / "redis" / "redis.pid").write_text("999999\n")
    (data_dir / "run" / "redis.sock").write_text("")  # a leftover non-socket file
    await manager.start()
    assert manager.redis.info is not None and not manager.redis.info.adopted
    await manager.stop()
    assert await _wait_no_servers(data_dir) == []


async def test_url_mode_starts_nothing(servers: Endpoints, data_dir: Path) -> None:
    config = make_config(data_dir, postgres_url=servers.postgres_url, redis_streams_url=servers.redis_url)
    manager = ServiceManager(config)
    endpoints = await manager.start()
    assert endpoints.postgres_mode == endpoints.redis_mode == "shared"
    assert endpoints.postgres_url == servers.postgres_url
    assert server_processes(data_dir) == []
    assert not (data_dir / "postgres").exists() and not (data_dir / "redis").exists()
    rows = await manager.status()
    assert [(r.name, r.mode, r.running) for r in rows] == [("postgres", "shared", True), ("redis", "shared", True)]
    await manager.stop()


async def test_unreachable_url_names_the_variable(data_dir: Path, servers: Endpoints) -> None:
    config = make_config(
        data_dir,
        postgres_url="postgresql://nobody:secret@127.0.0.1:1/none",
        redis_streams_url=servers.redis_url,
    )
    with pytest.raises(ServiceError) as err:
        await ServiceManager(config).start()
    assert "POSTGRES_URL=postgresql://nobody:***@127.0.0.1:1/none" in str(err.value)
    assert "secret" not in str(err.value)
    config = make_config(data_dir, postgres_url=servers.postgres_url, redis_streams_url="redis://127.0.0.1:1")
    with pytest.raises(ServiceError, match="REDIS_STREAMS_URL=redis://127.0.0.1:1"):
        await ServiceManager(config).start()


async def test_status_reports_embedded_state(data_dir: Path) -> None:
    manager = ServiceManager(make_config(data_dir))
    stopped = await manager.status()
    assert [(r.name, r.running) for r in stopped] == [("postgres", False), ("redis", False)]
    await manager.start()
    running = await manager.status()
    assert all(r.running and r.pid for r in running)
    assert "running" in running[0].line() and str(data_dir) in running[0].line()
    await manager.stop()


def test_long_data_dir_gets_short_socket_paths(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    manager = ServiceManager(make_config(deep))
    assert len(str(manager.postgres.socket_dir() / ".s.PGSQL.5432")) < 108
    assert len(str(manager.redis.socket_path())) < 108
