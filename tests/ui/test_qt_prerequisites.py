"""The xcb libraries check names the Debian packages instead of letting Qt abort."""

from __future__ import annotations

import os

import pytest

from ui.qt_prerequisites import XCB_LIBRARIES, missing_message, missing_packages, uses_xcb


def test_missing_libraries_name_their_packages() -> None:
    present = set(XCB_LIBRARIES) - {"xcb-cursor", "xcb-keysyms"}
    missing = missing_packages(lambda name: f"lib{name}.so" if name in present else None)
    assert missing == ["libxcb-cursor0", "libxcb-keysyms1"]
    text = missing_message(missing)
    assert "sudo apt-get install libxcb-cursor0 libxcb-keysyms1" in text


def test_nothing_missing_on_a_complete_system() -> None:
    assert missing_packages(lambda name: f"lib{name}.so") == []


def test_only_x11_runs_need_them() -> None:
    assert uses_xcb({"DISPLAY": ":0"})
    assert not uses_xcb({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"})
    assert not uses_xcb({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"})
    assert uses_xcb({"QT_QPA_PLATFORM": "xcb"})
    assert not uses_xcb({})


@pytest.mark.skipif(os.geteuid() != 0, reason="only 'make setup' as root installs them; as a user it names them")
def test_this_machine_has_them() -> None:
    """make setup installs them (as root); the real-window tests depend on it."""
    assert missing_packages() == [], missing_message(missing_packages())
