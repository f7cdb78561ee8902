"""CSV cells that would run as formulas are neutralised (OWASP "CSV Injection")."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from registry.csvout import restore_cell, safe_cell, safe_frame, write_csv

# The six formula starts listed by OWASP's CSV Injection page.
HOSTILE = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=x", "\r=x"]


@pytest.mark.parametrize("text", HOSTILE)
def test_formula_cells_get_a_quote_and_come_back(text: str) -> None:
    assert safe_cell(text) == "'" + text
    assert restore_cell(safe_cell(text)) == text


@pytest.mark.parametrize("value", ["Title", "", "'quoted", 1.5, -2, None])
def test_plain_cells_unchanged(value: object) -> None:
    assert safe_cell(value) == value
    assert restore_cell(value) == value


def test_write_csv_and_frame(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    assert write_csv(path, ["title", "n"], [["=HYPERLINK(1)", -3], ["ok", 2]]) == 2
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert rows == [["title", "n"], ["'=HYPERLINK(1)", "-3"], ["ok", "2"]]
    df = safe_frame(pd.DataFrame({"t": ["@x", "y"], "v": [-1.0, 2.0]}))
    assert df["t"].tolist() == ["'@x", "y"] and df["v"].tolist() == [-1.0, 2.0]
