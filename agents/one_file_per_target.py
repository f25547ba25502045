"""One test file per target, whichever generators kept tests for it (issue 25: layout).

Each generator's kept tests arrive as their own file; a target that two
Pynguin configurations, CrossHair and its docstring examples all reached
came out as four files. They are merged (agents/generation/merge_files.py)
and the merged file is run once in the sandbox: it replaces them only if it
passes and executes every line and branch each of them did. Otherwise they
stay apart, and nothing is lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from agents.coverage_union import still_covers
from agents.generation import module_of
from agents.generation.formatting import formatted
from agents.generation.import_root import named_by_its_package
from agents.generation.merge_files import merge
from agents.generation.one_style import one_style
from agents.keep_per_test import collect_test_keys
from agents.mutation_gate import AS_WRITTEN
from agents.phase2_client import Phase2

Say = Callable[..., Awaitable[None]]


async def one_file_per_target(phase2: Phase2, repository: Path, kept: list[dict[str, Any]], say: Say
                              ) -> list[dict[str, Any]]:
    """``kept`` with each target's files merged into its first, where the merged file holds; in kept order."""
    by_target: dict[str, list[dict[str, Any]]] = {}
    for k in kept:
        by_target.setdefault(k["target_file"], []).append(k)
    merged_into: dict[int, dict[str, Any] | None] = {}
    for target, files in by_target.items():
        if len(files) < 2 or not all(f.get("_coverage") for f in files):
            continue
        code = await asyncio.to_thread(merge, [f["code"] for f in files])
        if code is None:
            continue
        leaf_is_module = await asyncio.to_thread(named_by_its_package, repository, target)
        code = await formatted(await asyncio.to_thread(one_style, code, module_of(target)[1],
                                                       await _source(repository, target),
                                                       leaf_is_module=leaf_is_module))
        await say(f"{target}: writing the {len(files)} kept files as one, checked by a run…")
        run = await phase2.execute(code, repository, [target])
        if run.get("status") != "success" or not all(still_covers(run.get("coverage"), f["_coverage"]) for f in files):
            await say(f"{target}: the kept files stay apart: as one file they did not pass or covered less")
            continue
        written = await asyncio.to_thread(merge, [f.get(AS_WRITTEN) or f["code"] for f in files])
        one = {**files[0], "code": code, "test_count": len(await asyncio.to_thread(collect_test_keys, code)),
               "origin": "+".join(dict.fromkeys(f["origin"] for f in files)),
               "generator": ", ".join(f["generator"] for f in files),
               "note": "; ".join(f"{f['generator']}: {f['note']}" for f in files), "_coverage": run["coverage"]}
        one.pop(AS_WRITTEN, None)
        if written is not None and written != code:
            one[AS_WRITTEN] = written
        distil = "; ".join(f["distil"] for f in files if f.get("distil"))
        if distil:
            one["distil"] = distil
        merged_into[id(files[0])] = one
        for f in files[1:]:
            merged_into[id(f)] = None
    return [merged_into.get(id(k), k) for k in kept if merged_into.get(id(k), k) is not None]



async def _source(repository: Path, target: str) -> str:
    try:
        return await asyncio.to_thread((repository / target).read_text, "utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
