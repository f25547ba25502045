"""The product against Pynguin alone, on packages nobody here wrote.

Run by hand: ``.venv/bin/python bench/generation.py [--budget 60] [--corpus FILE] [--only NAME] [--mutation 60]
[--keep DIR]``. ``--keep``: both tools' kept tests under ``DIR/<module>/<tool>/``, and the mutants only one set
killed (``DIR/<module>/only-killed-by.txt``), to read as a reviewer would.

For each ``PACKAGE==VERSION MODULE`` line of the corpus (default
``../shared/bench/corpus-dev.txt``): the sdist (or wheel) is downloaded
once, unpacked into a scratch repository and ``git init``-ed. Then, in
alternating order per module:

* the product: ``aiwebtest generate --strategy search --agents`` with the
  budget as its search time, one round, target coverage 100 %;
* Pynguin alone: the same Pynguin, the same budget, the same
  environment (the repository's declared dependencies), Pynguin's own
  defaults (its subprocess mode where it recommends it; the product runs
  it in-process inside its sandbox), unseeded (the product seeds its
  first population with typical calls and the examples its authors
  wrote), output kept as Pynguin wrote it.

Every kept test set is then measured the same way, independently of the
tool that made it: a fresh copy of the repository, the tests written
under ``tests/``, plain ``pytest`` under coverage.py in the sandbox,
three times. A set counts as green only if it passes 3/3. The table shows
line and branch coverage of the module, the mutation score (mutmut, each
tool's set on the same mutants, compared on those both runs finished),
tests, green runs and wall time, and the ratios product / Pynguin (mean
line coverage is the headline); then the modules where the product is
below Pynguin's line coverage - 0.02, kills fewer mutants, or took more
than 1.2x the budget.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agents.generation.search import PynguinRunner  # noqa: E402
from engine.mutation import MutationScore, mutation_score  # noqa: E402
from engine.repo_env import RepoEnvironments  # noqa: E402
from engine.sandbox import SandboxLimits, clean_env, run_sandboxed  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "bench" / "corpus-dev.txt"


@dataclass
class Measured:
    line: float = 0.0
    branch: float = 0.0
    tests: int = 0
    green: int = 0  # of 3 runs
    wall_s: float = 0.0
    note: str = ""
    mutation: MutationScore | None = None  # mutmut over the module with this set (same mutants for both tools)
    failed: list[str] = field(default_factory=list)  # pytest's FAILED/ERROR lines of the first red run

    def killed_on(self, common: set[str]) -> str:
        """The mutation score on the mutants both tools' runs finished (a time box ends them at different places)."""
        if self.mutation is None or not common:
            return "  -  "
        return f"{self.mutation.killed_of(common) / len(common):5.1%}"


def corpus(path: Path) -> list[tuple[str, str]]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise SystemExit(f"bench: cannot read the corpus {path} ({exc.strerror}): name one with --corpus FILE") from None
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if line:
            if len(line.split()) != 2:
                raise SystemExit(f"bench: {path}:{number}: expected 'PACKAGE==VERSION MODULE', found {line!r}")
            package, module = line.split()
            rows.append((package, module))
    return rows


