"""What a kept unit shows: the behaviour distillation keeps one unit of (agents/distil_step.py).

The coverage slice keeps the fewest units that run every line; a unit that
runs no new line can still check something no kept unit checks (another
outcome, option or class of result), and a mutant the others let through
may be the one it notices. Not a crash on a value of the wrong type: that
checks Python, not the module, and a reviewer deletes it.
"""

from __future__ import annotations

import ast

from agents.generation.distil import distil_unit
from agents.generation.observe import Observed
from agents.generation.test_units import TestFile, Unit


def new_behaviours(parts: TestFile, units: list[Unit], observed: list[Observed | None], chosen: list[int],
                    never: frozenset[int] = frozenset()) -> set[int]:
    """Units the coverage slice dropped that show a behaviour no kept unit shows.

    A behaviour is the function, what it did (``timeparse`` returns None,
    ``clamp`` raises ValueError) and the arguments it was given by name
    (``slugify`` with ``entities``), and the class of each value it
    returned (negative, zero or positive; empty, one or many), and what an exception it raised said (the start of
    its message, as ``match=`` checks it: tomli's "Unclosed array" and "Invalid value" are two errors): two calls
    that run the same lines but end differently, set another option or give
    a negative number where the other gave a positive one check different
    things, and a mutant one lets through the other may catch (the bench's
    slugify lost 2 points of mutation score when only function and outcome
    counted; pytimeparse lost 3, ``timeparse('-3m') == -180`` dropped beside
    ``timeparse('1:24') == 84``, when the result's sign did not count).
    """
    def behaviour(i: int) -> str:
        got = observed[i]
        if units[i].plain or got is None or not got.passed:
            return units[i].source
        test = distil_unit(units[i], got.seen, parts)
        calls = [n for s in test.body for n in ast.walk(s) if isinstance(n, ast.Call) and n.keywords]
        raised = [k.value.value for c in calls if ast.unparse(c.func) == "pytest.raises" for k in c.keywords
                  if k.arg == "match" and isinstance(k.value, ast.Constant)]
        calls = [c for c in calls if ast.unparse(c.func) != "pytest.raises"]
        options = sorted(k.arg for k in calls[-1].keywords if k.arg) if calls else []
        return f"{test.stem}|{','.join(options)}|{result_classes(got)}|{'|'.join(map(str, raised))}"

    def a_crash(i: int) -> bool:
        """The unit ends in the interpreter refusing a value of the wrong type (``TypeError`` or
        ``AttributeError`` with words the module does not write: no ``match=``): tomli's kept
        ``parse_basic_str(src=1.0, pos={}, multiline=complex(1.0, 1.0))`` pinned only that Python refuses it."""
        test = distil_unit(units[i], observed[i].seen, parts)  # type: ignore[union-attr]
        for node in (n for s in test.body for n in ast.walk(s)):
            if (isinstance(node, ast.Call) and ast.unparse(node.func) == "pytest.raises" and node.args
                    and ast.unparse(node.args[0]).rsplit(".", 1)[-1] in ("TypeError", "AttributeError")
                    and not any(k.arg == "match" for k in node.keywords)):
                return True
        return False

    shown = {behaviour(i) for i in chosen}
    added: set[int] = set()
    for i in range(len(units)):
        if (i in chosen or i in never or observed[i] is None or not observed[i].passed
                or units[i].source.startswith("test_typical_")):
            continue
        if (b := behaviour(i)) not in shown and not a_crash(i):
            shown.add(b)
            added.add(i)
    return added


def result_classes(observed: Observed) -> str:
    """The partition of each value the unit's calls returned, in statement order (``-``, ``0``, ``+``; ``len0``,
    ``len1``, ``lenN``; ``True``/``False``/``None``): what equivalence-class testing tells apart."""
    classes = []
    for key in sorted(observed.seen, key=lambda k: int(k) if k.isdigit() else -1):
        seen = observed.seen[key]
        if not seen.returned:
            continue
        try:
            value = seen.value()
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            value = None
        if isinstance(value, bool) or value is None and seen.repr == "None":
            classes.append(repr(value))
        elif isinstance(value, (int, float)):
            classes.append("-" if value < 0 else "0" if value == 0 else "+")
        elif seen.length is not None or isinstance(value, (str, bytes, tuple, list, dict, set)):
            length = seen.length if seen.length is not None else len(value)
            classes.append("len0" if length == 0 else "len1" if length == 1 else "lenN")
    return ",".join(classes)
