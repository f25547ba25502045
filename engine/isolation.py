"""Whether untrusted code can be isolated on this machine, and how.

Checked once per process by running ``bwrap`` for real (a binary that
exists can still fail: no user namespaces, a seccomp policy, a container
without the needed privileges). The answer is shown in the health view,
the Generate panel and ``aiwebtest services status``; without it the
engine refuses to run a repository's code unless the user turned on "run
without isolation" (``execution_settings.allow_unisolated``).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from dataclasses import dataclass

from engine.cgroup_limits import cgroup_mode
from engine.sandbox_user import SANDBOX_USER

BWRAP_PACKAGE = "bubblewrap"


@dataclass(frozen=True)
class Isolation:
    available: bool
    bwrap: str | None
    detail: str  # how code is isolated, or why it cannot be
    memory: str  # how memory and processes are capped

    def summary(self) -> str:
        if not self.available:
            return f"not isolated: {self.detail}"
        return f"bubblewrap ({self.detail}); limits: {self.memory}"


@functools.cache
def probe() -> Isolation:
    """Run ``bwrap`` once with the namespaces we use. Blocking (~20 ms): call from a thread."""
    memory = cgroup_mode() or "rlimits (address space or data size, processes, file size)"
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return Isolation(False, None, f"bwrap is not installed (Debian/Ubuntu package {BWRAP_PACKAGE}: "
                                      f"apt-get install {BWRAP_PACKAGE})", memory)
    root = os.geteuid() == 0
    argv = [bwrap, "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--unshare-pid",
            "--unshare-net", "--unshare-ipc", "--die-with-parent", "--new-session"]
    if not root:
        argv.append("--unshare-user")
    argv.append("true")
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False, env={"PATH": "/usr/bin:/bin"})
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Isolation(False, bwrap, f"bwrap does not run: {exc}", memory)
    if done.returncode != 0:
        why = done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        hint = "" if root else " (user namespaces may be disabled: sysctl kernel.unprivileged_userns_clone=1)"
        return Isolation(False, bwrap, f"bwrap fails here: {why[0]}{hint}", memory)
    who = f"as user {SANDBOX_USER}" if root else "in a user namespace"
    return Isolation(True, bwrap, f"pid, network and mount namespaces, {who}", memory)
