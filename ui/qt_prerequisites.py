"""System libraries Qt's xcb platform plugin needs, checked before Qt tries to load it.

Without them Qt prints "Could not load the Qt platform plugin xcb" and
aborts the process; on a fresh Debian the usual gap is libxcb-cursor0.
Checking first lets us name the Debian packages to install instead.
Offscreen and Wayland runs need none of these.
"""

from __future__ import annotations

import ctypes.util
import os
import sys
from collections.abc import Callable

# library name as ctypes.util.find_library takes it -> the Debian package that ships it
XCB_LIBRARIES: dict[str, str] = {
    "xcb-cursor": "libxcb-cursor0",
    "xcb-icccm": "libxcb-icccm4",
    "xcb-keysyms": "libxcb-keysyms1",
    "xcb-image": "libxcb-image0",
    "xcb-randr": "libxcb-randr0",
    "xcb-render-util": "libxcb-render-util0",
    "xcb-shape": "libxcb-shape0",
    "xkbcommon-x11": "libxkbcommon-x11-0",
    "GL": "libgl1",
    "EGL": "libegl1",
    "fontconfig": "libfontconfig1",
}


def uses_xcb(environ: dict[str, str] | None = None) -> bool:
    """True when Qt will pick the xcb plugin: Linux, an X display, no other platform asked for."""
    env = os.environ if environ is None else environ
    if not sys.platform.startswith("linux"):
        return False
    platform = env.get("QT_QPA_PLATFORM", "")
    if platform:
        return platform.startswith("xcb")
    return bool(env.get("DISPLAY")) and not env.get("WAYLAND_DISPLAY")


def missing_packages(find: Callable[[str], str | None] = ctypes.util.find_library) -> list[str]:
    """Debian packages whose libraries the xcb plugin needs and this system lacks."""
    return [package for library, package in XCB_LIBRARIES.items() if not find(library)]


def missing_message(packages: list[str]) -> str:
    return ("aiwebtest: the window cannot open: Qt's X11 (xcb) support needs system libraries that are "
            f"missing: {', '.join(packages)}.\n"
            f"  Install them with: sudo apt-get install {' '.join(packages)}\n"
            "  ('make setup' does this when run as root.) Without a window, 'aiwebtest serve' runs everything else.")
