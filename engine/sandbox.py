"""Runs untrusted commands inside bubblewrap, with time, memory, process and file caps.

Everything we run from a user's repository (its tests, the tests we
generate, Pynguin importing its modules, installing its dependencies) is
code nobody vetted. Each command runs in ``bwrap``:

* its own pid namespace: when the command ends or is killed, every
  process it started (``setsid`` or not) goes with it;
* no network (``SandboxLimits.network`` opens it for browser tests and for
  installing from the package index), so neither the API port nor the
  embedded servers' sockets (which are not mounted either) can be reached;
* a filesystem with only the system (``/usr``, ``/etc``) and the given
  interpreters and paths read-only, the scratch dir writable and a private
  ``/tmp``: nothing of the user's home, the data dir or our sockets; its
  own ``/proc``, so no ``/proc/<our pid>/environ``;
* an unprivileged uid: the user's own in a user namespace, or
  ``aiwebtest-sbx`` when the app runs as root (``engine/sandbox_user.py``);
* caps: a memory and pids cgroup where we may make one
  (``engine/cgroup_limits.py``), and always rlimits set by a tiny launcher
  inside the sandbox: ``RLIMIT_AS`` (a shared mapping counts), or
  ``RLIMIT_DATA`` for browser runs, because Chromium reserves gigabytes of
  address space it never touches; ``RLIMIT_NPROC`` (counted per user
  namespace on Linux >= 5.14) and ``RLIMIT_FSIZE``;
* the environment is built from an allow-list, never copied from ours;
* stdout and stderr are read as they come and capped.

Without bubblewrap the engine refuses, unless the user allowed running
without isolation; then only the environment, rlimits and process-group
kill apply, as before.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from engine import child_process, isolation, sandbox_snapshot
from engine.cgroup_limits import RunCgroup, make_run_cgroup
from engine.errors import AppError
from engine.sandbox_user import sandbox_ids

OUTPUT_CAP_BYTES = 256 * 1024
SANDBOX_NICENESS = 10  # the repository's code runs below the app's own priority (_niced)
# Variables a test may inherit from us; everything else is dropped.
_PASS_THROUGH = ("PATH", "LANG", "LC_ALL", "TZ", "SYSTEMROOT")

# Runs inside the sandbox (``python -I -S``: no site, no .pth files of any
# environment): set the caps, then become the command.
_LIMITER = (
    "import json, os, resource, sys\n"
    "for name, value in json.loads(sys.argv[1]).items():\n"
    "    resource.setrlimit(getattr(resource, name), (value, value))\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n"
)
# Runs outside, as root, only when a cgroup was made: join it, then exec bwrap.
_JOINER = (
    "import os, sys\n"
    "n = int(sys.argv[1])\n"
    "for f in sys.argv[2:2 + n]:\n"
    "    open(f, 'w').write(str(os.getpid()))\n"
    "os.execvp(sys.argv[2 + n], sys.argv[2 + n:])\n"
)


_TMPFS = ("/dev/shm", "/tmp", "/var/tmp")


class SandboxUnavailable(AppError):
    """Untrusted code cannot be isolated here and the user has not allowed running it without."""


@dataclass(frozen=True)
class SandboxLimits:
    timeout_s: float
    memory_mb: int
    max_processes: int = 256
    max_file_mb: int = 1024
    network: bool = False  # browser tests and package installs only
    browser: bool = False  # Chromium: cap data size, not address space


@dataclass(frozen=True)
class SandboxResult:
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool
    duration_s: float
    truncated: bool
    killed_for_memory: bool = False
    isolated: bool = True

    @property
    def out_of_memory(self) -> bool:
        return self.killed_for_memory or "MemoryError" in self.stdout or "MemoryError" in self.stderr


def clean_env(scratch: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The whole environment a sandboxed command sees."""
    env = {k: os.environ[k] for k in _PASS_THROUGH if k in os.environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update(
        HOME=str(scratch),
        TMPDIR="/tmp",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        PYTHONNOUSERSITE="1",
    )
    if extra:
        env.update(extra)
    return env


def python_roots(python: str | Path) -> list[Path]:
    """The folders an interpreter needs to run: its venv (if any) and its base installation."""
    path = Path(python)
    if not path.is_absolute():
        found = shutil.which(str(path))
        path = Path(found) if found else path
    roots: list[Path] = []
    venv = path.parent.parent
    if (venv / "pyvenv.cfg").exists():
        roots.append(venv)
        # A venv made from another venv's python points at it; follow the chain.
        for line in (venv / "pyvenv.cfg").read_text(errors="replace").splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "home" and value.strip():
                roots.extend(python_roots(Path(value.strip()) / "python3"))
    real = path.resolve()
    base = real.parent.parent
    if base not in roots and not _under_system(base):
        roots.append(base)
    return roots


def _under_system(path: Path) -> bool:
    return path == Path("/") or any(path == Path(p) or Path(p) in path.parents for p in ("/usr", "/bin", "/lib"))


async def run_sandboxed(
    argv: Sequence[str],
    *,
    python: str,
    cwd: Path,
    limits: SandboxLimits,
    env: Mapping[str, str],
    readable: Sequence[Path] = (),
    writable: Sequence[Path] = (),
    output_cap: int = OUTPUT_CAP_BYTES,
    allow_unisolated: bool = False,
) -> SandboxResult:
    """Run ``argv`` in the sandbox; ``cwd`` and ``writable`` are its only writable folders.

    ``python`` runs the limiter (any CPython has ``resource``); its folders
    and ``argv[0]``'s interpreter folders are mounted read-only with
    ``readable``.
    """
    found = isolation.known() or await asyncio.to_thread(isolation.probe)
    rlimits = _rlimits(limits)
    cgroup: RunCgroup | None = None
    if not found.available and not allow_unisolated:
        raise SandboxUnavailable(
            f"Refusing to run the repository's code without isolation: {found.detail}. "
            "Install it, or set allow_unisolated to true in Settings (execution_settings) to run it anyway."
        )
    if not found.available:
        command = [python, "-I", "-S", "-c", _LIMITER, json.dumps(rlimits), *argv]
        return await _run(command, cwd, limits, env, output_cap, None, isolated=False)
    cgroup = await asyncio.to_thread(make_run_cgroup, limits.memory_mb, limits.max_processes)
    try:
        command = await asyncio.to_thread(_bwrap_command, found.bwrap or "bwrap", argv, python, cwd,
                                          limits, env, readable, writable, rlimits)
        if cgroup is not None:
            command = [_outer_python(), "-I", "-S", "-c", _JOINER, str(len(cgroup.procs_files)),
                       *cgroup.procs_files, *command]
        return await _run(command, cwd, limits, env, output_cap, cgroup, isolated=True)
    finally:
        if cgroup is not None:
            # Shielded: a cancelled run must still leave no cgroup (and no process in it) behind.
            await asyncio.shield(asyncio.to_thread(cgroup.remove))


def _niced(command: list[str]) -> list[str]:
    """``command`` at a lower CPU priority (``nice -n 10``): on 2 cores with two generations in flight
    the window's loop waited for the CPU (issue 28). Idle, a niced run loses nothing; children inherit it."""
    nice = shutil.which("nice")
    return [nice, "-n", str(SANDBOX_NICENESS), *command] if nice else command


def _rlimits(limits: SandboxLimits) -> dict[str, int]:
    caps: dict[str, int] = {"RLIMIT_NPROC": limits.max_processes,
                            "RLIMIT_FSIZE": limits.max_file_mb * 1024 * 1024, "RLIMIT_CORE": 0}
    if limits.memory_mb:
        caps["RLIMIT_DATA" if limits.browser else "RLIMIT_AS"] = limits.memory_mb * 1024 * 1024
    return caps


def _outer_python() -> str:
    return "python3" if getattr(sys, "frozen", False) else sys.executable


def _bwrap_command(bwrap: str, argv: Sequence[str], python: str, cwd: Path, limits: SandboxLimits,
                   env: Mapping[str, str], readable: Sequence[Path], writable: Sequence[Path],
                   rlimits: dict[str, int]) -> list[str]:
    """The bwrap command line (blocking: stats paths, may create the sandbox account)."""
    root = os.geteuid() == 0
    args = [bwrap, "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session", "--hostname", "sandbox"]
    if not root:
        args.append("--unshare-user")
    if not limits.network:
        args.append("--unshare-net")
    args += ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    tmp_size = str(max(limits.memory_mb, 256) * 1024 * 1024)  # tmpfs pages are memory
    args += ["--proc", "/proc", "--dev", "/dev"]
    for tmp in _TMPFS:
        args += ["--perms", "1777", "--size", tmp_size, "--tmpfs", tmp]
    mounted: set[Path] = set()
    ro: list[Path] = []
    for path in [*python_roots(python), *_argv0_roots(argv), *map(Path, readable)]:
        real = Path(os.path.realpath(path))
        if real not in mounted and real.exists() and not _under_system(real):
            mounted.add(real)
            ro.append(real)
    # As root, a folder the sandbox account cannot read is mounted from a snapshot it can (at the same path).
    # Only the given folders: the interpreters' are the app's own, made readable when they were built.
    given = {Path(os.path.realpath(path)) for path in readable}
    sources = {path: _readable_source(path) for path in ro if path in given} if root else {}
    rw = [Path(os.path.realpath(cwd)), *(Path(os.path.realpath(w)) for w in writable)]
    # bwrap makes missing parents 0700 (root's): the sandbox account could not walk them.
    parents = {parent for path in [*ro, *rw] for parent in path.parents
               if parent != Path("/") and not _under_system(parent) and str(parent) not in _TMPFS}
    for parent in sorted(parents, key=lambda p: len(p.parts)):
        args += ["--perms", "0755", "--dir", str(parent)]
    # Outer folders first, so a mount inside another lands on top of it.
    binds = [*(("--ro-bind", path) for path in ro), *(("--bind", path) for path in rw)]
    for flag, path in sorted(binds, key=lambda bind: len(bind[1].parts)):
        args += [flag, str(sources.get(path, path)), str(path)]
    args += ["--chdir", str(Path(os.path.realpath(cwd)))]
    # Mounts are made at real paths, so name the programs by theirs (their folder resolved,
    # not the file: a venv's python must keep its venv's path).
    argv = [_real_folder(argv[0]), *argv[1:]] if argv and os.path.isabs(argv[0]) else list(argv)
    inner = [_real_folder(python), "-I", "-S", "-c", _LIMITER, json.dumps(rlimits), *argv]
    if root:
        uid, gid = sandbox_ids()
        for path in rw:
            _give(path, uid, gid)
        inner = ["/usr/bin/setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups",
                 "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--", *inner]
    return [*args, "--", *inner]


def _readable_source(path: Path) -> Path:
    """What to mount at ``path`` as root: itself, or its snapshot when the sandbox account cannot read it all.

    A repository in an owner-only folder was refused with "chmod -R o+rX" (issue 26); the
    snapshot (``engine/sandbox_snapshot.py``) is readable by the sandbox account's group only.
    """
    if not path.is_dir() or sandbox_snapshot.open_to_others(path):
        return path
    return sandbox_snapshot.snapshot_for(path, sandbox_ids()[1])


def _real_folder(program: str) -> str:
    if not os.path.isabs(program):
        return program
    return os.path.join(os.path.realpath(os.path.dirname(program)), os.path.basename(program))


def _argv0_roots(argv: Sequence[str]) -> list[Path]:
    if not argv or not Path(argv[0]).is_absolute() or not Path(argv[0]).name.startswith("python"):
        return []
    return python_roots(argv[0])


def _give(path: Path, uid: int, gid: int) -> None:
    """Hand a writable folder to the sandbox account (we stay able to read it: we are root).

    A folder it owns already (the uv cache, from the last build) is not walked again.
    """
    if path.stat().st_uid == uid:
        return
    for dirpath, dirnames, filenames in os.walk(path):
        os.chown(dirpath, uid, gid)
        for name in [*dirnames, *filenames]:
            try:
                os.chown(os.path.join(dirpath, name), uid, gid, follow_symlinks=False)
            except OSError:
                pass


async def _run(command: list[str], cwd: Path, limits: SandboxLimits, env: Mapping[str, str], output_cap: int,
               cgroup: RunCgroup | None, *, isolated: bool) -> SandboxResult:
    start = time.perf_counter()
    # Spawned in a thread (engine/child_process.py): forking here held the loop up to ~100 ms (issue 28).
    proc = await child_process.start(_niced(command), cwd=cwd, env=env,
                                     start_new_session=True)  # own group: killable whole
    out_buf = _CappedBuffer(output_cap)
    err_buf = _CappedBuffer(output_cap)
    readers = asyncio.gather(_drain(proc.stdout, out_buf), _drain(proc.stderr, err_buf))
    timed_out = False
    try:
        await asyncio.wait_for(proc.wait(), limits.timeout_s)
    except TimeoutError:
        timed_out = True
        await asyncio.to_thread(kill_tree, proc.pid)
        await proc.wait()
    except asyncio.CancelledError:
        await asyncio.to_thread(kill_tree, proc.pid)
        await proc.wait()
        raise
    finally:
        # Grandchildren may hold the pipes open; don't wait on them forever.
        try:
            await asyncio.wait_for(readers, 2.0)
        except TimeoutError:
            # Off the loop: walking /proc for the descendants held it for 350-575 ms in the soak (issue 28).
            await asyncio.to_thread(kill_tree, proc.pid)
    return SandboxResult(
        returncode=proc.returncode if proc.returncode is not None else -9,
        stdout=out_buf.text(),
        stderr=err_buf.text(),
        timed_out=timed_out,
        duration_s=time.perf_counter() - start,
        truncated=out_buf.truncated or err_buf.truncated,
        killed_for_memory=cgroup is not None and await asyncio.to_thread(cgroup.oom_killed),
        isolated=isolated,
    )


def kill_tree(pid: int) -> None:
    """SIGKILL the process group led by ``pid`` and every descendant."""
    try:
        descendants = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        descendants = []
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for child in descendants:
        try:
            child.kill()
        except psutil.Error:
            pass


class _CappedBuffer:
    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.parts: list[bytes] = []
        self.size = 0
        self.truncated = False

    def add(self, chunk: bytes) -> None:
        room = self.cap - self.size
        if room <= 0:
            self.truncated = True
            return
        if len(chunk) > room:
            chunk = chunk[:room]
            self.truncated = True
        self.parts.append(chunk)
        self.size += len(chunk)

    def text(self) -> str:
        text = b"".join(self.parts).decode(errors="replace")
        return text + ("\n[output truncated]" if self.truncated else "")


async def _drain(stream: asyncio.StreamReader | None, sink: _CappedBuffer) -> None:
    if stream is None:
        return
    while chunk := await stream.read(65536):
        sink.add(chunk)


def default_python() -> str:
    """Our own interpreter when running from source, else ``python3`` on PATH."""
    if getattr(sys, "frozen", False):
        return "python3"
    return sys.executable