def fetch(package: str, cache: Path) -> Path:
    """Unpacked sources of ``package`` (sdist preferred), as a git repository."""
    name = package.replace("==", "-")
    repo = cache / "repos" / name
    if repo.exists():
        return repo
    downloads = cache / "downloads" / name
    downloads.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(downloads), package]
    if subprocess.run([*pip, "--no-binary", ":all:"], capture_output=True, check=False).returncode != 0:
        subprocess.run(pip, capture_output=True, check=True)
    archive = next(downloads.iterdir())
    unpack = cache / "unpack" / name
    shutil.rmtree(unpack, ignore_errors=True)
    unpack.mkdir(parents=True)
    if archive.suffix == ".whl" or archive.suffix == ".zip":
        zipfile.ZipFile(archive).extractall(unpack)
    else:
        with tarfile.open(archive) as tar:
            tar.extractall(unpack, filter="data")
    children = [p for p in unpack.iterdir()]
    source = children[0] if len(children) == 1 and children[0].is_dir() else unpack
    shutil.copytree(source, repo)
    os.chmod(repo, 0o755)
    _remove_tests(repo)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost", "-c", "safe.directory=*"]
    subprocess.run([*git, "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "-C", str(repo), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(repo), "commit", "-qm", "unpacked"], check=True)
    return repo


def _remove_tests(repo: Path) -> None:
    """The package's own tests go, so every tool starts from none: folders named test/tests/testing, files
    named test_*.py, *_test.py and conftest.py (its docstring examples stay: they are the module's text)."""
    for path in sorted(repo.rglob("*"), key=lambda p: len(p.parts)):
        if not path.exists():
            continue
        if path.is_dir() and path.name in ("test", "tests", "testing"):
            shutil.rmtree(path)
        elif path.suffix == ".py" and (path.name.startswith("test_") or path.name.endswith("_test.py")
                                       or path.name == "conftest.py"):
            path.unlink()


def target_of(repo: Path, module: str) -> str:
    parts = module.split(".")
    for base in ("", "src/"):
        for candidate in (f"{base}{'/'.join(parts)}.py", f"{base}{'/'.join(parts)}/__init__.py"):
            if (repo / candidate).is_file():
                return candidate
    raise SystemExit(f"bench: {module} not found in {repo}")


def run_product(repo: Path, target: str, budget: int, data_dir: Path) -> tuple[dict[str, str], float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "generate", "--repo", str(repo), "--files", target, "--strategy",
         "search", "--agents", "--search-time", str(budget), "--max-rounds", "1", "--coverage-target", "1.0",
         "--json", "--even-if-met", "--timeout", str(budget * 10 + 600)],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "AIWEBTEST_DATA_DIR": str(data_dir)},
        check=False,
    )
    wall = time.perf_counter() - started
    try:
        state = json.loads(done.stdout[done.stdout.index("{"):])
    except ValueError:
        return {}, wall, (done.stderr.strip().splitlines() or ["no output"])[-1][:120]
    if state.get("status") != "completed":
        return {}, wall, str(state.get("error"))[:120]
    result = state["result"]
    # The request's own wall time: the CLI's process also starts the embedded servers (~5 s).
    request_s = float(result.get("execution_time_seconds") or wall)
    phases = " ".join(f"{k} {v:.0f}s" for k, v in (result.get("phase_seconds") or {}).items())
    made = ", ".join(f"{g['generator'].replace(' seed ', '/')} {g['kept_tests']}t {g.get('seconds', 0):.0f}s"
                     + (f" ({' '.join(f'{k} {v:.0f}' for k, v in g['steps'].items())})" if g.get("steps") else "")
                     for g in result.get("generators") or [])
    mutation = result.get("mutation") or {}
    own = (f"its own mutation score {mutation['score']:.0%}" if mutation.get("score") is not None
           else f"no mutation score of its own ({str(mutation.get('error') or '-')[:40]})")
    if mutation.get("distillation"):
        own += f": {mutation['distillation'][:160]}"
    return result["files"], request_s, f"{result.get('outcome', '')} ({phases}; process {wall:.0f}s; {own}) [{made}]"


async def run_pynguin(repo: Path, target: str, budget: int, data_dir: Path) -> tuple[dict[str, str], float, str]:
    envs = RepoEnvironments(data_dir / "envs")
    env = await envs.environment_for(repo)
    runner = PynguinRunner(data_dir / "tools")
    await runner.ensure_installed()
    started = time.perf_counter()
    try:
        # seeded=False: Pynguin as it ships. From a9ee4cd until this change its first population was seeded
        # with the product's own typical calls (the runner's default), which lifted the baseline.
        candidate = await runner.generate(repo, target, search_time_s=budget, seed=42,
                                          site_packages=env.site_packages if env else None, raw=True,
                                          in_process=False, seeded=False)
    except Exception as exc:  # noqa: BLE001 - a crash is a result here
        return {}, time.perf_counter() - started, str(exc)[:120]
    name = "tests/test_pynguin_" + target.replace("/", "_")
    return {name: candidate.code}, time.perf_counter() - started, ""


