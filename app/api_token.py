"""The local API's secret token: made once, kept in the data dir for the user only.

The GUI, ``serve``, the CLI and workers on this machine read it from the
data dir, so nobody types it; ``aiwebtest api-token`` prints it for curl
and scripts. ``AIWEBTEST_API_TOKEN`` overrides the file (a worker on another
machine, or a team that sets one token everywhere).
"""

from __future__ import annotations

from pathlib import Path

from app.local_secrets import ensure_secret, read_secret

TOKEN_FILE = "api-token"


def token_path(data_dir: Path) -> Path:
    return data_dir / TOKEN_FILE


def ensure_token(data_dir: Path) -> str:
    """The API token, made on first use (mode 0600 in the data dir)."""
    return ensure_secret(token_path(data_dir))


def read_token(data_dir: Path) -> str | None:
    return read_secret(token_path(data_dir))
