"""Search's "this raised" tests, as a person writes them: ``with pytest.raises(TypeError):``.

Pynguin marks a test whose last call raised with a bare ``@pytest.mark.xfail(strict=True)``.
Kept as it is, such a test reads as "expected to fail somehow", keeps its ``var_N``
names (distillation leaves a test that does not pass as generated alone), and a
file with one went back to its generated form on the Phase 2 route (issue 25). Run
once without the marks, each such test fails with the exception it raises; that
exception is written in.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from agents.generation.tidy import exception_of, expect_raises, unmark_xfails
from agents.keep_per_test import outcome_key
from agents.phase2_client import Phase2


async def with_expected_raises(phase2: Phase2, code: str, repo: Path, target: str
                               ) -> tuple[str, dict[str, Any], dict[str, str]]:
    """(code with each marked test that raised rewritten to ``pytest.raises``, the run of the unmarked code,
    {test: exception}). One run; the caller reruns the rewritten code if it needs that run's figures."""
    unmarked, marked = await asyncio.to_thread(unmark_xfails, code)
    run = await phase2.execute(unmarked, repo, [target])
    raised = {outcome_key(o): kind for o in run.get("tests") or []
              if o["outcome"] == "failed" and outcome_key(o) in marked
              and (kind := exception_of(o.get("message") or "")) is not None}
    if raised:
        unmarked = await asyncio.to_thread(expect_raises, unmarked, raised)
    return unmarked, run, raised