async def measure(repo: Path, target: str | list[str], files: dict[str, str], data_dir: Path,
                  mutation_s: int, *, doctests: bool = False) -> Measured:
    """Plain pytest + coverage.py on a fresh copy, three times; then mutmut, time-boxed (0: not measured).
    Several targets (bench/whole_repository.py): their statements together. ``doctests``: the targets' own
    docstring examples run beside the tests (``--doctest-modules``), as a repository that has them runs them."""
    targets = [target] if isinstance(target, str) else target
    result = Measured(tests=sum(code.count("\ndef test") + code.startswith("def test") for code in files.values()))
    if not files:
        return result
    env = await RepoEnvironments(data_dir / "envs").environment_for(repo)
    python = env.python if env else sys.executable
    if mutation_s:
        result.mutation = await mutation_score(repo, targets, files, python=python, time_box_s=mutation_s)
    for run in range(3):
        copy = Path(tempfile.mkdtemp(prefix="bench-copy-"))
        os.chmod(copy, 0o755)
        shutil.copytree(repo, copy / "repo", ignore=shutil.ignore_patterns(".git"))
        for name, code in files.items():
            path = copy / "repo" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(code)
        work = copy / "repo"
        # Our own rcfile: a repository's [coverage:run] source= would override --include (semver's
        # setup.cfg did, and the module's numbers were the whole package's).
        rcfile = work / ".bench-coveragerc"
        rcfile.write_text(f"[run]\nbranch = True\ninclude = {','.join(str(work / t) for t in targets)}\n")
        rc = await run_sandboxed(
            [python, "-m", "coverage", "run", f"--rcfile={rcfile}", "--data-file=.cov",
             "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", *files,
             *(["--doctest-modules", *targets] if doctests else [])],
            # Plain pytest: no plugin of the interpreter's own (our venv's pytest-asyncio warns at start, and
            # isodate's filterwarnings = error made that an INTERNALERROR: 0 % for both tools).
            python=python, cwd=work, limits=SandboxLimits(600, 2048),
            env=clean_env(work, {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}))
        red = [line for line in rc.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
        # With the modules' doctests, a package's own broken example is not a kept test failing (docstring_parser
        # 0.16's numpydoc.ExamplesSection and util.combine_docstrings fail under --doctest-modules by themselves).
        ours = [line for line in red if line.split(" ", 1)[-1].startswith(tuple(files))]
        if rc.returncode == 0 or (doctests and rc.returncode == 1 and red and not ours):
            result.green += 1
        if run == 0:
            await run_sandboxed([python, "-m", "coverage", "json", f"--rcfile={rcfile}", "--data-file=.cov",
                                 "-o", "cov.json", "-q"],
                                python=python, cwd=work, limits=SandboxLimits(120, 2048), env=clean_env(work))
            report = work / "cov.json"
            if report.exists():
                totals = json.loads(report.read_text())["totals"]
                result.line = totals["covered_lines"] / totals["num_statements"] if totals["num_statements"] else 0
                result.branch = (totals.get("covered_branches", 0) / totals["num_branches"]
                                 if totals.get("num_branches") else 0.0)
            if rc.returncode not in (0, 1):
                result.note = (rc.stdout.strip().splitlines() or [""])[-1][:80]
        if rc.returncode == 1 and not result.failed:  # what failed, said once (the first red run's summary)
            result.failed = [line[:200] for line in red]
        shutil.rmtree(copy, ignore_errors=True)
    return result


def keep(folder: Path, files: dict[str, dict[str, str]], measured: dict[str, Measured], common: set[str]) -> None:
    """Each tool's kept files, and which mutants (of those both runs finished) only one tool's tests killed."""
    for tool, by_path in files.items():
        for path, code in by_path.items():
            out = folder / tool / path
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(code)
    p, q = measured["product"].mutation, measured["pynguin"].mutation
    if p and q:
        lines = [f"{tool}: {key}" for tool, mine, theirs in (("product", p, q), ("pynguin", q, p))
                 for key in sorted(common) if mine.outcomes.get(key) == "killed" != theirs.outcomes.get(key)]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "only-killed-by.txt").write_text("\n".join(lines) + "\n")


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else ("inf" if a else "-")


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=int, default=60, help="search seconds per module, both tools")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--only", default="", help="run only modules whose name contains this")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "aiwebtest-bench-generation")
    parser.add_argument("--mutation", type=int, default=60,
                        help="mutmut's time box per tool and module, in seconds (0: no mutation score)")
    parser.add_argument("--keep", type=Path, default=None,
                        help="write both tools' tests and the mutants only one of them killed under this folder")
    args = parser.parse_args()
    data_dir = args.cache / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    rows = [(p, m) for p, m in corpus(args.corpus) if args.only in m]
    print(f"bench: {len(rows)} modules, budget {args.budget} s each, product vs Pynguin alone (interleaved)")
    table = []
    commons: list[tuple[int, int, int]] = []  # (product kills, Pynguin kills, mutants both finished) per module
    for i, (package, module) in enumerate(rows):
        repo = fetch(package, args.cache)
        target = target_of(repo, module)
        order = ["product", "pynguin"] if i % 2 == 0 else ["pynguin", "product"]
        got: dict[str, tuple[dict[str, str], float, str]] = {}
        for tool in order:
            if tool == "product":
                got[tool] = await asyncio.to_thread(run_product, repo, target, args.budget, data_dir)
            else:
                got[tool] = await run_pynguin(repo, target, args.budget, data_dir)
        measured = {}
        for tool, (files, wall, note) in got.items():
            m = await measure(repo, target, files, data_dir, args.mutation)
            m.wall_s, m.note = wall, note or m.note
            measured[tool] = m
        table.append((module, measured["product"], measured["pynguin"]))
        p, q = measured["product"], measured["pynguin"]
        common = (set(p.mutation.outcomes) & set(q.mutation.outcomes)) if p.mutation and q.mutation else set()
        if args.keep is not None:
            keep(args.keep / module, {tool: files for tool, (files, _, _) in got.items()}, measured, common)
        commons.append((p.mutation.killed_of(common) if p.mutation else 0,
                        q.mutation.killed_of(common) if q.mutation else 0, len(common)))
        print(f"  {module:<28} product line {p.line:5.1%} branch {p.branch:5.1%} mutation {p.killed_on(common)} "
              f"tests {p.tests:4d} green {p.green}/3 wall {p.wall_s:6.1f}s | pynguin line {q.line:5.1%} branch "
              f"{q.branch:5.1%} mutation {q.killed_on(common)} tests {q.tests:4d} green {q.green}/3 wall "
              f"{q.wall_s:6.1f}s (mutants both finished: {len(common)})  {p.note} {q.note}".rstrip(), flush=True)
    if not table:
        return 1
    mean = lambda values: sum(values) / len(values)  # noqa: E731
    p_line, q_line = mean([p.line for _, p, _ in table]), mean([q.line for _, _, q in table])
    p_branch, q_branch = mean([p.branch for _, p, _ in table]), mean([q.branch for _, _, q in table])
    p_wall, q_wall = mean([p.wall_s for _, p, _ in table]), mean([q.wall_s for _, _, q in table])
    with_tests = sum(1 for _, p, _ in table if p.tests), sum(1 for _, _, q in table if q.tests)
    print(f"\nmean line   product {p_line:.1%}  pynguin {q_line:.1%}  ratio {ratio(p_line, q_line)} (target >= 1.2x)")
    print(f"mean branch product {p_branch:.1%}  pynguin {q_branch:.1%}  ratio {ratio(p_branch, q_branch)}")
    print(f"modules with tests: product {with_tests[0]}/{len(table)}  pynguin {with_tests[1]}/{len(table)}")
    print(f"mean wall   product {p_wall:.1f} s  pynguin {q_wall:.1f} s  ratio {ratio(p_wall, q_wall)} "
          f"(product/budget {p_wall / args.budget:.2f}, target <= 1.2)")
    lower = [m for (m, _, _), (p_k, q_k, n) in zip(table, commons, strict=True) if n and p_k < q_k]
    print(f"mutation    product kills {sum(c[0] for c in commons)}, pynguin {sum(c[1] for c in commons)} of "
          f"{sum(c[2] for c in commons)} mutants both finished; product lower on: {', '.join(lower) or 'none'}")
    worse = [m for m, p, q in table if p.line < q.line - 0.02]
    over = [m for m, p, _ in table if p.wall_s > 1.2 * args.budget]
    print(f"per module  line below Pynguin - 0.02 on: {', '.join(worse) or 'none'}; wall over 1.2x budget on: "
          f"{', '.join(over) or 'none'}")
    print(f"green 3/3:  product {sum(p.green == 3 for _, p, _ in table if p.tests)}/{with_tests[0]}  "
          f"pynguin {sum(q.green == 3 for _, _, q in table if q.tests)}/{with_tests[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
