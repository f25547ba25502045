"""One sandboxed pytest run of a test file, with coverage of target files.

The test file is written to a fresh scratch dir (a multi-file text,
engine/multi_file.py, as its files: the result's ``tests`` runs as the user
would run them, every file in one pytest session); the target repository is
put on ``PYTHONPATH`` and read in place (nothing is written into it: the
working dir is the scratch dir and bytecode writing is off).

Coverage is coverage.py's, measured as ``coverage run --branch --source=REPO
-m pytest`` then ``coverage json --include=TARGETS`` would (the commands a
person would type, so the figures match a run by hand), through coverage's
API in the one sandboxed process that runs pytest.
"""

from __future__ import annotations

import ast
import asyncio
import dataclasses
import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from engine import multi_file
from engine.interpreter import pytest_plugin_env
from engine.python_source import parse_source
from engine.results import CoverageReport, TestOutcome, parse_coverage, parse_junit
from engine.sandbox import (
    SandboxLimits,
    SandboxResult,
    clean_env,
    run_sandboxed,
)

PLUGIN_FILE = Path(__file__).with_name("aiwebtest_plugin.py")
TEST_FILENAME = "test_generated.py"
# A file of a multi-file text runs under its own base name: what pytest collects, and nothing that shadows
# the plugin or a module of the repository's own that is not a test.
_RUNNABLE_NAME = re.compile(r"(test_[A-Za-z0-9_]{1,100}|conftest)\.py")
# Each test's lines are recorded under its own context, so tests can be kept one by one.
IMPORT_KEY = "<import>"
COVERAGE_RC = "[run]\nbranch = True\ndynamic_context = test_function\n"
# A measured run in one sandboxed process, with the run's own coverage.py: measure pytest (as ``coverage run
# --branch --source=REPO -m pytest`` does), then write the JSON report of the targets (as ``coverage json
# --include`` does) and the lines and arcs per test context. One process instead of two or three: a process
# start is a second under load, and the agents make several measured runs per kept file.
# argv: data file, rc file, source, JSON report, include, per-test dump, targets..., "--", pytest's args...
_MEASURED_RUN = (
    "import json, sys\n"
    "import coverage\n"
    "from coverage import CoverageData\n"
    "cut = sys.argv.index('--')\n"
    "data_file, rcfile, source, json_out, include, dump_out = sys.argv[1:7]\n"
    "targets = set(sys.argv[7:cut])\n"
    "cov = coverage.Coverage(data_file=data_file, config_file=rcfile, source=[source], branch=True)\n"
    "cov.start()\n"
    "import pytest\n"
    "try:\n"
    "    code = int(pytest.main(sys.argv[cut + 1:]))\n"
    "finally:\n"
    "    cov.stop()\n"
    "    cov.save()\n"
    "try:\n"
    "    cov.json_report(outfile=json_out, include=include.split(','))\n"
    "except Exception as exc:\n"
    "    print('no coverage report:', exc, file=sys.stderr)\n"
    "data = CoverageData(basename=data_file)\n"
    "data.read()\n"
    "out = {}\n"
    "for ctx in sorted(data.measured_contexts()):\n"
    "    data.set_query_context(ctx)\n"
    "    out[ctx] = {name: {'lines': sorted(data.lines(name) or []), 'arcs': sorted(data.arcs(name) or [])}\n"
    "                for name in data.measured_files() if name in targets}\n"
    "with open(dump_out, 'w') as f:\n"
    "    json.dump(out, f)\n"
    "sys.exit(code)\n"
)


@dataclass(frozen=True)
class RunSpec:
    test_code: str
    python: str
    limits: SandboxLimits
    repository: Path | None = None
    target_files: tuple[str, ...] = ()
    heal_mode: str = "record"  # record | heal | off
    heal_threshold: float = 0.75
    known_fingerprints: dict = field(default_factory=dict)
    extra_env: dict = field(default_factory=dict)
    allow_unisolated: bool = False
    # Each test in a process of its own, forked after collection (engine/aiwebtest_plugin.py): whether a test
    # passes without the tests before it, in one run.
    each_alone: bool = False


