"""Fixtures for screening tests (helpers live in screening_helpers.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .screening_helpers import run_search, write_protocol


@pytest.fixture
def reviews(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A reviews folder holding the single-review protocol of ``REVIEW``."""
    root = tmp_path / "reviews"
    write_protocol(root)
    monkeypatch.setenv("REGISTRY_REVIEWS", str(root))
    monkeypatch.setenv("REGISTRY_CURATOR", "tester")
    return root


@pytest.fixture
def dual_reviews(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A reviews folder whose ``REVIEW`` protocol asks for dual review."""
    root = tmp_path / "reviews"
    write_protocol(root, dual=True)
    monkeypatch.setenv("REGISTRY_REVIEWS", str(root))
    monkeypatch.setenv("REGISTRY_CURATOR", "tester")
    return root


@pytest.fixture
def search() -> Callable[..., dict[str, int]]:
    """``search(store, records, review=..., source=...)`` -> {source_id: record_id}."""
    return run_search
