"""The local API's secret token: made once, kept in the data dir for the user only.

The GUI, ``serve``, the CLI and workers on this machine read it from the
data dir, so nobody types it; ``aiwebtest api-token`` prints it for curl
and scripts. ``AIWEBTEST_API_TOKEN`` overrides the file (a worker on another
machine, or a team that sets one token everywhere).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from app.errors import ConfigError

TOKEN_FILE = "api-token"


def token_path(data_dir: Path) -> Path:
    return data_dir / TOKEN_FILE


def ensure_token(data_dir: Path) -> str:
    """The API token, made on first use (mode 0600 in the data dir)."""
    existing = read_token(data_dir)
    if existing:
        return existing
    data_dir.mkdir(parents=True, exist_ok=True)
    path = token_path(data_dir)
    draft = path.with_name(f".{TOKEN_FILE}.{os.getpid()}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(32) + "\n")
    try:
        # link() never replaces: two processes starting at once agree on the first token.
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink(missing_ok=True)
    token = read_token(data_dir)
    if not token:
        raise ConfigError(f"The API token file {path} is empty; delete it and start again.")
    return token


def read_token(data_dir: Path) -> str | None:
    """The stored token, or None when there is none yet.

    A token file others can read is no secret; its mode is put right.
    """
    path = token_path(data_dir)
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return None
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return text or None


