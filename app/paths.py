"""Where the app keeps its data and where its bundled files live.

The bundled-file lookup covers a source checkout, an editable install and a
PyInstaller bundle (``sys._MEIPASS``), which is why it is not a plain
``Path(__file__)`` join at each call site.
"""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs

APP_NAME = "aiwebtest"


def default_data_dir() -> Path:
    """The platform's user data dir (``~/.local/share/aiwebtest`` on Linux)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def bundle_root() -> Path:
    """The folder that holds ``migrations/`` and ``resources/``."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen)
    return Path(__file__).resolve().parent.parent


def migrations_dir() -> Path:
    return bundle_root() / "migrations"


def resources_dir() -> Path:
    return bundle_root() / "resources"
