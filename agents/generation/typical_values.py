"""The value a person would pass for one parameter, read from the source alone.

By name first (the strongest hint: ``email``, ``separator``), then by the
annotation or the docstring's type, including the standard library's values
a literal cannot write (``dt: datetime`` is ``datetime.datetime(2024, 3, 15,
13, 45, 30)``); a parameter the function matches against one of the
module's regular expressions gets a text that pattern accepts
(agents/generation/regex_example.py); a string the function only compares
with literals gets the first of them. Besides the one value, the *rows*: the
other literals the code compares it with, each a call a reviewer reads as a
table (arrow's ``format(dt, 'YYYY')``, ``format(dt, 'MMMM')``, ...).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from agents.generation.doc_formats import formats_shown
from agents.generation.regex_example import examples_for


@dataclass(frozen=True)
class Code:
    """A value written as code, with the module it needs imported (``datetime``)."""

    text: str
    module: str  # "" when it needs none
    # Names of the module under test it calls bare (an object of the module's own class: ``Version(major=1)``).
    names: frozenset[str] = frozenset()


# Aware, in UTC: a naive one's ``timestamp()`` (arrow's ``'X'`` token) depends on the machine's time zone, and
# a test asserting it fails on a reviewer's machine elsewhere.
_DATETIME = Code("datetime.datetime(2024, 3, 15, 13, 45, 30, tzinfo=datetime.timezone.utc)", "datetime")

# By name first (the strongest hint), then by annotation.
_BY_NAME: list[tuple[str, object]] = [
    (r"e_?mail", "jane.doe@example.com"),
    (r"url|uri|link|href", "https://example.com/docs?page=2"),
    (r"path|file_?name|filename|file", "docs/readme.txt"),
    (r"first_?name", "Ada"),
    (r"last_?name|surname", "Lovelace"),
    (r"user_?name|login", "ada_lovelace"),
    (r"name|title|label", "Ada Lovelace"),
    (r"sep|separator|delimiter", "-"),
    (r"lang|language|locale", "en"),
    (r"dt|datetime", _DATETIME),
    (r"td|timedelta|tdelta|tduration", Code("datetime.timedelta(hours=1, minutes=30)", "datetime")),
    (r"date", "2024-03-15"),
    (r"version|ver", "1.2.3"),
    (r"time|duration|period|interval", "1h30m"),
    (r"phone", "+1 555 0100"),
    (r"ip", "192.168.0.1"),
    (r"colou?r", "#ff8800"),
    (r"stop_?words?", "the"),
    (r"word|token", "hello"),
    (r"text|string|str|s|value|input|input_string|message|msg|content|line|sentence|subject|body|description|"
     r"comment|query|q", "Hello World"),
    (r"\w*(inclusive|exclusive)", True),  # marshmallow's ``max_inclusive``: a flag, not a maximum
    (r"max_\w+|limit|width|length|size|n|count|num|number|times|k", 20),
    (r"min_\w+|start|offset|index|i|pos|position", 2),
    (r"ratio|rate|factor|scale|weight|percent\w*|x|y", 1.5),
    (r"items|values|numbers|seq|sequence|elements|data|lst|list", [3, 1, 2]),
    (r"flag|strict|verbose|enabled|is_\w+|allow_\w+|use_\w+|lower|lowercase|upper", True),
]
_BY_TYPE: dict[str, object] = {
    "str": "Hello World", "int": 20, "float": 1.5, "bool": True, "list": [3, 1, 2], "bytes": b"hello",
    "datetime": _DATETIME,
    "date": Code("datetime.date(2024, 3, 15)", "datetime"),
    "time": Code("datetime.time(13, 45, 30)", "datetime"),
    "timedelta": Code("datetime.timedelta(hours=1, minutes=30)", "datetime"),
    "Decimal": Code("decimal.Decimal('12.50')", "decimal"),
    "dict": {"name": "Ada", "year": 1815}, "Dict": {"name": "Ada", "year": 1815},
    "Mapping": {"name": "Ada", "year": 1815},
    "SupportsInt": 1, "SupportsFloat": 1.5, "Number": 1.5,  # semver's ``Version(major: SupportsInt)``
    "tuple": (3, 1, 2), "Tuple": (3, 1, 2), "List": [3, 1, 2], "Sequence": [3, 1, 2], "Iterable": [3, 1, 2],
}
_ANY = ("Any", "typing.Any", "object")
_ROWS = 40  # at most so many rows for one parameter (arrow's formatter compares a token with 33 literals)


def kind_of(annotation: ast.expr | None, documented: str = "") -> str:
    """The annotation's one type a value is written for: ``Optional[datetime]``, ``'datetime'``,
    ``dt.datetime | None`` and ``datetime`` all read ``datetime``; a generic gives its origin (``List``)."""
    if annotation is None:
        return documented
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        text = annotation.value
    else:
        text = ast.unparse(annotation)
    text = re.sub(r"^(typing\.)?Optional\[(.*)\]$", r"\2", text.strip())
    parts = [p.strip() for p in re.split(r"\|", text) if p.strip() not in ("None", "")]
    first = parts[0] if parts else ""
    first = re.sub(r"^(typing\.)?Union\[([^,\]]+).*$", r"\2", first).split("[")[0].strip()
    return first.split(".")[-1]


def value_for(arg: ast.arg, documented: str = "", hints: list[object] | None = None) -> object | None:
    """From the name, the annotation (or the docstring's type) and what the code does with it (``hints``:
    a text its pattern accepts, the literals it is compared with): the whole name first, then its words
    (``str_or_iter`` is a ``str``), so the strongest hint wins."""
    kind = kind_of(arg.annotation, documented)
    # A type we cannot read here (imported from elsewhere: semver's ``version: String``) leaves the name alone
    # to say what to pass; a call it does not suit raises and is dropped.
    unknown = bool(kind) and kind not in _BY_TYPE and kind not in _ANY
    name = arg.arg.lower()
    for candidate in [name, *[w for w in name.split("_") if w and w != name]]:
        for pattern, value in _BY_NAME:
            if re.fullmatch(pattern, candidate) and (not kind or unknown or _type_name(value) == kind):
                return value
    if unknown:
        return None  # a class we cannot make from a literal
    if hints and (not kind or kind == "str"):
        return hints[0]
    return _BY_TYPE.get(kind)


def _type_name(value: object) -> str:
    if isinstance(value, Code):
        return value.text.split("(")[0].split(".")[-1]
    return type(value).__name__


def typical_text(name: str) -> str | None:
    """The text a person would pass as ``name`` (``separator`` -> ``'-'``, ``email`` -> an address), if its name
    suggests one (agents/generation/readable_text.py tries it first)."""
    value = value_for(ast.arg(name.lstrip("_") or "text"), "str")
    return value if isinstance(value, str) else None


def plain_for_name(name: str) -> object | None:
    """The plain value (text, number, flag or list) a parameter's name alone suggests, or None
    (agents/generation/shrink.py tries it, and its type's empty value, in place of one of another type)."""
    whole = name.lstrip("_").lower()
    # The whole name only: a word of it says less (python-slugify's ``word_boundary`` is a flag, not a word).
    value = next((v for pattern, v in _BY_NAME if re.fullmatch(pattern, whole)), None)
    return value if isinstance(value, (str, int, float, list)) else None


def as_expr(value: object) -> ast.expr:
    """The value written as an expression."""
    if isinstance(value, Code):
        return ast.parse(value.text, mode="eval").body
    if isinstance(value, list):
        return ast.List([as_expr(x) for x in value], ast.Load())
    if isinstance(value, tuple):
        return ast.Tuple([as_expr(x) for x in value], ast.Load())
    if isinstance(value, dict):
        return ast.Dict([as_expr(k) for k in value], [as_expr(v) for v in value.values()])
    return ast.Constant(value)


def modules_of(values: list[object]) -> set[str]:
    """The modules the values' code names (``datetime``)."""
    return {v.module for v in values if isinstance(v, Code) and v.module}


def names_of(values: list[object]) -> set[str]:
    """The module's own names the values' code calls bare (``Version``)."""
    return {n for v in values if isinstance(v, Code) for n in v.names}


def class_value(annotation: ast.expr | None, made: dict[str, Code], aliases: dict[str, str]) -> Code | None:
    """An object of the module's own class for a parameter the annotation says takes one: ``other: 'Version'``,
    ``Optional[Version]``, or a module alias naming it among others (semver's ``Comparable = Union['Version',
    Dict[...], str]``): that class's typical construction (``made``: class name -> its code). The class wins
    over the alias's other members: it is what the method is written for."""
    if annotation is None:
        return None
    text = annotation.value if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str) \
        else ast.unparse(annotation)
    text = aliases.get(text.strip(), text)
    for name in re.findall(r"[A-Za-z_][\w.]*", text):
        if name.split(".")[-1] in made:
            return made[name.split(".")[-1]]
    return None


