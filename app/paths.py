"""Where the app keeps its data and where its bundled files live.

The bundled-file lookup covers a source checkout, an editable install and a
PyInstaller bundle (``sys._MEIPASS``), which is why it is not a plain
``Path(__file__)`` join at each call site.
"""

from __future__ import annotations

import site
import sys
import sysconfig
from pathlib import Path

import platformdirs

APP_NAME = "aiwebtest"


def default_data_dir() -> Path:
    """The platform's user data dir (``~/.local/share/aiwebtest`` on Linux)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def bundle_root() -> Path:
    """The folder that holds ``migrations/`` and ``resources/``: the PyInstaller bundle, the source
    checkout (also behind an editable install), or ``<prefix>/share/aiwebtest`` of an installed wheel
    (``pip install .``, ``pip install --user``)."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen)
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "migrations").is_dir():
        return checkout
    for prefix in (sys.prefix, site.getuserbase(), sysconfig.get_path("data")):
        installed = Path(prefix) / "share" / APP_NAME
        if (installed / "migrations").is_dir():
            return installed
    return checkout  # nothing found: the callers' messages name this folder


def migrations_dir() -> Path:
    return bundle_root() / "migrations"


def resources_dir() -> Path:
    return bundle_root() / "resources"
