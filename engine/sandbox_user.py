"""The unprivileged account sandboxed code runs as when the app runs as root.

As root, bubblewrap's user namespace would map the sandbox's uid to root
outside, and root's files (``/etc/shadow``, the data dir) would read as
the owner's. So a root app runs bubblewrap privileged and drops to this
system account inside it (``setpriv``); its processes are also what
``RLIMIT_NPROC`` counts.
"""

from __future__ import annotations

import functools
import pwd
import subprocess

SANDBOX_USER = "aiwebtest-sbx"


@functools.cache
def sandbox_ids() -> tuple[int, int]:
    """(uid, gid) of the sandbox account, creating it on first use (root only; blocking)."""
    try:
        entry = pwd.getpwnam(SANDBOX_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SANDBOX_USER],
                       check=True, capture_output=True)
        entry = pwd.getpwnam(SANDBOX_USER)
    return entry.pw_uid, entry.pw_gid
