"""A test file with its tests in another order, and the check that no kept test depends on order or company.

A kept test that passes only after another one (a cache it warmed, a
module global it set) fails when the user runs it alone or pytest's
order changes; issue 27 measured one kept on ``boltons.strutils`` that
failed one rerun in three. Reruns in the order written cannot see that.
So reruns run the file reversed and shuffled (top-level tests and test
classes swap places; everything else stays where it was, since a test may
need a helper defined above it), and ``order_dependent`` also runs each
test alone: in a process of its own, forked once the file is collected.
"""

from __future__ import annotations

import ast
import asyncio
import random

from agents.keep_per_test import _span, collect_test_keys, outcome_key
from agents.phase2_client import Phase2
from engine.python_source import parse_source

REVERSED = -1


def reordered(code: str, seed: int) -> str:
    """``code`` with its top-level tests in another order: reversed for ``REVERSED``, else shuffled by ``seed``."""
    try:
        tree = parse_source(code)
    except SyntaxError:
        return code
    spans = [_span(n) for n in tree.body
             if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test")
             or isinstance(n, ast.ClassDef) and n.name.startswith("Test")]
    if len(spans) < 2:
        return code
    lines = code.splitlines(keepends=True)
    pieces = ["".join(lines[a - 1:b]) for a, b in spans]
    order = list(reversed(pieces)) if seed == REVERSED else random.Random(seed).sample(pieces, len(pieces))
    for (a, b), piece in sorted(zip(spans, order), reverse=True):
        lines[a - 1:b] = [piece if piece.endswith("\n") else piece + "\n"]
    return "".join(lines)


async def order_dependent(phase2: Phase2, code: str, repository, target: str, *, alone: bool = True,
                          parallel: int = 2, shuffles: int = 0) -> list[str]:
    """Tests of ``code`` that fail reversed, shuffled (``shuffles`` seeded orders), or (``alone``) in a file of
    their own; the others passed each way.

    Unmeasured runs (pass or fail only), ``parallel`` at a time; a src layout is measured, its import root
    comes with the target (agents/distil_step.py does the same).
    """
    keys = await asyncio.to_thread(collect_test_keys, code)
    if not keys:
        return []
    files = [await asyncio.to_thread(reordered, code, seed) for seed in (REVERSED, *range(1, shuffles + 1))]
    # Alone: the file once more, each test in a process forked after collection (engine/aiwebtest_plugin.py).
    # It was one run per test, each its own interpreter: 12 s of marshmallow.validate's 70 s wall for 70 tests.
    runs = [(text, False) for text in files] + ([(code, True)] if alone and len(keys) > 1 else [])
    gate = asyncio.Semaphore(parallel)
    measured = [target] if target.startswith("src/") else []

    async def run(text: str, each_alone: bool) -> set[str]:
        async with gate:
            result = await phase2.execute(text, repository, measured, each_alone=each_alone)
        outcomes = result.get("tests") or []
        return {outcome_key(o).split("[", 1)[0] for o in outcomes
                if o.get("outcome") not in ("passed", "xpassed", "xfailed", "skipped")} | (
            set() if outcomes else {"*"})

    failed: set[str] = set()
    for bad, (text, _) in zip(await asyncio.gather(*(run(*r) for r in runs)), runs, strict=True):
        if "*" in bad:  # nothing ran: every test of that file counts as failed there
            bad = set(await asyncio.to_thread(collect_test_keys, text))
        failed |= bad
    return [k for k in keys if k in failed]
