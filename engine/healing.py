"""Applying tier-2 heals to a test's source, and showing what changed.

Selectors are replaced where they stand as string literals (found with
``tokenize``), so a selector text that also appears in a comment or inside
a longer string is left alone.
"""

from __future__ import annotations

import ast
import difflib
import io
import tokenize

from engine.python_source import literal_eval, parse_source


def apply_heals(code: str, heals: list[dict]) -> str:
    mapping = {h["selector"]: h["healed"] for h in heals if h.get("healed")}
    if not mapping:
        return code
    tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    lines = code.splitlines(keepends=True)
    # Replace from the end so earlier positions stay valid.
    for tok in reversed(tokens):
        if tok.type != tokenize.STRING:
            continue
        try:
            value = literal_eval(tok.string)
        except (ValueError, SyntaxError):
            continue
        if not isinstance(value, str) or value not in mapping:
            continue
        (srow, scol), (erow, ecol) = tok.start, tok.end
        if srow != erow:
            continue
        line = lines[srow - 1]
        quote = '"' if tok.string.endswith('"') else "'"
        new_literal = quote + mapping[value].replace("\\", "\\\\").replace(quote, "\\" + quote) + quote
        lines[srow - 1] = line[:scol] + new_literal + line[ecol:]
    return "".join(lines)


def unified_diff(original: str, healed: str, name: str = "test_generated.py") -> str:
    return "".join(
        difflib.unified_diff(
            original.splitlines(keepends=True), healed.splitlines(keepends=True),
            fromfile=f"a/{name}", tofile=f"b/{name}",
        )
    )


def find_test_names(code: str) -> list[str]:
    """Names of the test functions in ``code`` (none if it does not parse)."""
    try:
        tree = parse_source(code)
    except SyntaxError:
        return []
    return [
        node.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test")
    ]


def intent_of(code: str) -> list[dict]:
    """Each test's name, docstring and source: what tier 3 is asked to carry out."""
    tree = parse_source(code)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            out.append(
                {
                    "name": node.name,
                    "docstring": ast.get_docstring(node) or "",
                    "source": ast.get_source_segment(code, node) or "",
                }
            )
    return out
