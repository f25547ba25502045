"""The formats a docstring shows with placeholders, filled in: inputs its author described but never wrote out.

isodate's ``parse_duration`` lists ``-PnnW``, ``-PYYYY-MM-DDThh:mm:ss`` and four more, and shows no
example of any. A search reaches the alternative format (``P2003-02-01T04:05:06``) by luck only;
a person reading the docstring writes it at once. Read from the text only.
"""

from __future__ import annotations

import re

_MAX_FORMATS = 8  # per docstring
# Runs of two or more of Y M D h m s n among designator capitals and separators (``PnnW``, ``+-hh:mm``).
_TEMPLATE = re.compile(r"(?<!\S)[-+]*((?:[A-Z]|Y{2,}|M{2,}|D{2,}|h{2,}|m{2,}|s{2,}|n{2,}|[-:.,])+)(?!\S)")
_PLACEHOLDER = re.compile(r"Y{2,}|M{2,}|D{2,}|h{2,}|m{2,}|s{2,}|n{2,}")
_FILL = {"Y": "002003", "M": "02", "D": "0032", "h": "04", "m": "05", "s": "06"}  # 2003-02-01T04:05:06


def _filled(template: str) -> str:
    """The template with each placeholder a value (``PYYYY-MM-DDThh:mm:ss`` -> ``P2003-02-01T04:05:06``)."""
    def value(m: re.Match[str]) -> str:
        run = m.group(0)
        if run[0] == "n":
            return "3"
        if run[0] == "D" and len(run) == 2:
            return "01"
        return _FILL[run[0]][-len(run):].rjust(len(run), "0")
    return _PLACEHOLDER.sub(value, template.replace("TZD", "Z"))


def _is_format(text: str) -> bool:
    """Two parts at least, one a placeholder: ``PnnW``, ``hh:mm``; not a lone ``MM`` or ``nn`` in a sentence."""
    placeholders = len(_PLACEHOLDER.findall(text))
    return placeholders > 0 and placeholders + len(re.findall(r"[A-Z]", _PLACEHOLDER.sub("", text))) >= 2


def formats_shown(doc: str) -> list[str]:
    """Each format ``doc`` shows, filled in, bare and with a leading ``-`` (a list's dash or a sign: both)."""
    found = [t for m in _TEMPLATE.finditer(doc) if _is_format(t := m.group(1).rstrip(".,:"))]
    return list(dict.fromkeys(t for f in found[:_MAX_FORMATS] for t in (_filled(f), "-" + _filled(f))))
