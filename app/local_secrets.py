"""Secrets made on this machine and kept in files only their owner can read.

The API token and the embedded servers' passwords are made on first use
and stay in the data dir (mode 0600), so the GUI, the CLI and workers on
this machine find them without anyone typing them, and no other local
user can read them.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from engine.errors import ConfigError


def ensure_secret(path: Path) -> str:
    """The secret in ``path``, made on first use (mode 0600; folder made 0700)."""
    existing = read_secret(path)
    if existing:
        return existing
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(32) + "\n")
    try:
        # link() never replaces: two processes starting at once agree on the first secret.
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink(missing_ok=True)
    value = read_secret(path)
    if not value:
        raise ConfigError(f"The secret file {path} is empty; delete it and start again.")
    return value


def read_secret(path: Path) -> str | None:
    """The stored secret, or None when there is none yet.

    A secret file others can read is no secret; its mode is put right.
    """
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return None
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return text or None
