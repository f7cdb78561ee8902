"""Where things are: the database, the bundled reviews, the shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DB = "registry.duckdb"
REPO_ROOT = Path(__file__).resolve().parent.parent
REVIEWS_DIR = REPO_ROOT / "data" / "reviews"


def db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Resolve the database path: ``--db`` first, then ``REGISTRY_DB``, then ./registry.duckdb."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("REGISTRY_DB")
    if env:
        return Path(env)
    return Path.cwd() / DEFAULT_DB


def reviews_dir() -> Path:
    """Folder holding one sub-folder per review: ``REGISTRY_REVIEWS``, else ``data/reviews``
    in the working directory when there is one (a team's own checkout), else the bundled one."""
    env = os.environ.get("REGISTRY_REVIEWS")
    if env:
        return Path(env)
    local = Path.cwd() / "data" / "reviews"
    return local if local.is_dir() else REVIEWS_DIR


def curator() -> str:
    """Who is making a change: ``REGISTRY_CURATOR``, else git's user.name, else the OS user."""
    who = os.environ.get("REGISTRY_CURATOR")
    if who:
        return who
    try:
        import subprocess

        out = subprocess.run(
            ["git", "config", "user.name"], capture_output=True, text=True, timeout=5
        ).stdout.strip()
        if out:
            return out
    except (OSError, subprocess.SubprocessError):
        pass
    return os.environ.get("USER", "unknown")
