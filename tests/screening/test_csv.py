"""Export -> edit in a spreadsheet -> import, and bad files rejected whole, naming the row
(as the curator sees it: header = row 1) and the column, with the store unchanged."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from registry.cli import app
from registry.errors import InputError, ValidationFailed
from registry.screening import (
    EXPORT_COLUMNS,
    export_decisions_csv,
    import_decisions_csv,
    record_decision,
    screening_queue,
    screening_summary,
)
from registry.store import Store

from .screening_helpers import REVIEW, rec


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _write(path: Path, rows: list[dict[str, str]], columns=EXPORT_COLUMNS) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(columns))
        w.writeheader()
        w.writerows(rows)


def _three(store: Store, search) -> dict[str, int]:
    return search(
        store,
        [
            rec("11", "Randomized MSC trial in cirrhosis", doi="10.1/a", year=2016,
                journal="Hepatology", publication_types=["Randomized Controlled Trial"]),
            rec("12", "Mesenchymal cells review", year=2019),
            rec("13", "Unrelated cardiology paper", year=2020),
        ],
    )  # fmt: skip


def test_export_edit_import_round_trip(store: Store, reviews, search, tmp_path: Path) -> None:
    ids = _three(store, search)
    out = tmp_path / "queue.csv"
    assert export_decisions_csv(store, REVIEW, "title_abstract", out) == 3
    rows = _read(out)
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    first = rows[0]  # best score first: the RCT
    assert (first["source_id"], first["pmid"], first["doi"], first["year"]) == (
        "11",
        "11",
        "10.1/a",
        "2016",
    )
    assert (first["review"], first["stage"], first["reviewer"]) == (
        REVIEW,
        "title_abstract",
        "tester",
    )
    # The curator fills two rows and leaves one for later.
    by_sid = {r["source_id"]: r for r in rows}
    by_sid["11"]["decision"] = "include"
    by_sid["13"]["decision"] = "Exclude"  # spreadsheet capitalisation is accepted
    by_sid["13"]["note"] = 'said "no", 3 arms;\nsee p. 4 – Müller'  # CSV quoting survives
    _write(out, rows)
    result = import_decisions_csv(store, out)
    assert (result.added, result.unchanged, result.blank) == (2, 0, 1)
    assert [it.record["source_id"] for it in screening_queue(store, REVIEW)] == ["12"]
    # Export of everything shows the decisions back, exactly as entered.
    everything = tmp_path / "all.csv"
    export_decisions_csv(store, REVIEW, "title_abstract", everything, include_all=True)
    got = {r["source_id"]: (r["decision"], r["reason"], r["note"]) for r in _read(everything)}
    assert got == {
        "11": ("include", "", ""),
        "12": ("", "", ""),
        "13": ("exclude", "", 'said "no", 3 arms;\nsee p. 4 – Müller'),
    }
    # Re-importing the same file changes nothing.
    again = import_decisions_csv(store, out)
    assert (again.added, again.unchanged) == (0, 2)
    # Full text: reason by id or by label, study link on an inclusion.
    ft = tmp_path / "ft.csv"
    assert export_decisions_csv(store, REVIEW, "full_text", ft) == 1
    [row] = _read(ft)
    assert row["record_id"] == str(ids["11"])
    row.update(decision="include", study_id="Suk2016")
    _write(ft, [row])
    assert import_decisions_csv(store, ft).added == 1
    s = screening_summary(store, REVIEW)
    assert s["included"][0]["study_id"] == "Suk2016"
    assert (s["reports_included"], s["studies_included"]) == (1, 1)


def test_full_text_reason_given_by_label(store: Store, reviews, search, tmp_path: Path) -> None:
    ids = _three(store, search)
    record_decision(store, REVIEW, "ta", ids["12"], "maybe")
    path = tmp_path / "ft.csv"
    _write(
        path,
        [{"record_id": str(ids["12"]), "decision": "exclude",
          "reason": "not a randomised controlled trial"}],
        columns=("record_id", "decision", "reason"),
    )  # fmt: skip
    result = import_decisions_csv(store, path, review=REVIEW, stage="ft")
    assert result.added == 1
    s = screening_summary(store, REVIEW)
    assert s["excluded_full_text"]["Not a randomised controlled trial"] == 1
    assert s["excluded_full_text_by_id"]["not_rct"] == 1


def test_bad_csv_rejected_naming_row_and_column_store_unchanged(
    store: Store, reviews, search, tmp_path: Path
) -> None:
    ids = _three(store, search)
    other = search(store, [rec("X1", "Another review's record")], review="other-review")
    record_decision(store, REVIEW, "ta", ids["11"], "include")
    before = store.dump()
    path = tmp_path / "bad.csv"
    base = {"review": REVIEW, "stage": "full_text"}
    _write(
        path,
        [
            {**base, "record_id": str(ids["11"]), "decision": "yes"},  # row 2
            {
                **base,
                "record_id": str(ids["11"]),
                "decision": "exclude",
                "reason": "too_small",
            },  # row 3  # fmt: skip
            {**base, "record_id": "99999", "decision": "include"},  # row 4
            {**base, "record_id": str(ids["11"]), "decision": "exclude"},  # row 5: no reason
            {**base, "record_id": str(ids["13"]), "decision": "include"},  # row 6: not at TA
            {**base, "record_id": str(other["X1"]), "decision": "include"},  # row 7
        ],
    )
    with pytest.raises(ValidationFailed) as err:
        import_decisions_csv(store, path)
    problems = err.value.problems
    assert problems[0].startswith("row 2, column decision: 'yes' is not one of include")
    assert problems[1].startswith("row 3, column reason: 'too_small' is not an exclusion reason")
    assert "not_rct, not_msc, wrong_population" in problems[1]
    assert problems[2] == "row 4, column record_id: no record 99999 in the registry"
    assert problems[3].startswith("row 5, column reason: a full-text exclusion needs a reason")
    assert problems[4].startswith("row 6, column decision:")
    assert "not yet screened at title/abstract" in problems[4]
    assert problems[5] == (
        f"row 7, column record_id: record {other['X1']} is not among the search "
        f"results of review '{REVIEW}'"
    )
    assert len(problems) == 6
    assert store.dump() == before


def test_bad_csv_through_the_cli_exits_nonzero(
    store: Store, reviews, search, tmp_path: Path
) -> None:
    ids = _three(store, search)
    db = store.path
    path = tmp_path / "bad.csv"
    _write(
        path,
        [
            {"record_id": str(ids["12"]), "decision": "include", "review": REVIEW,
             "stage": "title_abstract"},
            {"record_id": str(ids["13"]), "decision": "maybe?", "review": REVIEW,
             "stage": "title_abstract"},
        ],
    )  # fmt: skip
    before = store.dump()
    store.close()  # the CLI opens the file itself
    # The screen sub-app as `registry screen` mounts it; --db given through REGISTRY_DB.
    result = CliRunner().invoke(app, ["screen", "import", str(path)], env={"REGISTRY_DB": str(db)})
    assert result.exit_code == ValidationFailed.exit_code
    assert "row 3, column decision: 'maybe?' is not one of" in result.output
    with Store(db) as again:
        assert again.dump() == before


def test_csv_structure_errors(store: Store, reviews, search, tmp_path: Path) -> None:
    ids = _three(store, search)
    no_decision = tmp_path / "a.csv"
    _write(no_decision, [{"record_id": str(ids["11"])}], columns=("record_id",))
    with pytest.raises(InputError, match="no 'decision' column"):
        import_decisions_csv(store, no_decision, review=REVIEW, stage="ta")
    mixed = tmp_path / "b.csv"
    _write(
        mixed,
        [{"record_id": str(ids["11"]), "decision": "include", "stage": "title_abstract"},
         {"record_id": str(ids["12"]), "decision": "include", "stage": "full_text"}],
        columns=("record_id", "decision", "stage"),
    )  # fmt: skip
    with pytest.raises(InputError, match="row 3, column stage"):
        import_decisions_csv(store, mixed, review=REVIEW)
    other = tmp_path / "c.csv"
    _write(
        other,
        [{"record_id": str(ids["11"]), "source": "pubmed", "source_id": "12",
          "decision": "include"}],
        columns=("record_id", "source", "source_id", "decision"),
    )  # fmt: skip
    with pytest.raises(ValidationFailed, match="row 2, column source_id"):
        import_decisions_csv(store, other, review=REVIEW, stage="ta")


def test_import_by_identity_without_record_id(
    store: Store, reviews, search, tmp_path: Path
) -> None:
    _three(store, search)
    path = tmp_path / "ids.csv"
    _write(
        path,
        [{"source": "pubmed", "source_id": "13", "decision": "exclude"}],
        columns=("source", "source_id", "decision"),
    )
    assert import_decisions_csv(store, path, review=REVIEW, stage="ta").added == 1
    assert sorted(it.record["source_id"] for it in screening_queue(store, REVIEW)) == ["11", "12"]


def test_csv_saved_by_a_european_excel_imports(
    store: Store, reviews, search, tmp_path: Path
) -> None:
    ids = _three(store, search)
    out = tmp_path / "queue.csv"
    export_decisions_csv(store, REVIEW, "title_abstract", out)
    rows = _read(out)
    rows[0]["decision"] = "exclude"
    rows[0]["note"] = "pré-registered, not a trial"
    # semicolon-separated and cp1252-encoded, as Excel writes "CSV" in many locales
    with (tmp_path / "excel.csv").open("w", newline="", encoding="cp1252") as fh:
        w = csv.DictWriter(fh, fieldnames=list(EXPORT_COLUMNS), delimiter=";")
        w.writeheader()
        w.writerows(rows)
    res = import_decisions_csv(store, tmp_path / "excel.csv")
    assert res.added == 1
    rid = ids[rows[0]["source_id"]]
    d = [x for x in store.screening_decisions(REVIEW) if x["record_id"] == rid]
    assert d[0]["note"] == "pré-registered, not a trial"
