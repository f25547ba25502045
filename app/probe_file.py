"""``python -m app.probe_file FILE MAX_AGE_S``: exit 0 if FILE was touched in the last MAX_AGE_S seconds.

A Kubernetes exec probe for agent workers (app/worker_probe.py writes the
files). Standard library only, and nothing of the app is imported: it runs
every few seconds in every pod.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path


def check(path: Path, max_age_s: float) -> tuple[bool, str]:
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return False, f"{path} does not exist (not ready, or stopping)"
    if age > max_age_s:
        return False, f"{path} is {age:.0f} s old (more than {max_age_s:g} s)"
    return True, f"{path} is {age:.1f} s old"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m app.probe_file FILE MAX_AGE_S", file=sys.stderr)
        return 2
    try:
        max_age = float(argv[1])
    except ValueError:
        print(f"MAX_AGE_S: expected seconds, got {argv[1]!r}", file=sys.stderr)
        return 2
    ok, why = check(Path(argv[0]), max_age)
    print(why, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
