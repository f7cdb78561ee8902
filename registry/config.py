"""Where things are: the database, the bundled reviews, the shared fixtures.

The store imports this module to find its file, so it imports nothing heavy and nothing
from a layer above the store: the review folders (``REPO_ROOT``, ``REVIEWS_DIR``,
``reviews_dir``) belong to the protocol loader in ``schemas.protocol`` and are re-exported
here on first use only.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

DEFAULT_DB = "registry.duckdb"
_FROM_PROTOCOL = ("REPO_ROOT", "REVIEWS_DIR", "reviews_dir")
__all__ = ["DEFAULT_DB", "curator", "db_path", *_FROM_PROTOCOL]


def __getattr__(name: str) -> Any:
    """Resolve the review-folder names re-exported from ``schemas.protocol`` (PEP 562)."""
    if name in _FROM_PROTOCOL:
        # lazy: opening the store (which needs db_path only) must not load the protocol
        # module and its YAML parser (start-up time, issue 11)
        from schemas import protocol

        return getattr(protocol, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
