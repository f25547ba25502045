"""The examples a README shows, each under its heading: ``>>>`` sessions and Python code blocks.

A library's README is where its authors show what a call returns (tomli's
``[[players]]`` table, semver's bumps, humanize's ``intcomma(12345)`` ->
``'12,345'``): expected values a person wrote, not ones a search observed.
Found by parsing the text only (Markdown and reStructuredText); nothing of
it runs here. What the examples become is agents/generation/readme_examples.py.
"""

from __future__ import annotations

import doctest
import itertools
import re
from dataclasses import dataclass

# A Markdown fence, its language (```python, ~~~py) and its end.
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*([\w+-]*)")
_PYTHON = {"python", "py", "python3", "pycon", "py3"}
# reStructuredText's code directives, and a title's underline (or overline) of one repeated punctuation mark.
_RST_CODE = re.compile(r"^(\s*)\.\.\s+(?:code-block|code|sourcecode)::\s*(\w*)\s*$")
_RST_RULE = re.compile(r"^([=\-~^\"'`#*+:.])\1{2,}\s*$")
_MD_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")
_MARKUP = re.compile(r"<[^>]*>|[`*_\[\]]|\(#[^)]*\)")


@dataclass(frozen=True)
class Session:
    """The ``>>>`` examples under one heading, in order (one README section's)."""

    heading: str
    line: int  # 1-based, of the first example
    examples: tuple[doctest.Example, ...]


@dataclass(frozen=True)
class CodeBlock:
    """A Python code block (no ``>>>`` in it), dedented."""

    heading: str
    line: int  # 1-based, of the block's first line of code
    code: str


_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)|`([^`<]*?)\s*<[^>]*>`_*")  # [text](url), `text <url>`_


def _title(text: str) -> str:
    return re.sub(r"\s+", " ", _MARKUP.sub("", _LINK.sub(lambda m: m.group(1) or m.group(2) or "", text))).strip()


def headings(lines: list[str], examples: list[doctest.Example] | None = None) -> list[tuple[int, str]]:
    """(0-based line, title) of each heading, Markdown ``#`` or underlined reStructuredText, outside code and
    outside the examples (an unfenced printed table's ``------`` is no title's underline)."""
    found: list[tuple[int, str]] = []
    fence = ""
    inside = {n for e in examples or [] for n in range(e.lineno, e.lineno + e.source.count("\n") + e.want.count("\n"))}
    for i, line in enumerate(lines):
        if m := _FENCE.match(line):
            fence = "" if fence and m.group(1).startswith(fence[0]) else fence or m.group(1)
            continue
        if fence or i in inside or i + 1 in inside:
            continue
        if m := _MD_HEADING.match(line):
            found.append((i, _title(m.group(1))))
        elif (i + 1 < len(lines) and line.strip() and not line[0].isspace() and not line.startswith((">>>", "..."))
              and _RST_RULE.match(lines[i + 1])
              and len(lines[i + 1].rstrip()) >= len(line.rstrip()) and not _RST_RULE.match(line)):
            found.append((i, _title(line)))
    return found


def _heading_at(marks: list[tuple[int, str]], line: int) -> str:
    title = ""
    for at, text in marks:
        if at > line:
            break
        title = text
    return title


def _without_fences(lines: list[str]) -> str:
    """The text with each fence line blank: a closing ``` right after an example's output would be read as
    part of it. Line numbers stay."""
    return "\n".join("" if _FENCE.match(line) else line for line in lines) + "\n"


def _examples(lines: list[str]) -> list[doctest.Example]:
    """The text's examples; where one does not parse as doctest (an output indented off its prompt), only
    its section is left out: each section is then read on its own, and its line numbers kept."""
    parser = doctest.DocTestParser()
    try:
        return parser.get_examples(_without_fences(lines))
    except ValueError:
        pass
    found: list[doctest.Example] = []
    cuts = [0, *(at for at, _ in headings(lines)), len(lines)]
    for start, end in itertools.pairwise(cuts):
        try:
            part = parser.get_examples(_without_fences(lines[start:end]))
        except ValueError:
            continue
        for example in part:
            example.lineno += start
        found += part
    return found


def sessions(text: str) -> list[Session]:
    """The ``>>>`` examples, grouped by the heading they stand under; a section whose examples do not parse
    as doctest (an output indented off its prompt) gives none."""
    lines = text.splitlines()
    examples = _examples(lines)
    marks = headings(lines, examples)
    grouped: dict[str, list[doctest.Example]] = {}
    for example in examples:
        grouped.setdefault(_heading_at(marks, example.lineno), []).append(example)
    return [Session(heading, found[0].lineno + 1, tuple(found)) for heading, found in grouped.items()]


def _dedent_block(lines: list[str], start: int) -> tuple[str, int]:
    """The indented block from ``start`` (after the directive's options and blank line), dedented."""
    i = start
    while i < len(lines) and re.match(r"^\s+:\w[\w-]*:", lines[i]):  # :linenos: and other options
        i += 1
    body: list[str] = []
    while i < len(lines) and (not lines[i].strip() or lines[i][:1].isspace()):
        body.append(lines[i])
        i += 1
    while body and not body[-1].strip():
        body.pop()
    while body and not body[0].strip():
        body.pop(0)
    indent = min((len(b) - len(b.lstrip()) for b in body if b.strip()), default=0)
    return "\n".join(b[indent:] for b in body), i


def code_blocks(text: str) -> list[CodeBlock]:
    """The Python code blocks (a ``python``/``py`` fence, a ``.. code-block:: python``) without ``>>>``."""
    lines = text.splitlines()
    marks = headings(lines, _examples(lines))
    found: list[CodeBlock] = []
    i = 0
    while i < len(lines):
        if (m := _FENCE.match(lines[i])) and m.group(2).lower() in _PYTHON:
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip().startswith(m.group(1))),
                       len(lines))
            body = lines[i + 1:end]
            indent = min((len(b) - len(b.lstrip()) for b in body if b.strip()), default=0)
            found.append(CodeBlock(_heading_at(marks, i), i + 2, "\n".join(b[indent:] for b in body).strip("\n")))
            i = end + 1
            continue
        if (m := _RST_CODE.match(lines[i])) and m.group(2).lower() in _PYTHON:
            code, end = _dedent_block(lines, i + 1)
            found.append(CodeBlock(_heading_at(marks, i), i + 2, code))
            i = end
            continue
        i += 1
    return [b for b in found if b.code and ">>>" not in b.code]


def literal_blocks(text: str) -> list[str]:
    """reStructuredText's literal blocks (a line ending ``::``, then an indented block), dedented: a docstring's
    ``Example: ::`` (marshmallow's validators). Whether one is Python is for its parse to say."""
    lines = text.splitlines()
    return [code for i, line in enumerate(lines) if line.rstrip().endswith("::")
            and (code := _dedent_block(lines, i + 1)[0]) and ">>>" not in code]
