"""The ``llm`` strategy: prompt a model with what the other agents learned.

``generate`` asks once for the whole module (the single-shot path and an
unmeasured module's first prompt). After that, CoverUp's way
(Pizzorno & Berger, 2024): one prompt per function that still has
uncovered lines, showing that code with the gaps marked, and the failing
output fed back for a bounded number of repairs (agents/evolution.py).
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from typing import Any

from agents.generation import Candidate, StrategyError, module_of, test_file_header
from engine.model_port import ModelReply, OnProgress
from engine.python_source import parse_source

_BLOCK = re.compile(r"```(?:python)?\s*\n(.*?)```", re.DOTALL)

PROMPT = """Write pytest tests for the Python module `{module}` (file {target_file}).
Import it as `import {module}` or `from {module} import ...`.
Return one ```python block with a complete test file and nothing else.

Source:
```python
{source}
```

Functions and branches (analysis): {analysis}
Behaviours to check (requirements): {requirements}
Lines not yet covered: {uncovered}
Failures of the last attempt, to avoid: {failures}
"""


async def generate(
    gateway: Any, *, agent_id: str, task_id: str, repository_source: str, target_file: str,
    analysis: Any, requirements: Any, uncovered: list[int], failures: list[str],
    on_progress: OnProgress | None = None,
) -> Candidate:
    _, module = module_of(target_file)
    prompt = PROMPT.format(
        module=module, target_file=target_file, source=repository_source[:20000],
        analysis=json.dumps(analysis)[:4000], requirements=json.dumps(requirements)[:3000],
        uncovered=uncovered[:200] or "none yet measured", failures=failures[-3:] or "none",
    )
    reply = await gateway.chat([{"role": "user", "content": prompt}], agent_id=agent_id, task_id=task_id,
                               purpose="generation", on_progress=on_progress)
    match = _BLOCK.search(reply.text)
    if not match:
        raise StrategyError(no_block(reply), tokens=reply.tokens)
    body = match.group(1)
    return Candidate(target_file, test_file_header(target_file, "llm") + body, "llm",
                     tokens=reply.tokens, cost_usd=reply.cost_usd or 0.0)


def no_block(reply: ModelReply) -> str:
    """Why an answer gave no test file, in words a person can act on."""
    if reply.truncated:
        return (f"the model's answer was cut off at the answer limit ({reply.completion_tokens:,} tokens) before "
                "its ```python block closed: raise llm_max_tokens in the Settings dialog")
    return "the model's answer had no ```python block"


# -- CoverUp-style: one prompt per uncovered segment, failures fed back --------------------------

@dataclass(frozen=True)
class Segment:
    """A function (or method) holding lines no kept test runs yet."""

    name: str  # "classify", "Box.grow"
    start: int  # first line, decorators included
    end: int
    missing: tuple[int, ...]


def segments(source: str, missing: set[int], limit: int) -> list[Segment]:
    """The functions with missing lines, most missing first (at most ``limit``).

    Methods are their own segments (a class is too big a prompt); a line
    outside any function is left to the whole-module prompt.
    """
    found: list[Segment] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in getattr(node, "body", []):
            if isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                start = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                end = child.end_lineno or child.lineno
                lines = tuple(sorted(n for n in missing if start <= n <= end))
                if lines:
                    found.append(Segment(f"{prefix}{child.name}", start, end, lines))

    visit(parse_source(source), "")
    return sorted(found, key=lambda s: (-len(s.missing), s.start))[:limit]


SEGMENT_PROMPT = """You are improving the tests of the Python module `{module}` (file {target_file}).
Import it as `import {module}` or `from {module} import ...`.
The lines marked `>>` below are not executed by any test yet.
Write pytest tests that execute them and check the behaviour: one test per case,
named after the function and the case, each with a one-line docstring.
Return one ```python block with a complete test file and nothing else.

The module's imports:
```python
{imports}
```

{where}:
```python
{excerpt}
```
Behaviours that matter to the user: {requirements}
"""

REPAIR_PROMPT = """Running your tests gave this:
{problem}
Return the whole test file again, fixed, as one ```python block. Keep the tests that worked."""


def segment_prompt(module: str, target_file: str, source: str, segment: Segment, requirements: Any) -> str:
    """CoverUp's prompt: the code around the gap, numbered, uncovered lines marked."""
    lines = source.splitlines()
    tree = parse_source(source)
    imports = "\n".join(ast.get_source_segment(source, n) or "" for n in tree.body
                        if isinstance(n, (ast.Import, ast.ImportFrom)))
    cls, _, _ = segment.name.rpartition(".")
    where = f"Method `{segment.name}` (class `{cls}`)" if cls else f"Function `{segment.name}`"
    gaps = set(segment.missing)
    excerpt = "\n".join(f"{'>>' if n in gaps else '  '} {n:4d}: {lines[n - 1]}"
                        for n in range(segment.start, min(segment.end, len(lines)) + 1))
    return SEGMENT_PROMPT.format(module=module, target_file=target_file, imports=imports or "# none",
                                 where=where, excerpt=excerpt, requirements=json.dumps(requirements)[:2000])


def repair_prompt(problem: str) -> str:
    return REPAIR_PROMPT.format(problem=problem[:3000])


async def ask(gateway: Any, messages: list[dict[str, str]], *, agent_id: str, task_id: str,
              target_file: str, whole_file: bool = False, purpose: str = "generation",
              on_progress: OnProgress | None = None) -> tuple[Candidate, str]:
    """One chat turn: (the candidate test file, the model's whole answer for the next turn).

    ``whole_file``: the answer is a file we wrote before (polish), header
    included; otherwise our header goes on top of the model's tests.
    """
    reply = await gateway.chat(messages, agent_id=agent_id, task_id=task_id, purpose=purpose,
                               on_progress=on_progress)
    answer = reply.text
    match = _BLOCK.search(answer)
    if not match:
        raise StrategyError(no_block(reply), tokens=reply.tokens)
    code = match.group(1) if whole_file else test_file_header(target_file, "llm") + match.group(1)
    return Candidate(target_file, code, "llm", tokens=reply.tokens, cost_usd=reply.cost_usd or 0.0), answer


POLISH_PROMPT = """Make this pytest file easier to read without changing what it does:
- rename variables (var_0, var_1, ...) to names that say what they hold;
- add a one-line docstring to each test saying the case it checks.
Do not change any call, argument, assertion or test name; do not add or remove tests.
Return the whole file as one ```python block.

```python
{code}
```"""


def polish_prompt(code: str) -> str:
    return POLISH_PROMPT.format(code=code)
