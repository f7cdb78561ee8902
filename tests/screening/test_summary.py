"""screening_summary: PRISMA 2020 screening counts on a worked example."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from registry.cli import app
from registry.screening import record_decision, screening_summary
from registry.store import Store
from registry.store.dedup import DedupWrite

from .screening_helpers import REVIEW, rec


def test_summary_worked_example(store: Store, reviews, search) -> None:
    ids = search(store, [rec(str(i), f"Record {i}") for i in range(1, 11)])
    emb = search(store, [rec("E1", "Record 1", source="embase")], source="embase")
    # Dedup: the Embase copy of record 1 is a duplicate (record 1 stays primary).
    members = [ids["1"], emb["E1"]]
    store.save_dedup(
        DedupWrite(
            clusters=pd.DataFrame(
                {"record_id": members, "cluster_id": [ids["1"]] * 2,
                 "is_primary": [True, False]}
            )
        )
    )  # fmt: skip

    def ta(i: str, d: str) -> None:
        record_decision(store, REVIEW, "title_abstract", ids[i], d)

    def ft(i: str, d: str, **kw: str) -> None:
        record_decision(store, REVIEW, "full_text", ids[i], d, **kw)

    for i in ("1", "2", "3", "4", "6"):
        ta(i, "include")
    ta("5", "maybe")
    ta("7", "exclude")
    ta("8", "exclude")
    # 9 and 10 not screened yet.
    ft("1", "include", study_id="S1")
    ft("2", "include", study_id="S1")  # a second report of study S1
    ft("3", "include")  # not linked to a study yet: counts as its own study
    ft("4", "exclude", reason="not_rct")
    ft("5", "not_retrieved")
    ft("6", "maybe")  # awaiting classification
    s = screening_summary(store, REVIEW)
    # 11 records, 1 duplicate -> 10 clusters to screen; 8 have a title/abstract decision,
    # 2 (records 9, 10) are waiting; 2 excluded (7, 8); 6 go on to full text (include or
    # maybe: 1-6). Of those 6, 1 was not retrieved (5); 5 were assessed (1, 2, 3 include,
    # 4 exclude, 6 maybe); 1 excluded for not_rct; 3 reports included of 2 studies
    # (S1 twice, record 3 alone); 1 awaiting classification (6); 0 still without a
    # full-text decision.
    expected = {
        "records_to_screen": 10,
        "records_screened": 8,
        "awaiting_screening": 2,
        "excluded_title_abstract": 2,
        "reports_sought": 6,
        "reports_not_retrieved": 1,
        "reports_assessed": 5,
        "awaiting_full_text": 0,
        "awaiting_classification": 1,
        "excluded_full_text_total": 1,
        "reports_included": 3,
        "studies_included": 2,
    }
    assert {k: s[k] for k in expected} == expected
    assert s["excluded_full_text"] == {
        "Not a randomised controlled trial": 1,
        "Intervention is not MSC therapy": 0,
        "Population is not liver cirrhosis": 0,
    }
    assert sorted(i["study_id"] or "-" for i in s["included"]) == ["-", "S1", "S1"]
    assert s["conflicts"] == {"title_abstract": 0, "full_text": 0}
    db = str(store.path)
    store.close()
    out = CliRunner().invoke(app, ["screen", "summary", "--json"], env={"REGISTRY_DB": db})
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["reports_included"] == 3


def test_full_text_decision_needs_title_abstract_pass(store: Store, reviews, search) -> None:
    import pytest

    from registry.errors import InputError

    ids = search(store, [rec("1", "A")])
    record_decision(store, REVIEW, "ta", ids["1"], "exclude")
    with pytest.raises(InputError, match="'exclude' at title/abstract"):
        record_decision(store, REVIEW, "ft", ids["1"], "include")


def test_summary_of_review_without_protocol_uses_stored_labels(
    store: Store, reviews, search, monkeypatch
) -> None:
    ids = search(store, [rec("1", "A")])
    record_decision(store, REVIEW, "ta", ids["1"], "include")
    record_decision(store, REVIEW, "ft", ids["1"], "exclude", reason="not_msc")
    monkeypatch.setenv("REGISTRY_REVIEWS", str(reviews.parent / "elsewhere"))
    s = screening_summary(store, REVIEW)
    assert s["excluded_full_text"] == {"Intervention is not MSC therapy": 1}


def test_summary_text_names_each_prisma_box() -> None:
    from registry.screening.text import summary_lines as _summary_lines

    lines = _summary_lines({
        "records_to_screen": 10, "records_screened": 8, "excluded_title_abstract": 5,
        "awaiting_screening": 2, "reports_sought": 3, "reports_not_retrieved": 1,
        "reports_assessed": 2, "awaiting_full_text": 0, "awaiting_classification": 0,
        "excluded_full_text": {"Not an RCT": 1, "Animal study": 0},
        "excluded_full_text_total": 1, "studies_included": 1, "reports_included": 1,
        "conflicts": {"title_abstract": 0, "full_text": 0},
    })
    assert lines == [
        "title/abstract: 10 records, 8 screened, 5 excluded, 2 awaiting screening",
        "full text: 3 sought, 1 not retrieved, 2 assessed, 0 awaiting, "
        "0 awaiting classification",
        "excluded at full text: 1",
        "  Not an RCT: 1",
        "included: 1 study from 1 report",
    ]


def test_withdrawn_record_keeps_its_screening_in_the_counts(
    store: Store, reviews, search
) -> None:
    ids = search(store, [rec(str(i), f"Record {i}") for i in range(1, 5)])
    for i in ("1", "2"):
        record_decision(store, REVIEW, "title_abstract", ids[i], "include")
    store.mark_deleted(["1"])  # NLM withdraws record 1 after it was screened in
    s = screening_summary(store, REVIEW)
    # 4 records: 2 screened + 2 awaiting; record 1 stays screened and sought
    assert (s["records_to_screen"], s["records_screened"], s["awaiting_screening"]) == (4, 2, 2)
    assert s["reports_sought"] == 2
    assert (s["awaiting_full_text"], s["withdrawn_before_full_text"]) == (1, 1)
