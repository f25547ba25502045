"""Whether untrusted code can be isolated on this machine, and how.

Checked by running ``bwrap`` for real (once per process when it works;
again after ``RETRY_FAILED_S`` when it does not) (a binary that
exists can still fail: no user namespaces, a seccomp policy, a container
without the needed privileges). The answer is shown in the health view,
the Generate panel and ``aiwebtest services status``; without it the
engine refuses to run a repository's code unless the user turned on "run
without isolation" (``execution_settings.allow_unisolated``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
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


RETRY_FAILED_S = 30.0  # a failed probe is run again after this long: bubblewrap installed meanwhile is seen


@dataclass
class _Probed:
    found: Isolation
    at: float


_last: _Probed | None = None


def known() -> Isolation | None:
    """The probe's answer without running anything (no thread, no I/O): an answer that said yes, for the
    process's life; one that said no, for ``RETRY_FAILED_S``. None when ``probe`` must run. Health calls this
    on every request (issue 28: 100 concurrent /api/health calls each queued a thread for the probe)."""
    last = _last
    if last is None or not last.found.available and time.monotonic() - last.at > RETRY_FAILED_S:
        return None
    return last.found


def probe() -> Isolation:
    """``known()``, or run ``bwrap`` with the namespaces we use and remember the answer. Blocking (~20 ms) when
    it runs: call from a thread, or call ``known()`` first."""
    global _last
    found = known()
    if found is None:
        found = _probe()
        _last = _Probed(found, time.monotonic())
    return found


def _probe() -> Isolation:
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
