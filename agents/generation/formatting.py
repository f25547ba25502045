"""Kept test files in a standard format: ``ruff format`` (Black's style), as a reviewer's own tools write them.

The distilled files are built with ``ast.unparse``: single quotes, long lines, one
formatting of their own. Formatting changes only layout (the formatter keeps the
syntax tree), so it runs after the reruns that verified the file; a file the formatter
refuses or a missing formatter leaves the code as it was. The code is ours, made from
the repository's values: it is parsed here, never run.
"""

from __future__ import annotations

import asyncio
import logging

from ruff.__main__ import find_ruff_bin

from engine import child_process

log = logging.getLogger(__name__)
_TIMEOUT_S = 30


async def formatted(code: str) -> str:
    """``code`` as ``ruff format`` writes it, or unchanged when it cannot be formatted."""
    try:
        proc = await child_process.start(
            [find_ruff_bin(), "format", "--quiet", "--no-cache", "--isolated", "--stdin-filename", "test_generated.py",
             "-"], stdin=child_process.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(code.encode()), _TIMEOUT_S)
    except (OSError, FileNotFoundError, TimeoutError) as exc:
        log.warning("ruff format not run: %s", exc)
        return code
    if proc.returncode != 0:
        log.info("ruff format refused a generated file: %s", err.decode(errors="replace")[:300])
        return code
    return out.decode()
