"""Runs CrossHair's ``cover`` once per function, inside the sandbox, and merges the tests.

This file is copied into the run's scratch folder and started there with
CrossHair's own interpreter (``python crosshair_driver.py SPEC``); it
imports nothing of ours. Why one ``crosshair cover`` per function and not
one for the module: CrossHair 0.0.x stops the whole command at the first
function it cannot model (``CrossHairInternal`` on ``re`` in
``semver.version``), so one run per function keeps what the others found,
and a per-function time box keeps one deep function from eating the
budget. Functions run two at a time (the machine has two cores and
Pynguin shares them).

SPEC is a JSON file: ``{"module", "functions", "seconds", "workers",
"project"}``; the merged pytest file goes to stdout, one line per
function's outcome to stderr.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor


def cover(module: str, function: str, seconds: float, project: str) -> tuple[str, str]:
    """(pytest source, note) of one ``crosshair cover`` run, '' when it found nothing usable."""
    argv = [sys.executable, "-m", "crosshair", "cover", "--example_output_format=pytest",
            "--coverage_type=opcode", "--per_path_timeout=2", f"--per_condition_timeout={max(1.0, seconds - 2):.0f}",
            f"{module}.{function}"]
    try:
        done = subprocess.run(argv, cwd=project, capture_output=True, text=True, timeout=seconds + 5,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(
                                  p for p in (project, os.environ.get("PYTHONPATH", "")) if p)})
    except subprocess.TimeoutExpired:
        return "", f"{function}: timed out"
    text = parsable(done.stdout)
    if "def test_" not in text:
        tail = (done.stderr.strip().splitlines() or ["no paths"])[-1]
        return "", f"{function}: nothing ({tail[:200]})"
    return text, f"{function}: {text.count('def test_')} tests"


def parsable(text: str) -> str:
    """The output without the tests that do not parse.

    CrossHair 0.0.113 writes a walrus as a keyword argument unparenthesized
    (``f(x=v1:=b'', y=v1)``); such a test is dropped, its neighbours kept.
    """
    head, *tests = re.split(r"\n(?=def test_)", text)
    kept = [head] if _parses(head) else []
    seen: set[str] = set()
    for test in tests:
        body = test.split("\n", 1)[-1]
        if body not in seen and _parses(test):
            seen.add(body)
            kept.append(test)
    return "\n".join(kept) if len(kept) > 1 else ""


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except SyntaxError:
        return False
    return True


def merge(parts: list[str]) -> str:
    """One file: the imports once, then every test, renamed where two parts chose the same name."""
    imports: list[str] = []
    bodies: list[str] = []
    used: set[str] = set()
    for part in parts:
        tree = ast.parse(part)
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                line = ast.unparse(node)
                if line not in imports:
                    imports.append(line)
            elif isinstance(node, ast.FunctionDef):
                name, n = node.name, 2
                while node.name in used:
                    node.name, n = f"{name}_{n}", n + 1
                used.add(node.name)
                bodies.append(ast.unparse(node))
            else:
                bodies.append(ast.unparse(node))
    return "\n".join(imports) + "\n\n\n" + "\n\n\n".join(bodies) + "\n"


def main(spec_path: str) -> int:
    spec = json.loads(open(spec_path, encoding="utf-8").read())
    functions: list[str] = spec["functions"]
    deadline = time.monotonic() + float(spec["seconds"])
    workers = max(1, int(spec.get("workers", 2)))
    # An even share per function, by rounds of `workers`; a function that ends early leaves time to the rest.
    share = max(4.0, float(spec["seconds"]) * workers / max(1, len(functions)))

    def one(function: str) -> tuple[str, str]:
        left = deadline - time.monotonic()
        if left < 3:
            return "", f"{function}: skipped, budget spent"
        return cover(spec["module"], function, min(share, left), spec["project"])

    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(one, functions))
    for _, note in results:
        print(note, file=sys.stderr)
    parts = [text for text, _ in results if text]
    if not parts:
        return 1
    sys.stdout.write(merge(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