@dataclass(frozen=True)
class RunResult:
    status: str  # success | failed | error | timeout
    outcomes: list[TestOutcome]
    coverage: CoverageReport | None
    sandbox: SandboxResult
    message: str
    fingerprints: dict
    heals: list[dict]
    # test key ("test_x", or "TestX.test_y") -> target path -> {"lines": [...], "branches": [[a, b], ...]}
    per_test: dict = field(default_factory=dict)
    # Selectors that matched nothing, with the page's URL and the steps before (engine/stagehand_heal.py).
    broken: list[dict] = field(default_factory=list)
    # The plugin's browser fixture got a running Chromium (a marker file: a killed run leaves no report).
    browser_started: bool = False

    @property
    def passed(self) -> bool:
        return self.status == "success"

    @property
    def browser_did_not_start(self) -> bool:
        """Playwright failed, or hung until the time limit, while the test's browser fixture was being set up.

        Both were seen on a loaded CI machine (an error at setup; once a 60 s timeout of a test that passes in
        2 s): the machine's failure, not the test's; the engine runs tier 1 once more (engine/engine.py).
        """
        return browser_did_not_start(self.status, self.message, browser_started=self.browser_started)


def browser_did_not_start(status: str, message: str, *, browser_started: bool) -> bool:
    """The rule of ``RunResult.browser_did_not_start`` for a run or a recorded attempt (a test of the tiers'
    story reads it from the attempts the engine records: tests/helpers/browser_attempts.py)."""
    if status == "timeout":
        return not browser_started
    return status == "error" and "failed on setup" in message and "playwright" in message.lower()


def uses_browser(test_code: str) -> bool:
    """True if any test function takes the ``page`` fixture."""
    try:
        tree = parse_source(test_code)
    except SyntaxError:
        return False
    return any(
        isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and any(arg.arg == "page" for arg in node.args.args)
        for node in ast.walk(tree)
    )


async def run_pytest(spec: RunSpec) -> RunResult:
    if spec.repository is not None:
        # The sandbox mounts real paths; a repository reached through a symlink is named by its own.
        spec = dataclasses.replace(spec, repository=await asyncio.to_thread(spec.repository.resolve))
    # File work (scratch set-up, parsing reports, clean-up) runs in a thread:
    # the loop also drives the GUI.
    scratch = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="aiwebtest-run-"))
    try:
        return await _run_in(scratch, spec)
    finally:
        await asyncio.to_thread(shutil.rmtree, scratch, True)


