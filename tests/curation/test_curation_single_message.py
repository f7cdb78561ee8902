"""A non-numeric cell in a whole-number column is one problem, named by row and column."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from registry.curation import add_trial
from registry.errors import ValidationFailed
from registry.store import Store
from schemas.protocol import REVIEWS_DIR


def test_text_in_integer_column_is_one_problem(tmp_path: Path) -> None:
    sheets = tmp_path / "sheets"
    shutil.copytree(REVIEWS_DIR / "stroke-unit-los" / "extraction", sheets)
    out = pd.read_csv(sheets / "outcomes.csv", dtype=str, keep_default_na=False)
    out.loc[0, "n"] = "abc"
    out.to_csv(sheets / "outcomes.csv", index=False)
    with Store(tmp_path / "r.duckdb") as store, pytest.raises(ValidationFailed) as exc:
        add_trial(store, sheets, "stroke-unit-los")
    assert exc.value.problems == [
        f"{sheets}/outcomes.csv: row 2, column n, value 'abc': must be a number"
    ]


def test_published_result_outside_the_protocol_is_flagged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from registry.curation import load_review

    reviews = tmp_path / "reviews"
    shutil.copytree(REVIEWS_DIR / "msc-cirrhosis", reviews / "msc-cirrhosis")
    monkeypatch.setenv("REGISTRY_REVIEWS", str(reviews))
    f = reviews / "msc-cirrhosis" / "published_results.csv"
    pub = pd.read_csv(f, dtype=str, keep_default_na=False)
    pub.loc[0, "outcome"] = "mortality"
    pub.loc[1, "time_point"] = "zzz"
    pub.to_csv(f, index=False)
    with Store(tmp_path / "r.duckdb") as store:
        summary = load_review(store, "msc-cirrhosis")
    flagged = [w for w in summary.warnings if "not a protocol" in w]
    assert flagged == [
        f"published result {pub.loc[0, 'result_id']}: outcome 'mortality' is not a protocol "
        "outcome",
        f"published result {pub.loc[1, 'result_id']}: time point 'zzz' is not a protocol "
        "time point",
    ]
