"""Shared test fixtures: a temporary store and the path to ../shared."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry.store import Store

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("REGISTRY_SHARED", REPO.parent / "shared"))
FIXTURES = SHARED / "fixtures" / "pubmed"


@pytest.fixture
def shared() -> Path:
    """The read-only ../shared folder (fails loudly if it is missing)."""
    assert SHARED.is_dir(), f"../shared not found at {SHARED} (set REGISTRY_SHARED)"
    return SHARED


@pytest.fixture
def fixtures() -> Path:
    """../shared/fixtures/pubmed."""
    assert FIXTURES.is_dir(), f"PubMed fixtures not found at {FIXTURES}"
    return FIXTURES


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh, migrated registry in a temporary folder."""
    s = Store(tmp_path / "registry.duckdb")
    try:
        yield s
    finally:
        s.close()
