"""A copy of a private folder that the sandbox account can read, for an app running as root.

As root the sandbox runs repository code as ``aiwebtest-sbx``
(``engine/sandbox_user.py``). A repository in a folder only its owner can
read (any ``mktemp -d``, a working copy under ``/root``) was refused with
"chmod -R o+rX": the user was asked to open their folder to every local
account (issue 26). Instead the sandbox mounts a snapshot at the
repository's own path, so every path inside the sandbox, in the tests and
in the result is the user's folder:

* the snapshot is owned by root, group ``aiwebtest-sbx``, folders 0750 and
  files 0640 (0750 where the owner could execute): the sandbox account reads
  it, no other account can, and nothing readable by others is ever written;
* it is refreshed before each run, file by file (size, mtime and mode
  against a manifest kept beside it, outside what the sandbox sees), so a
  repository edited between runs is seen as it is now and an unchanged one
  costs a walk of ``lstat`` calls;
* virtual environments and caches (``NOT_COPIED``) are left out;
* symlinks are copied as links, never followed (a repository's link to
  ``/etc/shadow`` stays a link the sandbox account cannot read through);
  sockets, fifos and devices are left out;
* each process has its own snapshot of a folder, removed when it exits;
  one left by a killed process holds nothing another account can read,
  and the next process to make a snapshot removes it.

All functions here block (they walk and copy): call them off the event loop.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

# Never run by the app (a repository's own .venv is not used; caches are rebuilt): copying a 500 MB .venv
# before the first run bought nothing.
NOT_COPIED = frozenset({".venv", "venv", ".tox", ".nox", "node_modules", "__pycache__", ".mypy_cache",
                        ".pytest_cache", ".ruff_cache"})
_OTHERS_READ = stat.S_IROTH
_OTHERS_ENTER = stat.S_IROTH | stat.S_IXOTH
_made: set[Path] = set()
_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


def snapshots_root() -> Path:
    """Where snapshots live: a root-only folder in the temporary directory (0700)."""
    root = Path(tempfile.gettempdir()) / "aiwebtest-snapshots"
    root.mkdir(mode=0o700, exist_ok=True)
    os.chmod(root, 0o700)
    return root


def _entries(folder: Path) -> dict[str, tuple[str, int, int, int, str]]:
    """Every entry below ``folder``: relative path -> (kind, mode, size, mtime_ns, link target)."""
    found: dict[str, tuple[str, int, int, int, str]] = {}
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = [d for d in dirnames if d not in NOT_COPIED]
        for name in [*dirnames, *filenames]:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, folder)
            try:
                st = os.lstat(full)
            except OSError:
                continue  # gone while we walked
            if stat.S_ISLNK(st.st_mode):
                found[rel] = ("link", 0, 0, 0, os.readlink(full))
            elif stat.S_ISDIR(st.st_mode):
                found[rel] = ("dir", stat.S_IMODE(st.st_mode), 0, 0, "")
            elif stat.S_ISREG(st.st_mode):
                found[rel] = ("file", stat.S_IMODE(st.st_mode), st.st_size, st.st_mtime_ns, "")
    return found


def open_to_others(folder: Path) -> bool:
    """Whether any account can read ``folder`` (then it is mounted as it is).

    The folder and its own entries are looked at, not the whole tree: this runs before every
    sandboxed run, and walking a repository with a ``.git`` and a ``.venv`` of 50,000 files each
    time cost more than the run. A private folder (the case met: ``mktemp -d``, ``/root``) or a
    private file or folder at its top is caught; one buried deeper reads as it did before.
    """
    if os.stat(folder).st_mode & _OTHERS_ENTER != _OTHERS_ENTER:
        return False
    with os.scandir(folder) as entries:
        for entry in entries:
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError:
                continue
            if stat.S_ISDIR(mode) and mode & _OTHERS_ENTER != _OTHERS_ENTER:
                return False
            if stat.S_ISREG(mode) and not mode & _OTHERS_READ:
                return False
    return True


def private_note(folder: Path) -> str | None:
    """What to tell the user once per request when the sandbox will read a snapshot of ``folder``, or None."""
    if os.geteuid() != 0 or not folder.is_dir() or open_to_others(folder):
        return None
    return (f"{folder} is readable by its owner only: the sandbox, which runs repository code as the "
            "unprivileged account aiwebtest-sbx, reads a private copy (readable by that account only, refreshed "
            "before each run, removed when the app exits). Your folder is not changed.")


def _lock_for(path: Path) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(path, threading.Lock())


@contextlib.contextmanager
def _held(snapshot: Path) -> Iterator[None]:
    """One refresh at a time, across this process's threads and other processes (workers) alike."""
    lock_fd = os.open(snapshot.with_suffix(".lock"), os.O_WRONLY | os.O_CREAT, 0o600)
    with _lock_for(snapshot), os.fdopen(lock_fd, "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def snapshot_for(folder: Path, gid: int) -> Path:
    """The snapshot of ``folder`` readable by group ``gid`` only, refreshed to match it now.

    One per process: a worker's run must not lose its files because the window that shares the
    machine exited and removed its own snapshot of the same folder.
    """
    folder = Path(os.path.realpath(folder))
    key = f"{hashlib.sha256(str(folder).encode()).hexdigest()[:16]}-{os.getpid()}"
    snapshot = snapshots_root() / key
    if not _made:
        _remove_orphans()
    with _held(snapshot):
        _refresh(folder, snapshot, gid)
    _made.add(snapshot)
    return snapshot


def _remove_orphans() -> None:
    """Snapshots of processes that are gone (killed: no exit handler ran), removed once per process."""
    for entry in snapshots_root().iterdir():
        pid = entry.name.split(".", 1)[0].rpartition("-")[2]
        if pid.isdigit() and not _alive(int(pid)):
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    entry.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _refresh(folder: Path, snapshot: Path, gid: int) -> None:
    manifest_path = snapshot.with_suffix(".json")
    try:
        known = {rel: tuple(entry) for rel, entry in json.loads(manifest_path.read_text()).items()}
    except (OSError, ValueError, AttributeError):
        known = {}
        shutil.rmtree(snapshot, ignore_errors=True)
    current = _entries(folder)
    _own(snapshot, gid, 0o750, make_dir=True)
    for rel in sorted(set(known) - set(current), key=len, reverse=True):
        target = snapshot / rel
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
    for rel, entry in sorted(current.items(), key=lambda item: item[0].count(os.sep)):
        if known.get(rel) == entry and os.path.lexists(snapshot / rel):
            continue
        kind, mode, _size, _mtime, link = entry
        target = snapshot / rel
        if kind == "dir":
            if target.is_symlink() or (target.exists() and not target.is_dir()):
                target.unlink()
            _own(target, gid, 0o750, make_dir=True)
        elif kind == "link":
            _replace_with_link(target, link)
        else:
            _copy(folder / rel, target, gid, 0o750 if mode & stat.S_IXUSR else 0o640)
    fd = os.open(manifest_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as manifest:
        json.dump(current, manifest)


def _own(path: Path, gid: int, mode: int, *, make_dir: bool = False) -> None:
    if make_dir:
        path.mkdir(mode=mode, exist_ok=True)
    os.chown(path, 0, gid, follow_symlinks=False)
    os.chmod(path, mode)


def _replace_with_link(target: Path, link: str) -> None:
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    with contextlib.suppress(FileNotFoundError):
        target.unlink()
    os.symlink(link, target)


def _copy(source: Path, target: Path, gid: int, mode: int) -> None:
    """Copy a regular file by its descriptor, opened without following a link swapped in meanwhile."""
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return  # changed into a link, a fifo or nothing since the walk: left out
    with os.fdopen(fd, "rb") as src:
        if not stat.S_ISREG(os.fstat(src.fileno()).st_mode):
            return
        partial = target.with_name(f".{target.name}.aiwebtest-partial")
        with open(partial, "wb") as dst:
            os.fchown(dst.fileno(), 0, gid)
            os.fchmod(dst.fileno(), mode)
            shutil.copyfileobj(src, dst, 1024 * 1024)
    os.replace(partial, target)


def remove_made() -> None:
    """Remove every snapshot this process made (at exit; also for tests)."""
    for snapshot in list(_made):
        shutil.rmtree(snapshot, ignore_errors=True)
        for suffix in (".json", ".lock"):
            with contextlib.suppress(FileNotFoundError):
                snapshot.with_suffix(suffix).unlink()
        _made.discard(snapshot)


atexit.register(remove_made)
