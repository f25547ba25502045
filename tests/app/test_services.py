import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from engine.errors import ServiceError
from app.services import Endpoints, ServiceManager
from tests.conftest import make_config
from tests.helpers.pg import server_processes, watchdog_processes

pytestmark = pytest.mark.slow

CRASHING_APP = """
import asyncio, os, sys
from app.config import load_config
from app.services import ServiceManager
async def main():
    await ServiceManager(load_config(env_file=None, aiwebtest_data_dir=sys.argv[1])).start()
    print("up", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    os.abort()
asyncio.run(main())
"""


def _start_crashing_app(data_dir: Path) -> subprocess.Popen:
    child = subprocess.Popen(
        [sys.executable, "-c", CRASHING_APP, str(data_dir)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=Path(__file__).parents[2],
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == b"up"
    return child


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
    assert len(watchdog_processes(data_dir)) == 1, "one watchdog per data dir"
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


@pytest.mark.parametrize("death", ["SIGKILL", "abort"])
async def test_servers_die_with_the_app_that_started_them(data_dir: Path, death: str) -> None:
    child = await asyncio.to_thread(_start_crashing_app, data_dir)
    assert len(server_processes(data_dir)) == 2 and len(watchdog_processes(data_dir)) == 1
    if death == "SIGKILL":
        child.send_signal(signal.SIGKILL)
    else:
        assert child.stdin is not None
        child.stdin.write(b"go\n")
        child.stdin.flush()
    code = await asyncio.to_thread(child.wait)
    assert code == -(signal.SIGKILL if death == "SIGKILL" else signal.SIGABRT)
    assert await _wait_no_servers(data_dir, timeout_s=15) == [], "embedded servers outlived their app"
    for _ in range(100):
        if not watchdog_processes(data_dir):
            break
        await asyncio.sleep(0.05)
    assert watchdog_processes(data_dir) == []


async def test_servers_of_a_crashed_app_are_adopted_then_stopped(data_dir: Path) -> None:
    """With the watchdog gone too (killed with the app), the next start adopts what still runs."""
    child = await asyncio.to_thread(_start_crashing_app, data_dir)
    orphans = {p.pid for p in server_processes(data_dir)}
    for watchdog in watchdog_processes(data_dir):
        watchdog.kill()
    child.send_signal(signal.SIGKILL)
    child.wait()
    await asyncio.sleep(1.0)
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


def _connect_as(user: str, socket_path: Path) -> str:
    """Fork, become ``user``, connect to a unix socket; the errno name or "connected"."""
    import errno
    import pwd
    import socket

    entry = pwd.getpwnam(user)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: drop to the other user, try, report, leave without cleanup
        os.close(read)
        try:
            os.setgroups([])
            os.setgid(entry.pw_gid)
            os.setuid(entry.pw_uid)
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.connect(str(socket_path))
            verdict = "connected"
        except OSError as exc:
            verdict = errno.errorcode.get(exc.errno or 0, str(exc))
        os.write(write, verdict.encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as pipe:
        return pipe.read()


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to another local user needs root (CI runs as root)")
async def test_another_local_user_cannot_reach_either_server(data_dir: Path) -> None:
    manager = ServiceManager(make_config(data_dir))
    await manager.start()
    try:
        pg_socket = manager.postgres.socket_dir() / ".s.PGSQL.5432"
        redis_socket = manager.redis.socket_path()
        assert pg_socket.exists() and redis_socket.exists()
        assert _connect_as("nobody", pg_socket) == "EACCES"
        assert _connect_as("nobody", redis_socket) == "EACCES"
        # The server's own user (root here) can connect, so the refusal above was about who asked.
        assert _connect_as("root", redis_socket) == "connected"
    finally:
        await manager.stop()


async def test_servers_need_their_passwords(data_dir: Path) -> None:
    import asyncpg
    import redis.asyncio as aioredis

    from tests.helpers.pg import without_password

    manager = ServiceManager(make_config(data_dir))
    endpoints = await manager.start()
    try:
        with pytest.raises(asyncpg.InvalidPasswordError):
            await asyncpg.connect(without_password(endpoints.postgres_url))
        with pytest.raises(asyncpg.InvalidPasswordError):
            await asyncpg.connect(endpoints.postgres_url.replace(manager.postgres.password, "guess"))
        anonymous = aioredis.from_url(without_password(endpoints.redis_url))
        with pytest.raises(aioredis.RedisError, match="(?i)authenticat"):
            await anonymous.ping()
        await anonymous.aclose()
        for secret in (manager.postgres.password_file, manager.redis.password_file, manager.redis.conf_file):
            assert secret.stat().st_mode & 0o077 == 0, f"{secret} is readable by others"
        assert manager.postgres.password not in " ".join(row.line() for row in await manager.status())
    finally:
        await manager.stop()


async def test_a_trusting_cluster_is_switched_to_passwords(data_dir: Path) -> None:
    """Clusters made by older versions trusted every local connection."""
    import asyncpg

    from tests.helpers.pg import without_password

    manager = ServiceManager(make_config(data_dir))
    endpoints = await manager.start()
    hba = manager.postgres.pgdata / "pg_hba.conf"
    hba.write_text("local all all trust\n")
    conn = await asyncpg.connect(endpoints.postgres_url)
    await conn.execute("SELECT pg_reload_conf()")
    await conn.close()
    await asyncio.sleep(0.3)
    await (await asyncpg.connect(without_password(endpoints.postgres_url))).close()  # trusted now
    again = ServiceManager(make_config(data_dir))
    await again.start()
    try:
        await asyncio.sleep(0.3)
        with pytest.raises(asyncpg.InvalidPasswordError):
            await asyncpg.connect(without_password(endpoints.postgres_url))
        await (await asyncpg.connect(endpoints.postgres_url)).close()
        assert "trust" not in hba.read_text().replace("trusted", "")
    finally:
        await again.stop()
        await manager.stop()


async def test_status_says_how_to_connect_by_hand(data_dir: Path) -> None:
    manager = ServiceManager(make_config(data_dir))
    hints = manager.connect_hints()
    assert any("psql" in h and str(manager.postgres.password_file) in h for h in hints)
    assert any("redis-cli" in h and str(manager.redis.password_file) in h for h in hints)
    assert manager.postgres.password not in " ".join(hints)


def test_a_reused_pid_is_not_taken_for_a_live_user(tmp_path) -> None:
    """pid_max is 32,768 here: a dead user's pid can belong to a stranger within one suite run."""
    import os

    from app.service_users import live_users, process_started_at

    users = tmp_path / "users"
    users.mkdir()
    (users / f"{os.getpid()}.mine").write_text(str(process_started_at(os.getpid())))
    (users / f"{os.getpid()}.reused").write_text(str(process_started_at(os.getpid()) - 3600))
    (users / f"{os.getpid()}.old-format").write_text("")
    assert live_users(users) == [os.getpid(), os.getpid()]
    assert sorted(p.name.split(".")[1] for p in users.iterdir()) == ["mine", "old-format"]
