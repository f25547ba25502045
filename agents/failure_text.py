"""What a request's failures say to a person: one line to act on, and which failures repeat.

A round that fails the same way as an earlier one (the same shape, numbers aside) is not worth another
round; the request that kept nothing ends with the one failure a person can act on.
"""

from __future__ import annotations

import re


def same_failure(reason: str, earlier: list[str]) -> bool:
    """The same failure as before, ignoring numbers (seeds, times, line numbers)."""
    shape = re.sub(r"\d+", "#", reason)
    return any(re.sub(r"\d+", "#", e) == shape for e in earlier)


def actionable(failures: list[str]) -> str:
    """One line a person can act on, from what went wrong (a missing module first)."""
    for failure in reversed(failures):
        missing = re.search(r"No module named '?([\w.]+)'?", failure)
        if missing:
            return (f"No module named {missing.group(1)}: declare it in the repository's pyproject.toml "
                    "(or requirements.txt) so it is installed for the tests")
    return failures[-1] if failures else "the generators produced nothing"
