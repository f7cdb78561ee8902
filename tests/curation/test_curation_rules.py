"""One broken sheet per validation rule: rejected with the right row and column, a non-zero
exit code, and the registry exactly as it was (dump before == dump after)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from registry.cli import app
from registry.curation import add_trial, load_review
from registry.errors import ValidationFailed
from registry.store import Store

from .conftest import write_review
from .helpers import copy_row, drop_column, rename_column, set_cell

SRC = "https://doi.org/10.1000/xyz123"

# (case id, mutation of the incoming folder, sheet file, spreadsheet row, column, rule text)
Mutation = Callable[[Path], None]
CASES: list[tuple[str, Mutation, str, int | None, str, str]] = [
    ("duplicate study id", lambda f: copy_row(f, "studies", 2), "studies.csv", 4, "study_id",
     "study_id must be unique"),
    ("study id form", lambda f: set_cell(f, "studies", 3, "study_id", "Beta 2012!"),
     "studies.csv", 3, "study_id", "id may hold only"),
    ("arm refers to unknown study", lambda f: set_cell(f, "arms", 5, "study_id", "Gamma2020"),
     "arms.csv", 5, "study_id", "not in the studies sheet"),
    ("duplicate arm", lambda f: copy_row(f, "arms", 2), "arms.csv", 6, "arm_id",
     "arm_id must be unique within its study"),
    ("role enumeration", lambda f: set_cell(f, "arms", 3, "role", "placebo"), "arms.csv", 3,
     "role", "role must be one of"),
    ("n randomised > 0", lambda f: set_cell(f, "arms", 4, "n_randomised", "0"), "arms.csv", 4,
     "n_randomised", "n must be > 0"),
    ("n analysed <= n randomised", lambda f: set_cell(f, "arms", 2, "n_analysed", "28"),
     "arms.csv", 2, "n_analysed", "n_analysed must be <= n_randomised"),
    ("n not a number", lambda f: set_cell(f, "arms", 2, "n_randomised", "twenty"), "arms.csv",
     2, "n_randomised", "must be a number"),
    ("n whole number", lambda f: set_cell(f, "arms", 2, "n_randomised", "20.5"), "arms.csv", 2,
     "n_randomised", "must be a whole number"),
    ("outcome arm resolves", lambda f: set_cell(f, "outcomes", 3, "arm_id", "placebo"),
     "outcomes.csv", 3, "arm_id", "not an arm of this study"),
    ("outcome known to protocol", lambda f: set_cell(f, "outcomes", 2, "outcome", "meld"),
     "outcomes.csv", 2, "outcome", "outcome (protocol outcomes) must be one of"),
    ("unit known for the outcome", lambda f: set_cell(f, "outcomes", 6, "unit", "mg/dL"),
     "outcomes.csv", 6, "unit", "unit not accepted for this outcome"),
    # albumin 34 given as g/dL is 340 g/L after the protocol's factor 10: outside [10, 60]
    ("plausible range after conversion", lambda f: set_cell(f, "outcomes", 6, "mean", "34"),
     "outcomes.csv", 6, "mean", "outside the outcome's plausible range"),
    ("time weeks >= 0", lambda f: set_cell(f, "outcomes", 2, "time_weeks", "-4"),
     "outcomes.csv", 2, "time_weeks", "time_weeks must be >= 0"),
    ("SD > 0", lambda f: set_cell(f, "outcomes", 3, "sd", "0"), "outcomes.csv", 3, "sd",
     "SD must be > 0"),
    ("SE > 0", lambda f: set_cell(f, "outcomes", 4, "se", "-0.5"), "outcomes.csv", 4, "se",
     "SE must be > 0"),
    ("usable dispersion", lambda f: set_cell(f, "outcomes", 5, "sd", ""), "outcomes.csv", 5,
     "sd", "no usable value"),
    ("events <= total", lambda f: set_cell(f, "outcomes", 9, "events", "21"), "outcomes.csv",
     9, "events", "events must be <= total"),
    ("n <= arm size", lambda f: set_cell(f, "outcomes", 2, "n", "25"), "outcomes.csv", 2, "n",
     "n must be <= the arm's n_randomised"),
    ("CI ordered", lambda f: (set_cell(f, "outcomes", 2, "ci_lower", "14"),
                              set_cell(f, "outcomes", 2, "ci_upper", "11")),
     "outcomes.csv", 2, "ci_upper", "ci_upper must be > ci_lower"),
    ("median inside IQR", lambda f: (set_cell(f, "outcomes", 3, "median", "20"),
                                     set_cell(f, "outcomes", 3, "q1", "10"),
                                     set_cell(f, "outcomes", 3, "q3", "15")),
     "outcomes.csv", 3, "median", "median must lie between q1 and q3"),
    ("value type enumeration", lambda f: set_cell(f, "outcomes", 2, "value_type", "baseline"),
     "outcomes.csv", 2, "value_type", "value_type must be one of"),
    ("duplicate outcome row", lambda f: copy_row(f, "outcomes", 2, mean="12.6"),
     "outcomes.csv", 10, "time_point", "duplicate row"),
    ("required key filled", lambda f: set_cell(f, "outcomes", 2, "outcome", ""),
     "outcomes.csv", 2, "outcome", "required value is empty"),
    ("number needs a source", lambda f: set_cell(f, "outcomes", 2, "source", ""),
     "outcomes.csv", 2, "mean", "value has no source"),
    ("source form", lambda f: set_cell(f, "outcomes", 2, "source", "Table 3 of the paper"),
     "outcomes.csv", 2, "source", "source must be a DOI"),
    ("text row needs a source", lambda f: set_cell(f, "risk_of_bias", 2, "source", ""),
     "risk_of_bias.csv", 2, "source", "row has values but no source"),
    ("RoB tool", lambda f: set_cell(f, "risk_of_bias", 2, "tool", "RoB3"),
     "risk_of_bias.csv", 2, "tool", "tool must be one of"),
    ("RoB domain of the tool", lambda f: set_cell(f, "risk_of_bias", 3, "domain", "blinding"),
     "risk_of_bias.csv", 3, "domain", "domain is not a domain of the tool"),
    ("RoB judgement of the tool",
     lambda f: set_cell(f, "risk_of_bias", 4, "judgement", "some_concerns"),
     "risk_of_bias.csv", 4, "judgement", "judgement not allowed for the tool"),
    ("DOI form", lambda f: set_cell(f, "studies", 2, "doi", "https://doi.org/10.1000/alpha"),
     "studies.csv", 2, "doi", "DOI must look like"),
    ("PMID form", lambda f: set_cell(f, "studies", 2, "pmid", "PMID12345"), "studies.csv", 2,
     "pmid", "PMID must be digits"),
    ("NCT form", lambda f: set_cell(f, "studies", 2, "registration", "NCT123"), "studies.csv",
     2, "registration", "NCT followed by 8 digits"),
    ("design enumeration", lambda f: set_cell(f, "studies", 3, "design_assessed", "random"),
     "studies.csv", 3, "design_assessed", "design_assessed must be one of"),
    ("characteristic level", lambda f: set_cell(f, "studies", 2, "route", "oral2"),
     "studies.csv", 2, "route", "route must be one of"),
    ("characteristic number", lambda f: set_cell(f, "studies", 2, "dose_per_kg", "lots"),
     "studies.csv", 2, "dose_per_kg", "must be a number"),
    # protocol: dose_per_kg plausible in [0.01, 100] mg/kg; 500 is a power-of-ten slip
    ("characteristic range", lambda f: set_cell(f, "studies", 3, "dose_per_kg", "500"),
     "studies.csv", 3, "dose_per_kg", "outside the protocol's plausible range [0.01, 100]"),
    ("both arm roles", lambda f: set_cell(f, "arms", 5, "role", "experimental"),
     "studies.csv", 3, "study_id", "not both an experimental and a control arm"),
    ("AE count <= arm size", lambda f: set_cell(f, "adverse_events", 2, "count", "21"),
     "adverse_events.csv", 2, "count", "count must be <= the arm's n_randomised"),
    ("AE count >= 0", lambda f: set_cell(f, "adverse_events", 2, "count", "-1"),
     "adverse_events.csv", 2, "count", "count must be >= 0"),
    ("AE serious boolean", lambda f: set_cell(f, "adverse_events", 2, "serious", "maybe"),
     "adverse_events.csv", 2, "serious", "must be true or false"),
    ("AE arm resolves", lambda f: set_cell(f, "adverse_events", 2, "arm_id", "x"),
     "adverse_events.csv", 2, "arm_id", "not an arm of this study"),
    ("unknown column", lambda f: rename_column(f, "arms", "n_randomised", "n_randomized"),
     "arms.csv", None, "n_randomized", "unknown column"),
    ("required column", lambda f: drop_column(f, "arms", "role"), "arms.csv", None, "role",
     "required column is missing"),
]  # fmt: skip


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(reviews folder, registry file with the mini review loaded), built once per module."""
    root = tmp_path_factory.mktemp("rules")
    write_review(root / "reviews")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REGISTRY_REVIEWS", str(root / "reviews"))
        mp.setenv("REGISTRY_CURATOR", "tester")
        with Store(root / "base.duckdb") as s:
            load_review(s, "mini")  # a registry with content: "unchanged" means something
        yield root / "reviews", root / "base.duckdb"


