"""Where the database is and who is working: a leaf module every layer may import.

(The review folders are found by ``schemas.protocol.reviews_dir``.)
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

DEFAULT_DB = "registry.duckdb"


def db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Resolve the database path: ``--db`` first, then ``REGISTRY_DB``, then ./registry.duckdb."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("REGISTRY_DB")
    if env:
        return Path(env)
    return Path.cwd() / DEFAULT_DB


def curator() -> str:
    """Who is making a change: ``REGISTRY_CURATOR``, else git's user.name, else the OS user."""
    who = os.environ.get("REGISTRY_CURATOR")
    if who:
        return who
    try:
        out = subprocess.run(
            ["git", "config", "user.name"], capture_output=True, text=True, timeout=5
        ).stdout.strip()
        if out:
            return out
    except (OSError, subprocess.SubprocessError):
        pass
    return os.environ.get("USER", "unknown")
