"""Fixtures for report tests: a registry holding one bundled example review."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from schemas.protocol import REVIEWS_DIR


@pytest.fixture
def reviews(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the bundled review folders (tests may edit them)."""
    dst = tmp_path / "reviews"
    shutil.copytree(REVIEWS_DIR, dst)
    monkeypatch.setenv("REGISTRY_REVIEWS", str(dst))
    return dst


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Path]:
    """Path of a fresh registry database."""
    yield tmp_path / "registry.duckdb"
