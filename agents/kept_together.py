"""A whole repository's kept files, run together before they are handed out.

Each module of a whole-repository request is its own evolve step, and each
step checks only its own file (reruns, reversed, each test alone). The user
runs them in one pytest session. Measured on humanize 4.9.0 with 2 and 4
evolution workers (bench/whole_repository.py): every file passed its own
runs, the merged set failed all three runs together. A test can leave state
behind that another module's tests meet (a process-wide locale, a cache, a
module global), and one file's import can change what another imports.

So the merged files run as one suite (engine/pytest_run.py runs a
multi-file text as its files), in order and reversed (files and the tests
in each), side by side; a test failing in either is dropped from its file
and named in the result, and the rest runs again, at most ``ROUNDS`` times.
The measured run in order is also the repository's figure: what the kept
files cover together, over every module, on top of the repository's own
tests (the baseline), replacing the sum of each step's own figure.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from agents.coverage_union import CoverageUnion
from agents.keep_per_test import collect_test_keys, keep_only, outcome_key
from agents.phase2_client import Phase2
from agents.test_order import REVERSED, reordered
from engine import multi_file

ROUNDS = 3
_HELD = ("passed", "xpassed", "xfailed", "skipped")


@dataclass
class Together:
    files: dict[str, str]  # path -> code, the tests that failed together taken out; a file left empty goes
    dropped: list[str] = field(default_factory=list)  # "path::test: why"
    coverage: dict[str, Any] | None = None  # CoverageUnion.to_json() of baseline + the files' run together
    note: str = ""


async def run_together(phase2: Phase2, repository: Path, files: dict[str, str], targets: list[str],
                       baseline: dict[str, Any] | None) -> Together:
    """``files`` checked as one suite (see the module's docstring); the input is not changed."""
    files = dict(files)
    stems = {PurePosixPath(path).name.removesuffix(".py"): path for path in files}
    if len(files) < 2 or len(stems) != len(files):
        return Together(files, note="not run together: fewer than two files, or two with the same name")
    dropped: list[str] = []
    for _ in range(ROUNDS):
        forward = multi_file.join(files)
        backward = multi_file.join({path: await asyncio.to_thread(reordered, code, REVERSED)
                                    for path, code in reversed(list(files.items()))})
        measured, unmeasured = await asyncio.gather(phase2.execute(forward, repository, targets),
                                                    phase2.execute(backward, repository, []))
        bad = {**_failed(measured, stems, "in order"), **_failed(unmeasured, stems, "reversed")}
        if not bad:
            union = await CoverageUnion.sized(repository, targets)
            union.start_from(baseline)
            union.add(measured.get("coverage"))
            return Together(files, dropped, union.to_json(), _note(dropped))
        if "*" in bad:
            why = measured.get("error") or unmeasured.get("error") or "no test ran"
            return Together(files, dropped, note=f"the kept files could not be run together ({why}); each passed "
                                                  "its own checks")
        for (path, key), why in sorted(bad.items()):
            dropped.append(f"{path}::{key}: failed when the kept files ran together ({why}); dropped")
        for path in {path for path, _ in bad}:
            keys = await asyncio.to_thread(collect_test_keys, files[path])
            keep = [k for k in keys if (path, k) not in bad]
            if keep:
                files[path] = await asyncio.to_thread(keep_only, files[path], keep)
            else:
                del files[path]
                stems = {s: p for s, p in stems.items() if p != path}
        if len(files) < 2:
            break
    return Together(files, dropped, note=_note(dropped) + (
        "; still failing together after the rounds allowed" if len(files) >= 2 else ""))


def _failed(run: dict[str, Any], stems: dict[str, str], order: str) -> dict[Any, str]:
    """(path, test key) -> why, for each test that did not hold; {"*": ...} when no test ran at all."""
    outcomes = run.get("tests") or []
    if not outcomes:
        return {"*": "no test ran"}
    bad: dict[Any, str] = {}
    for o in outcomes:
        if o.get("outcome") in _HELD:
            continue
        path = stems.get(str(o.get("classname") or "").partition(".")[0])
        if path is None:
            continue  # not one of ours (a conftest's own test does not happen; a class we cannot place either)
        message = str(o.get("message") or o.get("outcome") or "").splitlines()[0:1]
        bad[(path, outcome_key(o).split("[", 1)[0])] = f"{order}: {message[0][:160] if message else 'failed'}"
    return bad


def _note(dropped: list[str]) -> str:
    if not dropped:
        return "the kept files ran together, in order and reversed: every test passed"
    return f"the kept files ran together, in order and reversed: {len(dropped)} test(s) failed there and were dropped"