async def _run_in(scratch: Path, spec: RunSpec) -> RunResult:
    known = scratch / "fingerprints.json"

    files = files_to_run(spec.test_code)

    def prepare() -> None:
        for name, code in files.items():
            (scratch / name).write_text(code, encoding="utf-8")
        shutil.copy(PLUGIN_FILE, scratch / PLUGIN_FILE.name)
        known.write_text(json.dumps(spec.known_fingerprints))

    await asyncio.to_thread(prepare)
    report = scratch / "heal-report.json"
    started = scratch / "browser-started"
    junit = scratch / "junit.xml"
    # Inside the sandbox /tmp is private; everything the run touches lives in scratch.
    pythonpath = [str(scratch)]
    if spec.repository is not None:
        pythonpath.insert(0, str(spec.repository))
        # A src layout imports from src/ (the generated file's own sys.path line points there from tests/,
        # but here the file runs from scratch).
        if any(PurePosixPath(t).parts[:1] == ("src",) for t in spec.target_files):
            pythonpath.insert(0, str(spec.repository / "src"))
    env = clean_env(
        scratch,
        {
            "PYTHONPATH": ":".join(pythonpath),
            "AIWEBTEST_HEAL_MODE": spec.heal_mode,
            "AIWEBTEST_HEAL_THRESHOLD": str(spec.heal_threshold),
            "AIWEBTEST_FINGERPRINTS": str(known),
            "AIWEBTEST_HEAL_REPORT": str(report),
            "AIWEBTEST_BROWSER_STARTED": str(started),
            **pytest_plugin_env(spec.python),
            **spec.extra_env,
            **({"AIWEBTEST_EACH_ALONE": "1"} if spec.each_alone else {}),
        },
    )
    pytest_args = [
        "-p", "aiwebtest_plugin", "-p", "no:cacheprovider",
        "-q", "--no-header", "-rfE", f"--junitxml={junit}", "--rootdir", str(scratch),
        # A test still running shortly before the time limit dumps its stack: the timeout then says where.
        "-o", f"faulthandler_timeout={_dump_after(spec.limits.timeout_s)}",
        *(name for name in files if name != "conftest.py"),
    ]
    measure = spec.repository is not None and bool(spec.target_files)
    data_file, json_out, dump_out = scratch / ".coverage", scratch / "coverage.json", scratch / "per-test.json"
    if measure:
        assert spec.repository is not None
        await asyncio.to_thread((scratch / ".coveragerc").write_text, COVERAGE_RC)
        include = ",".join(str((spec.repository / f).resolve()) for f in spec.target_files)
        argv = [spec.python, "-c", _MEASURED_RUN, str(data_file), str(scratch / ".coveragerc"), str(spec.repository),
                str(json_out), include, str(dump_out),
                *(str((spec.repository / f).resolve()) for f in spec.target_files), "--", *pytest_args]
    else:
        argv = [spec.python, "-m", "pytest", *pytest_args]
    readable = [spec.repository] if spec.repository is not None else []
    result = await run_sandboxed(argv, python=spec.python, cwd=scratch, limits=spec.limits, env=env,
                                 readable=readable, allow_unisolated=spec.allow_unisolated)

    coverage = None
    per_test: dict = {}
    if measure and json_out.exists() and not result.timed_out:
        assert spec.repository is not None
        coverage = await asyncio.to_thread(parse_coverage, json_out, spec.repository)
        if coverage is not None and dump_out.exists():
            dump = await asyncio.to_thread(dump_out.read_text, "utf-8", "replace")
            per_test = await asyncio.to_thread(_per_test, dump, spec.repository, coverage, tuple(files))

    outcomes = await asyncio.to_thread(parse_junit, junit)
    heal_data = json.loads(report.read_text()) if report.exists() else {}
    status, message = _classify(result, outcomes, spec, tuple(files))
    browser_started = await asyncio.to_thread(started.exists)
    if result.timed_out and spec.limits.browser and not browser_started:
        message = f"killed after the {spec.limits.timeout_s:g} s time limit while Chromium was starting"
    return RunResult(
        status=status,
        outcomes=outcomes,
        coverage=coverage,
        sandbox=result,
        message=message,
        fingerprints=heal_data.get("fingerprints", {}),
        heals=heal_data.get("heals", []),
        broken=heal_data.get("broken", []),
        per_test=per_test,
        browser_started=browser_started,
    )


def files_to_run(test_code: str) -> dict[str, str]:
    """Scratch file name -> code: ``TEST_FILENAME`` for one file; for a multi-file text (two files or more, each
    named ``test_*.py`` or ``conftest.py``, base names distinct) each file under its base name, in its order.

    Anything else that looks like a multi-file text runs as the one file it is (its headers are comments).
    """
    if not test_code.startswith(multi_file.header("")[:8]):
        return {TEST_FILENAME: test_code}
    parts = multi_file.split(test_code)
    names = {PurePosixPath(path).name: code for path, code in parts.items()}
    if len(parts) < 2 or len(names) != len(parts) or not all(map(_RUNNABLE_NAME.fullmatch, names)) \
            or set(names) <= {"conftest.py"}:
        return {TEST_FILENAME: test_code}
    return names


