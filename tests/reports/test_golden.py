"""Golden test: the Markdown report of a small fixed registry, byte for byte.

The fixed registry is a frozen copy of the stroke-unit example (Normand 1999, 9 trials) under
tests/reports/data/. Its pooled numbers come from the pooling engine, whose DL fit on these
data is checked against metafor in tests/pooling (normand1999_MD.json: estimate -13.9817,
CI [-24.0299, -3.9336], tau2 205.4094, I2 96.65%). Regenerate after an intended change with
``REGISTRY_UPDATE_GOLDEN=1 pytest tests/reports/test_golden.py`` and review the diff.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from registry.curation import load_review
from registry.store import Store
from reports.assemble import build_report
from reports.render import render_markdown

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden" / "stroke-unit-los.md"
FIXED_NOW = dt.datetime(2026, 1, 15, 9, 30, tzinfo=dt.UTC)


def test_markdown_matches_golden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_REVIEWS", str(HERE / "data" / "reviews"))
    with Store(tmp_path / "r.duckdb") as store:
        load_review(store, "stroke-unit-los")
        built = build_report(store, "stroke-unit-los", now=FIXED_NOW)
    md = render_markdown(built.report)
    assert "MD -13.98 [-24.03, -3.93]" in md  # metafor DL on normand1999 (see docstring)
    if os.environ.get("REGISTRY_UPDATE_GOLDEN"):
        GOLDEN.write_text(md, encoding="utf-8")
    assert GOLDEN.is_file(), "golden file missing: run with REGISTRY_UPDATE_GOLDEN=1"
    assert md == GOLDEN.read_text(encoding="utf-8")
