"""Whether a unit with shrunk inputs still does what it did: the same errors, the generator's checks holding.

agents/distil_step.py tries each shrink step in one observe run; a step stands for a unit only when the unit
still passes, covers its own lines, and these hold too. Otherwise the rewritten file fails its rerun and the
unit goes back to the values search drew (500-character docstrings and all).
"""

from __future__ import annotations

from agents.generation.call_style import message_words
from agents.generation.generator_checks import kept_as_written
from agents.generation.observe import Observed, Seen
from agents.generation.test_units import Unit


def same_errors(before: Observed | None, after: Observed) -> bool:
    """Whether a shrunk unit's ``pytest.raises`` blocks still caught the errors they said before: tomli's one
    raise line reports every parse error, and ``'[1'`` ("Unclosed array") shrunk to ``'Hello World'`` ("Invalid
    value") ran the same lines and became another test's twin."""
    if before is None:
        return True
    return all(message_words(seen.message) == message_words(after.seen.get(key, Seen()).message)
               for key, seen in before.seen.items() if seen.message is not None)


def checks_hold(before: Observed | None, after: Observed, unit: Unit) -> bool:
    """Whether the generator's assertions distillation keeps as written, and that held before, still hold:
    marshmallow's ``Range(max_inclusive=<275 characters>)`` shrunk to ``0`` changed ``message_max``, which
    Pynguin's own check repeats; the file then failed its rerun and the unit went back to the long text."""
    if before is None:
        return True
    return all(after.seen.get(str(i), Seen()).held is not False for i in kept_as_written(unit.body, after.seen)
               if before.seen.get(str(i), Seen()).held)