def _per_test(dump: str, repository: Path, coverage: CoverageReport,
              files: tuple[str, ...] = (TEST_FILENAME,)) -> dict:
    """Contexts ("test_generated.test_x|run") to test keys; arcs narrowed to the file's branch arcs.

    With several files (a multi-file text) a key is "module.test_x", module the file's stem.

    Only arcs coverage.py counts as branches are kept, so a test's branch
    set can be compared with the report's ``branches_total``.
    """
    try:
        raw = json.loads(dump.strip().splitlines()[-1]) if dump.strip() else {}
    except (json.JSONDecodeError, IndexError):
        return {}
    branch_arcs = {f.path: {tuple(b) for b in f.executed_branches} for f in coverage.files}
    stems = {name.removesuffix(".py") for name in files}
    out: dict[str, dict] = {}
    for context, ran in raw.items():
        function = context.split("|", 1)[0]
        module, _, qualname = function.partition(".")
        if not context:
            qualname = IMPORT_KEY  # what importing the modules ran, before any test
        elif module not in stems or not qualname:
            continue
        elif len(files) > 1:
            qualname = f"{module}.{qualname}"
        entry = out.setdefault(qualname, {})
        for name, cov in ran.items():
            try:
                rel = str(Path(name).resolve().relative_to(repository))
            except ValueError:
                rel = name
            arcs = {tuple(a) for a in cov["arcs"]} & branch_arcs.get(rel, set())
            have = entry.setdefault(rel, {"lines": set(), "branches": set()})
            have["lines"] |= set(cov["lines"])
            have["branches"] |= arcs
    return {key: {path: {"lines": sorted(v["lines"]), "branches": sorted(list(a) for a in v["branches"])}
                  for path, v in files.items()} for key, files in out.items()}


def _dump_after(limit_s: float) -> int:
    """Seconds into a test before its stack is dumped: near the limit, leaving time to write it."""
    return int(limit_s - 5) if limit_s >= 10 else max(1, int(limit_s / 2))


_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+) in (?P<function>\S+)', re.M)


def hung_at(stderr: str, files: tuple[str, ...] = (TEST_FILENAME,)) -> str:
    """Where a run that was killed stood, from the stack pytest's faulthandler dumped before the kill.

    The generated test's own line is the useful one (``test_generated.py``
    line 4 in ``test_send``); failing that, the innermost frame. Empty when
    nothing was dumped (the run never reached a test).
    """
    dump = stderr.partition("Timeout (")[2]
    # One block per thread; the main thread (where the test runs) is not always the first.
    blocks = [frames for frames in (list(_FRAME.finditer(block)) for block in dump.split("\n\n")) if frames]
    if not blocks:
        return ""
    ours = [f for frames in blocks for f in frames if Path(f["path"]).name in files]
    frame = ours[0] if ours else blocks[-1][0]
    return f" (it was in {frame['function']}, {Path(frame['path']).name} line {frame['line']})"


def _classify(result: SandboxResult, outcomes: list[TestOutcome], spec: RunSpec,
              files: tuple[str, ...] = (TEST_FILENAME,)) -> tuple[str, str]:
    if result.timed_out:
        return "timeout", f"killed after the {spec.limits.timeout_s:g} s time limit{hung_at(result.stderr, files)}"
    if result.out_of_memory:
        return "error", f"the test ran out of memory (limit {spec.limits.memory_mb} MB)"
    failed = [o for o in outcomes if o.outcome == "failed"]
    errors = [o for o in outcomes if o.outcome == "error"]
    passed = [o for o in outcomes if o.outcome == "passed"]
    if result.returncode == 5 or not outcomes:
        tail = (result.stdout.strip().splitlines() or ["no output"])[-1]
        if result.returncode == 0:
            return "error", "no tests were collected"
        return "error", f"no tests ran: {tail}"
    if errors:
        return "error", f"{len(errors)} error(s): {errors[0].message or errors[0].name}"
    if failed:
        return "failed", f"{len(failed)} of {len(outcomes)} failed: {failed[0].name}: {failed[0].message}"
    if result.returncode != 0:
        return "error", f"pytest exited with code {result.returncode}"
    return "success", f"{len(passed)} passed"
