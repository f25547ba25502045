"""Checks every piece of text from outside (API, CLI, GUI) passes before it goes further.

PostgreSQL's text cannot hold NUL, and a lone surrogate cannot be encoded
as UTF-8: either one used to escape as a 500 from deep in asyncpg. File
names must stay inside the repository, decided from the name alone so that
the answer never tells whether some file outside exists.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Annotated

from pydantic import AfterValidator, Field


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored or passed on as text, or None."""
    if "\x00" in value:
        return f"contains a NUL character at position {value.index(chr(0))}; remove it"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"contains a lone surrogate (\\u{ord(value[exc.start]):04x}) at position {exc.start}; send valid UTF-8 text"
    return None


def relative_path_problem(name: str) -> str | None:
    """Why ``name`` is not a path inside a repository, judged from the name alone."""
    problem = text_problem(name)
    if problem:
        return problem
    if not name.strip():
        return "is empty"
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or name.startswith("~"):
        return "must be relative to the repository, not an absolute path"
    if ".." in path.parts:
        return "must stay inside the repository ('..' is not allowed)"
    return None


def _checked_text(value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _checked_relative_path(value: str) -> str:
    problem = relative_path_problem(value)
    if problem:
        raise ValueError(problem)
    return value


# The same rules as JSON Schema patterns (ECMA 262, no flags), so the OpenAPI document says what is enforced;
# lone surrogates are left out of them: schemathesis (jsonschema-rs) cannot use such a pattern at all.
TEXT_PATTERN = r"^[^\u0000]*$"
# Not blank, not absolute (/, \, ~), no '..' segment; the NUL and lone surrogates of any text.
RELATIVE_PATH_PATTERN = r"^(?![/\\~])(?!(.*[/\\])?\.\.([/\\]|$))(?=.*\S)[^\u0000]+$"

Text = Annotated[str, AfterValidator(_checked_text), Field(json_schema_extra={"pattern": TEXT_PATTERN})]
"""A str field that must be storable text (no NUL, no lone surrogate)."""

RelativePath = Annotated[str, AfterValidator(_checked_relative_path),
                         Field(json_schema_extra={"pattern": RELATIVE_PATH_PATTERN})]
"""A file name relative to a repository, never leaving it."""
