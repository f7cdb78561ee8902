"""Fixtures for the pooling tests: the reference cases, discovered at collection time."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def _shared_dir(config: pytest.Config) -> Path:
    """The folder the root conftest's ``shared`` fixture returns (same rule, read from it)."""
    for plugin in config.pluginmanager.get_plugins():
        shared = getattr(plugin, "SHARED", None)
        if isinstance(shared, Path):
            return shared
    repo = Path(__file__).resolve().parents[2]
    return Path(os.environ.get("REGISTRY_SHARED", repo.parent / "shared"))


def reference_names(config: pytest.Config) -> list[str]:
    """File names of every metafor reference case."""
    folder = _shared_dir(config) / "reference" / "metafor"
    return sorted(p.name for p in folder.glob("*.json"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise ``reference_name`` over every file of the reference folder."""
    if "reference_name" in metafunc.fixturenames:
        names = reference_names(metafunc.config)
        metafunc.parametrize("reference_name", names or ["<no reference files found>"])


@pytest.fixture
def reference_dir(shared: Path) -> Path:
    """../shared/reference/metafor."""
    return shared / "reference" / "metafor"


@pytest.fixture
def case_table():
    """Turn a reference case's ``input`` into a study table (labels '1', '2', ... = rows)."""
    import pandas as pd

    def make(case: dict) -> pd.DataFrame:
        inp = case["input"]
        k = len(next(iter(inp.values())))
        table = pd.DataFrame(
            {c: [float("nan") if x is None else float(x) for x in vals] for c, vals in inp.items()}
        )
        table.insert(0, "study", [str(i + 1) for i in range(k)])
        return table

    return make
