"""Distil a kept test file, keeping only what running it proves.

Every rewrite is checked in the sandbox, never trusted:

1. the file as generated is run once: what it covers (lines and branches,
   per test) is what the distilled file must still cover;
2. its tests are split into units (agents/generation/test_units.py) and
   run once in observe form: each unit's coverage and its calls' values;
   if the split covers less (a call relied on an earlier one's effect), the
   tests are observed whole instead;
3. **slice**: the fewest units that keep the file's coverage, largest gain
   first, and one unit for each behaviour (function and outcome) no kept
   unit shows; the rest repeated what others cover and check. Beside them, one *typical
   call* per public function with values a person would write
   (agents/generation/typical_calls.py), kept when it runs without raising:
   search alone shows only edge cases;
4. **shrink**: a literal over 80 characters is tried empty, then 8, 40, 80
   and 160 characters long (a prefix, as Hypothesis tries
   short prefixes first); the shortest that keeps the unit's coverage and
   outcome wins; one still over 80 says why in its test's docstring;
5. the units are written from their values (agents/generation/distil.py),
   laid out with tables (agents/generation/test_layout.py) and run three
   times (the first measured, the reruns for pass or fail only): a test
   that fails any run, or a file that covers less, falls back to the tests
   as generated.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.generation import module_of
from agents.generation.behaviours import new_behaviours
from agents.generation.distil import (
    SHRINK_FAILED,
    SHRINK_LATE,
    SHRINK_UNDONE,
)
from agents.generation.distilled_file import (
    cut_chains,
    file_header,
    pynguin_harness,
    whole_tests,
    written_file,
)
from agents.generation.formatting import formatted
from agents.generation.import_root import named_by_its_package
from agents.generation.machine_paths import machine_paths, names_a_machine_path
from agents.generation.observe import (
    Observed,
    observe_form,
    read_observations,
    unit_name,
)
from agents.generation.shrink import KINDS
from agents.generation.shrunk_holds import checks_hold, same_errors
from agents.generation.test_layout import Laid
from agents.generation.test_units import TestFile, Unit, parse_file
from agents.generation.typical_in_file import rows_adding, shows, typical_in_file
from agents.generation.unit_slice import Cover, fewest_units
from agents.keep_per_test import IMPORT_KEY
from agents.phase2_client import Phase2
from agents.test_order import REVERSED, reordered

RERUNS = 3
# Runs kept in hand at the due time: the rewritten file's check (one measured run, then the reruns side by side),
# and once more should the first form not hold.
_CHECK_RUNS = 4
# Variants of units in one shrink run (agents/distil_step.py Distiller._shrink): a kind's steps for every unit that
# has that kind of value, side by side; more than this and the steps after wait for the next run.
_TRIAL_UNITS = 240



@dataclass
class DistilResult:
    code: str
    changed: bool
    note: str
    tests_before: int = 0
    tests_after: int = 0
    notes: list[str] = field(default_factory=list)  # literals that stay long, and why
    runs: int = 0
    # The distilled file's own measured run: what it covers, typical calls and their rows included (which may
    # run lines the generated file did not). None when the file was left as generated.
    coverage: dict[str, Any] | None = None


def cover_of(run: dict[str, Any], keys: set[str] | None = None) -> Cover:
    """Lines and branches the run's tests executed (all of them, or those named), as one set."""
    found: set[tuple[str, int | tuple[int, int]]] = set()
    for key, files in (run.get("per_test_coverage") or {}).items():
        if keys is not None and key not in keys and key != IMPORT_KEY:
            continue
        if not isinstance(files, dict):
            continue
        for path, cov in files.items():
            found |= {(str(path), int(line)) for line in cov.get("lines", [])}
            found |= {(str(path), (int(a), int(b))) for a, b in cov.get("branches", [])}
    return frozenset(found)


