"""Fixtures of the figure tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from figure_inputs import load_bcg


@pytest.fixture
def bcg(shared: Path) -> dict:
    """metafor's BCG reference results (RR) with the trial labels of the example data set."""
    return load_bcg(shared)