@pytest.mark.parametrize(
    ("mutate", "file", "row", "column", "rule"),
    [pytest.param(*c[1:], id=c[0]) for c in CASES],
)
def test_broken_sheet_rejected(
    baseline: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mutate: Mutation,
    file: str,
    row: int | None,
    column: str,
    rule: str,
) -> None:
    reviews, base = baseline
    monkeypatch.setenv("REGISTRY_REVIEWS", str(reviews))
    dbfile = tmp_path / "rules.duckdb"
    shutil.copy(base, dbfile)
    sheet_copy = tmp_path / "incoming"
    shutil.copytree(reviews / "mini" / "extraction", sheet_copy)
    with Store(dbfile) as s:
        before = s.dump()
    assert before["cur_studies"], "the baseline registry holds the mini review"
    mutate(sheet_copy)
    result = CliRunner().invoke(
        app, ["--db", str(dbfile), "add-trial", str(sheet_copy), "--review", "mini"]
    )
    assert result.exit_code == 3, result.output
    where = f"row {row}" if row is not None else "header"
    expected = f"{sheet_copy / file}: {where}, column {column}"
    lines = [ln for ln in result.output.splitlines() if expected in ln and rule in ln]
    assert lines, f"expected '{expected} ... {rule}' in:\n{result.output}"
    with Store(dbfile) as s:
        assert s.dump() == before


