"""``aiwebtest``, the console entry point: the window by default, every other command from ``app.cli``.

It sits above both: ``app`` never imports the GUI, so the command line
is composed here, where the GUI is known, and handed the function that
starts it. Qt is imported only when the window is wanted.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from app import cli
from app.config import Config


def _run_gui(config: Config, *, smoke: bool, screenshots: Path | None) -> int:
    from ui.gui_app import run_gui

    return run_gui(config, smoke=smoke, screenshots=screenshots)


def main(argv: Sequence[str] | None = None) -> int:
    return cli.main(argv, gui=_run_gui)


if __name__ == "__main__":
    sys.exit(main())
