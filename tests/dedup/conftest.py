"""Fixtures for the dedup tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def ncbi_pubmed(fixtures: Path) -> Path:
    """ncbiutils/pubmed.xml: 5 efetch records (PMIDs 35196497, 33278872, 24792780,
    30158200, 151222); 30158200 is also in ncbiutils/markup.xml (SOURCES.md)."""
    return fixtures / "ncbiutils" / "pubmed.xml"
