"""Shared test fixtures: a temporary store and the path to ../shared."""

from __future__ import annotations

import os
import shutil
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


# Debian's Chromium (`make browser`), never a downloaded build. Without the background-
# networking flags Chromium tries to reach Google's hosts, which this machine refuses.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.fixture
def chromium() -> str:
    """Path of the Chromium executable for Playwright (launch with ``CHROMIUM_FLAGS``);
    fails under CI when it is missing, skips elsewhere."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe:
        return exe
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed; `make browser` installs Debian's package")
    pytest.skip("chromium not installed (Debian package 'chromium'); CI installs it")
