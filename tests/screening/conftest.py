"""Fixtures for screening tests (helpers live in screening_helpers.py)."""

from __future__ import annotations

import csv
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


@pytest.fixture
def labelled(shared: Path, tmp_path: Path) -> Path:
    """A small real labelled set: the first 240 rows of the shared virus set (12 includes).

    Tests use a subsample; full-size simulations belong in bench/bench_screening.py.
    """
    source = shared / "screening" / "kwok2020_virus.csv"
    with source.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out = tmp_path / "labelled.csv"
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows[:240])
    return out
