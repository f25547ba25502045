"""Tool output made fit to show a person: no terminal colours, no box drawing, one line.

Pynguin prints through rich: its errors arrive framed in box-drawing
characters and ANSI colour codes, which turned the reason a run failed into
noise in the GUI's log and result (issue 14). Every message built from a
tool's stderr goes through ``clean``.
"""

from __future__ import annotations

import re

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")
# Box drawing, block elements and geometric shapes rich uses for frames, bars and bullets.
_FRAMES = re.compile(r"[\u2500-\u259f\u25a0-\u25ff\u2800-\u28ff]+")


def clean(text: str, limit: int = 600) -> str:
    """``text`` without escape codes or frame characters, whitespace collapsed, cut at ``limit``."""
    text = _ANSI.sub("", text)
    text = _FRAMES.sub(" ", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