def module_aliases(module: ast.Module) -> dict[str, str]:
    """The module's type aliases by name: ``Comparable = Union[...]`` at the top level, as written."""
    out: dict[str, str] = {}
    for node in module.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Subscript)):
            out[node.targets[0].id] = ast.unparse(node.value)
    return out


def hints_for(name: str, function: ast.FunctionDef, scope: ast.AST, patterns: dict[str, str]) -> list[object]:
    """What the code does with parameter ``name`` that says which texts it expects: first a text one of the
    module's patterns (``patterns``: name -> pattern) accepts, when the function matches it against one; then
    the formats its docstring shows filled in, for the first parameter (agents/generation/doc_formats.py); then
    the literals it is compared with in the function, then those compared with anything in ``scope`` (the
    class of a method: arrow's ``format(dt, fmt)`` hands ``fmt``'s pieces to ``_format_token``, which compares
    them with ``'YYYY'``, ``'MMMM'``...). At most a table's worth, each once, in the order the code has them."""
    out: list[object] = []
    for node in ast.walk(function):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("match", "fullmatch", "search") and node.args
                and isinstance(node.args[0], ast.Name) and node.args[0].id == name
                and isinstance(node.func.value, ast.Name) and node.func.value.id in patterns):
            out += examples_for(patterns[node.func.value.id])
    positional = [a.arg for a in (*function.args.posonlyargs, *function.args.args) if a.arg not in ("self", "cls")]
    if positional[:1] == [name]:  # the formats the docstring shows are for what the function takes first
        out += formats_shown(ast.get_docstring(function, clean=True) or "")
    out += _compared(function, name)
    if scope is not function:
        out += _compared(scope, None)
    return list(dict.fromkeys(v for v in out if isinstance(v, str) and 0 < len(v) <= 40 and v.isprintable()))[:_ROWS]