def test_every_problem_of_every_sheet_at_once(mini: Path, sheet_copy: Path, db: Store) -> None:
    set_cell(sheet_copy, "studies", 2, "doi", "doi:10.1000/alpha")
    set_cell(sheet_copy, "arms", 3, "n_analysed", "25")
    set_cell(sheet_copy, "outcomes", 4, "se", "0")
    set_cell(sheet_copy, "outcomes", 8, "unit", "mg")  # dichotomous: unit is not checked
    set_cell(sheet_copy, "risk_of_bias", 2, "judgement", "moderate")
    before = db.dump()
    with pytest.raises(ValidationFailed) as err:
        add_trial(db, sheet_copy, "mini")
    got = {(p.split(": ")[0].rsplit("/", 1)[1], p.split(": ")[1]) for p in err.value.problems}
    assert got == {
        ("studies.csv", "row 2, column doi, value 'doi:10.1000/alpha'"),
        ("arms.csv", "row 3, column n_analysed, value '25'"),
        ("outcomes.csv", "row 4, column se, value '0'"),
        ("risk_of_bias.csv", "row 2, column judgement, value 'moderate'"),
    }
    assert db.dump() == before


def test_value_source_column_stands_in_for_the_row_source(sheet_copy: Path, db: Store) -> None:
    # row 2 has no row source but its numbers carry their own *_source: accepted
    set_cell(sheet_copy, "outcomes", 2, "source", "")
    for col in ("time_weeks", "unit", "n", "mean", "sd"):
        set_cell(sheet_copy, "outcomes", 2, f"{col}_source", SRC)
    summary = add_trial(db, sheet_copy, "mini")
    assert summary.inserted > 0


