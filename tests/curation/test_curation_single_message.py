"""A non-numeric cell in a whole-number column is one problem, named by row and column."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from registry.config import REVIEWS_DIR
from registry.curation import add_trial
from registry.errors import ValidationFailed
from registry.store import Store


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