class Distiller:
    """``due_at`` (``time.time()``; None: no bound): the optional rewrites (the chain cuts, the shrink) are made
    only while the runs they take leave time for the check before it. What is left undone stays as search
    drew it, and a long literal's docstring says the time ran out (agents/wall_budget.py distil_due_at)."""

    def __init__(self, phase2: Phase2, repository: Path, target: str, *, due_at: float | None = None) -> None:
        self.phase2, self.repository, self.target = phase2, repository, target
        self.runs = 0
        self.due_at = due_at
        self._slowest_s = 0.0  # the longest run so far: what the next one is taken to take
        self.late = False  # an optional rewrite was left out for time
        self._measured: dict[str, Any] | None = None  # the last checked rewrite's coverage
        self._at_import: Cover = frozenset()  # what the whole observe run ran outside its tests (import, report)

    async def _run(self, code: str, *, measure: bool = True) -> dict[str, Any]:
        """One sandboxed run; unmeasured (one process instead of three) where only pass or fail matters.

        A src layout is always run measured: its import root comes with the target.
        """
        self.runs += 1
        measured = measure or self.target.startswith("src/")
        started = time.monotonic()
        try:
            return await self.phase2.execute(code, self.repository, [self.target] if measured else [])
        finally:
            self._slowest_s = max(self._slowest_s, time.monotonic() - started)

    def _time_for(self, runs: int) -> bool:
        """Whether ``runs`` more runs, one after another, still leave the check its runs before the due time."""
        if self.due_at is None:
            return True
        if time.time() + (runs + _CHECK_RUNS) * self._slowest_s <= self.due_at:
            return True
        self.late = True
        return False

    async def distil(self, code: str, baseline: dict[str, Any] | None = None, *, slice_units: bool = True,
                     shrink_values: bool = True, optional: frozenset[str] = frozenset()) -> DistilResult:
        """``baseline``: the caller's own measured run of ``code``, if it has one (saves a run).

        ``optional``: tests of ``code`` that passed once but added no coverage (agents/evolution.py keeps the
        fewest tests that hold the coverage). They are not part of what the file must cover (``baseline``
        need not run them), and the slice never takes them; a unit of theirs stays only if it shows a
        behaviour no kept unit shows, and goes (never taking the file back to its generated form) if it fails
        a rerun. The bench's slugify and tomli kept 14 and 28 tests against Pynguin alone's 21 and 54 and
        killed fewer mutants: a test that runs no new line can be the one that notices a wrong one.

        ``slice_units=False`` keeps every unit that passed, ``shrink_values=False`` keeps search's values (the
        other rewrites still run): the forms the mutation gate falls back to, in that order, when the
        distilled tests lost kills (agents/mutation_gate.py).
        """
        parts = await asyncio.to_thread(parse_file, code)
        if parts is None or not parts.units:
            return self._left(code, "left as generated: not a file of plain test functions")
        parts.machine_paths = await asyncio.to_thread(machine_paths, self.repository)
        try:
            parts.module_source = await asyncio.to_thread((self.repository / self.target).read_text, "utf-8")
        except (OSError, UnicodeDecodeError):
            parts.module_source = ""
        before = len({u.source for u in parts.units})
        if baseline is None or not baseline.get("per_test_coverage"):
            baseline = await self._run(code)
        if baseline.get("status") != "success":
            return self._left(code, f"left as generated: it did not pass as generated ({baseline.get('error')})")
        need = cover_of(baseline)
        # What each generated test ran in the file as generated: a unit of a test that ran what a rewrite lost
        # takes its next form (``_verify``), even when the line ran in its company, not in its own observed run.
        tested = {key: cover_of(baseline, {key}) for key in baseline.get("per_test_coverage") or {}}
        typical, rows = await self._typical(parts)
        ours = typical + rows
        units, observed, unit_cover = await self._observe(parts, parts.units + ours, need)
        searched = len(parts.units)
        if units is not None:
            # Calls chained through short literal results become one test each (agents/generation/chain_cut.py);
            # the pieces are observed again, and kept only if together they still cover the file.
            cut = await asyncio.to_thread(cut_chains, units[:searched], observed[:searched])
            if len(cut) > searched and self._time_for(1):
                again = await self._observe(parts, cut + ours, need)
                if again[0] is not None:
                    units, observed, unit_cover = again
                    searched = len(cut)
        # A typical call that raised, or whose record is unreadable, is dropped: it was ours, not search's.
        first_row = searched + len(typical)
        shown = {i for i in range(searched, first_row) if shows(observed[i])}
        row_ids = [i for i in range(first_row, len(units or [])) if shows(observed[i])]
        extra = set(range(searched, len(units or []))) - shown
        if units is None:
            shown, extra, row_ids = set(), set(), []
            whole = whole_tests(code, parts)
            units, observed, unit_cover = await self._observe(parts, whole, need)
            if units is None:
                return self._left(code, "left as generated: its tests depend on each other's effects")
        # Units of the optional tests (a unit keeps its test's name through the split and the chain cuts).
        spare = {i for i, u in enumerate(units) if u.source in optional} - shown - extra
        if slice_units:
            # Set cover and one rewrite per unit to tell behaviours apart: CPU work, off the loop.
            chosen = await asyncio.to_thread(fewest_units, units, observed, unit_cover, need, extra | shown | spare)
            more = await asyncio.to_thread(new_behaviours, parts, units, observed, chosen,
                                           frozenset(i for i in spare if units[i].plain))
            chosen = sorted(set(chosen) | more | shown)
        else:
            chosen = sorted(set(range(len(units))) - extra)
        # A row of a typical call (another literal the code compares a parameter with) stays only when it runs
        # a line or branch nothing chosen runs: arrow's ``format(dt, fmt='MMMM')`` does, a second ``'MM'``-like
        # one would not.
        picked = await asyncio.to_thread(rows_adding, row_ids, unit_cover, chosen)
        shown |= picked
        chosen = sorted(set(chosen) | picked)
        # A test that does not hold goes back to its form before the shrink too: the shrink is judged in observe
        # form, without the generator's own assertions (semver: ``assert v == Version(prerelease='<the long
        # text>')`` failed once the text was cut, and took the whole file back to its generated form).
        unshrunk = (list(units), list(observed))
        if shrink_values:
            # Not the typical calls: their values are the ones a person writes (a year of 2024 is not noise).
            units, observed, unit_cover = await self._shrink(parts, units, observed, unit_cover,
                                                             [i for i in chosen if i not in shown])
        header = file_header(code)
        submodules = (frozenset({module_of(self.target)[1]})
                      if await asyncio.to_thread(named_by_its_package, self.repository, self.target) else frozenset())
        plain: set[int] = set()  # written as generated, before any shrink
        grown: set[int] = set()  # distilled from their values before the shrink
        harness = parts.others
        # First without Pynguin's random-seeding harness (30 lines a reader wades through), if the file has
        # it; then with it; then with the tests that still failed as generated. The reruns decide each step.
        # A shrunk test that fails goes back to its values before the shrink first, and only then as generated.
        # A fourth attempt with the harness only while there is time for it: semver's Pynguin file needed three
        # after the one without (a shrunk float major its generator's own ``== Version(major=505, ...)`` repeats
        # as an int, then a test failing as generated), and went out as generated once for want of it.
        plans = ([False] if any(map(pynguin_harness, harness)) else []) + [True, True, True, True]
        # What each unit ran, alone or in its generated test: who lost coverage is asked of these (``_verify``).
        owners = [c | tested.get(u.source, frozenset()) for u, c in zip(units, unit_cover, strict=True)]
        for attempt, keep_harness in enumerate(plans):
            if attempt == len(plans) - 1 and not self._time_for(2):
                break
            parts.others = harness if keep_harness else [n for n in harness if not pynguin_harness(n)]
            # CPU work on a long file: in a thread, off the loop.
            written = [unshrunk[0][i] if i in grown else u for i, u in enumerate(units)]
            seen = [unshrunk[1][i] if i in grown else o for i, o in enumerate(observed)]
            new_code, laid = await asyncio.to_thread(written_file, parts, header, written, unshrunk[0], seen, chosen,
                                                     frozenset(plain), submodules,
                                                     SHRINK_UNDONE if not shrink_values else
                                                     SHRINK_LATE if self.late else SHRINK_FAILED)
            bad = await self._verify(new_code, laid, need, owners, shown | spare | extra)
            # A test naming where the repository sits here (an input, a generator's own check) fails in any other
            # checkout: it does not hold either (agents/generation/machine_paths.py).
            bad |= {u for t in laid if names_a_machine_path(t.test.code(), parts.machine_paths) for u in t.units}
            if not bad:
                notes = sorted({n for t in laid for n in t.test.notes})
                if self.late:
                    notes.append("some values stay as search drew them: the result was due before shorter ones "
                                 "were tried")
                return DistilResult(await formatted(new_code), True, f"distilled: {len(laid)} tests from {before}, checked by "
                                    f"{RERUNS} runs", before, len(laid), notes, self.runs, self._measured)
            if not keep_harness:
                continue  # perhaps they needed the harness (shuffle() and friends): try again with it first
            # A typical call or an optional unit that did not hold goes; the file's own tests get another form. A
            # unit left out that ran what the file lost joins it (``_verify``).
            chosen = sorted((set(chosen) | bad) - (bad & (shown | spare)))
            shrunk = {i for i in bad - shown - spare - grown - plain if units[i] is not unshrunk[0][i]}
            grown |= shrunk
            plain |= bad - shown - spare - shrunk
        return self._left(code, "left as generated: the distilled tests did not hold on a rerun")

    async def _typical(self, parts: TestFile) -> tuple[list[Unit], list[Unit]]:
        """A typical call of each public function and method, and its rows, in the file's own style
        (agents/generation/typical_in_file.py)."""
        if not parts.module_source:
            return [], []
        leaf_is_module = await asyncio.to_thread(named_by_its_package, self.repository, self.target)
        return await asyncio.to_thread(typical_in_file, parts, module_of(self.target)[1], leaf_is_module)

    def _left(self, code: str, note: str) -> DistilResult:
        return DistilResult(code, False, note, runs=self.runs)

    async def _observe(self, parts: TestFile, units: list[Unit], need: Cover
                       ) -> tuple[list[Unit] | None, list[Observed | None], list[Cover]]:
        run = await self._run(observe_form(parts, units))
        observed = read_observations(run.get("tests") or [], len(units))
        covers = [cover_of(run, {unit_name(i)}) for i in range(len(units))]
        self._at_import = cover_of(run, set())
        if not need <= cover_of(run):
            return None, observed, covers
        return units, observed, covers

    async def _shrink(self, parts: TestFile, units: list[Unit], observed: list[Observed | None],
                      covers: list[Cover], chosen: list[int]
                      ) -> tuple[list[Unit], list[Observed | None], list[Cover]]:
        """Inputs made smaller (agents/generation/shrink.py): per kind, the first step that keeps the unit's
        coverage and outcome wins.

        A kind's steps for every unit that has that kind of value run side by side in one sandboxed run (up to
        ``_TRIAL_UNITS`` variants a run), steps in order: a run is mostly the interpreter's start, and one run
        per step, one after another, was 17 of the 20 s marshmallow's file took to distil, time its search
        could have had."""
        units, observed = list(units), list(observed)
        for kind in KINDS:
            todo = [i for i in chosen if not units[i].plain and observed[i] is not None and kind.has(units[i])]
            steps = list(kind.steps)
            while todo and steps:
                if not self._time_for(1):
                    return units, observed, covers
                batch = steps[:max(1, _TRIAL_UNITS // len(todo))]
                steps = steps[len(batch):]
                variants = [(i, step) for step in batch for i in todo]
                trial = [kind.at(units[i], step) for i, step in variants]
                run = await self._run(observe_form(parts, trial))
                seen = read_observations(run.get("tests") or [], len(trial))
                done: set[int] = set()
                for k, (i, _) in enumerate(variants):
                    got = seen[k]
                    # The unit's own lines: what ran outside any test belongs to the whole run (pytest printing
                    # the validator in another test's failure ran marshmallow's ``__repr__``), and a trial of a few
                    # units lacks it; counted, it refused every shrink of every unit in the file.
                    own = covers[i] - self._at_import
                    if i not in done and got is not None and got.passed and own <= cover_of(run, {unit_name(k)}) \
                            and same_errors(observed[i], got) and checks_hold(observed[i], got, trial[k]):
                        units[i], observed[i] = trial[k], got
                        done.add(i)
                todo = [i for i in todo if i not in done]
        return units, observed, covers

    async def _verify(self, code: str, laid: list[Laid], need: Cover, covers: list[Cover],
                      ours: set[int]) -> set[int]:
        """Units whose tests failed a rerun. When the file as a whole lost coverage: the search's units seen to
        run what it lost, in their observed run or as part of their generated test (``covers``); they take
        their next form (values before the shrink, then as written; one the slice left out joins the file), or
        every unit does when none ran it.
        ``ours``: typical calls and their rows (shown or not) and optional units: none stands in for search's.

        Every unit, at once, sent marshmallow's file back to its unshrunk values (865-character docstrings
        again) for one branch of a cache only a second call with the same arguments takes."""
        everything = {u for t in laid for u in t.units}
        first = await self._run(code)  # measured: the file must cover what it did
        self._measured = first.get("coverage")
        bad = self._failed(first, laid)
        if bad:
            return bad
        lost = need - cover_of(first)
        if lost:
            return {u for u in range(len(covers)) if u not in ours and covers[u] & lost} or everything
        # The reruns only say pass or fail: unmeasured, side by side, reversed and shuffled (agents/test_order.py):
        # three orders, so a test that needs another one to run first does not hold.
        orders = [await asyncio.to_thread(reordered, code, seed) for seed in (REVERSED, *range(1, RERUNS - 1))]
        for run in await asyncio.gather(*(self._run(text, measure=False) for text in orders)):
            bad |= self._failed(run, laid)
        return bad

    @staticmethod
    def _failed(run: dict[str, Any], laid: list[Laid]) -> set[int]:
        outcomes = run.get("tests") or []
        if not outcomes:
            return {u for t in laid for u in t.units}
        # A test kept with the generator's ``xfail(strict=True)`` holds by failing as expected: "xfailed" (since
        # outcomes are pytest's own words) sent every file with one back to its generated form.
        failed = {str(o.get("name", "")).split("[", 1)[0] for o in outcomes
                  if o.get("outcome") not in ("passed", "xfailed")}
        return {u for t in laid if t.test.name in failed for u in t.units}