def test_unknown_companion_base_is_an_unknown_column(sheet_copy: Path, db: Store) -> None:
    set_cell(sheet_copy, "outcomes", 2, "colour_source", SRC)
    with pytest.raises(ValidationFailed) as err:
        add_trial(db, sheet_copy, "mini")
    assert any("column colour_source" in p and "unknown column" in p for p in err.value.problems)


def test_non_randomised_study_is_kept_and_flagged(sheet_copy: Path, db: Store) -> None:
    set_cell(sheet_copy, "studies", 3, "design_assessed", "nRCT")
    summary = add_trial(db, sheet_copy, "mini")
    assert "Beta2012" in summary.studies
    assert any("Beta2012" in w and "RCT-only" in w for w in summary.warnings)
    studies = db.curation_rows("mini", "studies")
    assert set(studies["study_id"]) == {"Alpha2010", "Beta2012"}


def test_workbook_errors_name_sheet_and_row(mini: Path, tmp_path: Path, db: Store) -> None:
    import pandas as pd

    book = tmp_path / "x.xlsx"
    with pd.ExcelWriter(book) as xw:
        for name in ("studies", "arms", "outcomes"):
            pd.read_csv(mini / "extraction" / f"{name}.csv", dtype=str).to_excel(
                xw, sheet_name=name, index=False
            )
    from openpyxl import load_workbook

    wb = load_workbook(book)
    ws = wb["arms"]
    ws["F3"] = 99  # n_analysed of spreadsheet row 3 (ctl arm of Alpha2010, n_randomised 20)
    assert ws["F1"].value == "n_analysed"
    wb.save(book)
    with pytest.raises(ValidationFailed) as err:
        add_trial(db, book, "mini")
    assert any(
        p.startswith(f"{book}[arms]: row 3, column n_analysed") for p in err.value.problems
    ), err.value.problems
    assert db.curation_rows("mini", "studies").empty


def test_add_trial_refers_to_stored_study(mini: Path, tmp_path: Path, db: Store) -> None:
    load_review(db, "mini")
    inc = tmp_path / "only_outcomes"
    inc.mkdir()
    (inc / "outcomes.csv").write_text(
        "study_id,arm_id,outcome,time_point,time_weeks,n,mean,sd,source,location\n"
        f"Alpha2010,trt,score,3 months,12,18,10.1,3.0,{SRC},Table 5\n"
        f"Alpha2010,ctl,score,3 months,12,19,13.9,3.4,{SRC},Table 5\n"
        f"Alpha2010,nope,score,3 months,12,19,13.9,3.4,{SRC},Table 5\n"
    )
    with pytest.raises(ValidationFailed) as err:
        add_trial(db, inc, "mini")
    assert len(err.value.problems) == 1 and "row 4, column arm_id" in err.value.problems[0]


def test_row_numbers_survive_blank_rows(sheet_copy: Path, db: Store) -> None:
    path = sheet_copy / "arms.csv"
    lines = path.read_text().splitlines()
    # spreadsheet rows: 1 header, 2-3 Alpha2010, 4 blank, 5 an all-empty row, 6-7 Beta2012
    lines[3:3] = ["", ",,,,,,,"]
    lines[5] = lines[5].replace(",30,30,", ",30,31,")  # Beta2012 trt: n_analysed 31 > 30
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValidationFailed) as err:
        add_trial(db, sheet_copy, "mini")
    assert [p.split(": ", 1)[1] for p in err.value.problems] == [
        "row 6, column n_analysed, value '31': n_analysed must be <= n_randomised"
    ]