def _compared(tree: ast.AST, name: str | None) -> list[str]:
    """String literals compared (``==``, ``!=``, ``in``) with ``name`` (None: with any name) in ``tree``."""
    found: list[str] = []
    compares = sorted((n for n in ast.walk(tree) if isinstance(n, ast.Compare)),
                      key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))  # the code's order
    for node in compares:
        if not (len(node.ops) == 1 and isinstance(node.left, ast.Name)):
            continue
        if name is not None and node.left.id != name:
            continue
        right = node.comparators[0]
        if isinstance(node.ops[0], (ast.Eq, ast.NotEq)) and isinstance(right, ast.Constant):
            found.append(right.value)
        elif isinstance(node.ops[0], (ast.In, ast.NotIn)) and isinstance(right, (ast.Tuple, ast.List, ast.Set)):
            found += [e.value for e in right.elts if isinstance(e, ast.Constant)]
    return [v for v in found if isinstance(v, str)]


def module_patterns(module: ast.Module) -> dict[str, str]:
    """The module's compiled patterns by name: ``NAME = re.compile(r'...')`` with a literal pattern (a
    concatenation of literals too)."""
    out: dict[str, str] = {}
    for node in module.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        call = node.value
        if (isinstance(call, ast.Call) and ast.unparse(call.func) in ("re.compile", "compile") and call.args):
            try:
                pattern = ast.literal_eval(call.args[0])
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
            if isinstance(pattern, str):
                out[node.targets[0].id] = pattern
    return out
