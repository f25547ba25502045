"""Where the app's log goes: a rotating file in the platform's user log dir, and stderr.

A GUI started from a launcher has no terminal, so stderr alone loses
everything (issue 13). Every command (GUI, ``serve``, ``worker``,
``generate``) writes ``aiwebtest.log`` under ``platformdirs.user_log_dir``
(``~/.local/state/aiwebtest/log`` on Linux), rotated at 5 MB with 5 old
files kept. Records are handed to a thread through a queue
(``QueueHandler``/``QueueListener``), so a slow disk never holds the event
loop.

The embedded servers' own logs are rotated too: Redis reopens its log file
for every line, so renaming it is enough (``rotate``); PostgreSQL writes
through its logging collector into a week of daily files it truncates
itself (``app/embedded_postgres.py``).
"""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import os
import queue
import sys
from pathlib import Path

import platformdirs

from app.paths import APP_NAME

LOG_FILE_NAME = "aiwebtest.log"
MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 5
SERVER_LOGS_KEPT = 3
FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"

_listener: logging.handlers.QueueListener | None = None
_queue_handler: logging.Handler | None = None
_listener_pid = 0  # a forked child has the listener object but not its thread: it must not join it


def log_dir() -> Path:
    """``AIWEBTEST_LOG_DIR`` if set, else the platform's user log dir."""
    override = os.environ.get("AIWEBTEST_LOG_DIR")
    return Path(override) if override else Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def log_file() -> Path:
    return log_dir() / LOG_FILE_NAME


def setup_logging(*, verbose: bool = False) -> Path | None:
    """INFO and up to the file, WARNING and up (INFO with ``verbose``) to stderr.

    Returns the log file, or None when it cannot be written (a read-only home): the app
    then runs on stderr alone and says so once, rather than refusing to start.
    """
    global _listener
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.INFO if verbose else logging.WARNING)
    console.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handlers: list[logging.Handler] = [console]
    path: Path | None = log_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        to_file = logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS,
                                                       encoding="utf-8", delay=True)
        to_file.setFormatter(logging.Formatter(FORMAT))
        to_file.setLevel(logging.INFO)
        handlers.append(to_file)
    except OSError as exc:
        print(f"aiwebtest: cannot write the log file {path} ({exc.strerror}); logging to stderr only",
              file=sys.stderr)
        path = None
    stop_logging()
    global _queue_handler
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    _queue_handler = logging.handlers.QueueHandler(records)
    root.addHandler(_queue_handler)
    global _listener_pid
    _listener = logging.handlers.QueueListener(records, *handlers, respect_handler_level=True)
    _listener.start()
    _listener_pid = os.getpid()
    atexit.register(stop_logging)
    return path


def stop_logging() -> None:
    """Flush what is queued and close the file (at exit, or before setting up again)."""
    global _listener, _queue_handler
    if _queue_handler is not None:
        logging.getLogger().removeHandler(_queue_handler)
        _queue_handler = None
    if _listener is not None and _listener_pid != os.getpid():
        # Forked (the frozen build's services watchdog detaches by fork): the thread is the parent's;
        # joining it here would wait for ever, as a watchdog left running by the bundle once did.
        _listener = None
        return
    if _listener is not None:
        _listener.stop()
        for handler in _listener.handlers:
            handler.close()
        _listener = None


def rotate(path: Path, *, max_bytes: int = MAX_BYTES, keep: int = BACKUPS) -> bool:
    """Rename ``path`` to ``path.1`` (and ``.1`` to ``.2``…, dropping the oldest) once it is over
    ``max_bytes``. For writers that reopen the file by name (Redis); True if it rotated."""
    try:
        if path.stat().st_size <= max_bytes:
            return False
    except FileNotFoundError:
        return False
    path.with_name(f"{path.name}.{keep}").unlink(missing_ok=True)
    for n in range(keep - 1, 0, -1):
        older = path.with_name(f"{path.name}.{n}")
        if older.exists():
            older.rename(path.with_name(f"{path.name}.{n + 1}"))
    path.rename(path.with_name(f"{path.name}.1"))
    return True
