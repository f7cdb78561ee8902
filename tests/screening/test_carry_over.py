"""Decisions carried across updates: a record screened once is never queued again, a
duplicate from another source inherits its cluster's decision, and a record re-imported
under a new record_id finds its decision through (source, source_id)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from registry.dedup import deduplicate
from registry.screening import (
    export_decisions_csv,
    record_decision,
    screening_queue,
    screening_summary,
)
from registry.store import Store
from registry.store.dedup import DedupWrite

from .screening_helpers import REVIEW, rec


def _queued(store: Store, stage: str = "title_abstract", **kw: object) -> list[str]:
    return sorted(it.record["source_id"] for it in screening_queue(store, REVIEW, stage, **kw))


def test_decisions_survive_a_new_search_returning_same_and_new_records(
    store: Store, reviews, search
) -> None:
    first = search(store, [rec("101", "Trial A"), rec("102", "Trial B"), rec("103", "Trial C")])
    assert _queued(store) == ["101", "102", "103"]
    record_decision(store, REVIEW, "title_abstract", first["101"], "include")
    record_decision(store, REVIEW, "title_abstract", first["102"], "exclude", note="animals")
    record_decision(store, REVIEW, "title_abstract", first["103"], "maybe")
    assert _queued(store) == []
    # Next month's search returns two known records (one with a changed title, as when
    # PubMed revises a record) and two new ones.
    second = search(
        store,
        [rec("101", "Trial A (revised title)"), rec("102", "Trial B"), rec("104", "Trial D"),
         rec("105", "Trial E")],
    )  # fmt: skip
    assert second["101"] == first["101"]
    assert _queued(store) == ["104", "105"]
    # Full text: only title/abstract include and maybe move on, decided or not.
    assert _queued(store, "full_text") == ["101", "103"]
    s = screening_summary(store, REVIEW)
    assert (s["records_to_screen"], s["records_screened"], s["awaiting_screening"]) == (5, 3, 2)
    assert (s["excluded_title_abstract"], s["reports_sought"]) == (1, 2)


def test_store_computes_no_screening_logic(store: Store, reviews, search) -> None:
    # Issue 9: the store offers verbs only; what decisions mean lives in registry.screening.
    import registry.store.screening as store_area

    source = Path(store_area.__file__).read_text(encoding="utf-8")
    assert "import registry.screening" not in source
    assert "from registry.screening" not in source
    assert not hasattr(store, "screening_summary")
    ids = search(store, [rec("1", "A"), rec("2", "B")])
    record_decision(store, REVIEW, "ta", ids["1"], "exclude")
    assert screening_summary(store, REVIEW)["awaiting_screening"] == 1


def test_reimported_record_under_new_id_keeps_its_decision(store: Store, reviews, search) -> None:
    ids = search(store, [rec("201", "Kept"), rec("202", "Other")])
    record_decision(store, REVIEW, "title_abstract", ids["201"], "exclude")
    # Simulate a registry rebuilt from the source files: the record row disappears and
    # comes back with a new number. Only the stable identity links it to its decision.
    store._exec("DELETE FROM run_records WHERE record_id = ?", [ids["201"]])
    store._exec("DELETE FROM records WHERE record_id = ?", [ids["201"]])
    again = search(store, [rec("201", "Kept")])
    assert again["201"] != ids["201"]
    assert _queued(store) == ["202"]
    [d] = store.screening_decisions(REVIEW)
    assert (d["record_id"], d["decided_record_id"]) == (again["201"], ids["201"])


SUK = (
    "Transplantation with autologous bone marrow-derived mesenchymal stem cells for "
    "alcoholic cirrhosis: Phase 2 trial"
)


def _cluster(store: Store, members: list[int], primary: int) -> None:
    """Record a dedup cluster through the dedup area's write verb."""
    frame = pd.DataFrame(
        {
            "record_id": members,
            "cluster_id": [min(members)] * len(members),
            "is_primary": [m == primary for m in members],
        }
    )
    store.save_dedup(DedupWrite(clusters=frame))


def test_duplicate_from_another_source_inherits_cluster_decision(
    store: Store, reviews, search, tmp_path
) -> None:
    pm = search(
        store,
        [rec("301", SUK, doi="10.1002/hep.28693", year=2016, authors=["Suk KT"]),
         rec("302", "Unrelated cardiology paper", year=2019, authors=["Roe J"])],
    )  # fmt: skip
    record_decision(store, REVIEW, "title_abstract", pm["301"], "exclude", note="editorial")
    deduplicate(store, REVIEW)
    # An Embase export brings a copy of record 301 (same DOI) and one new record.
    emb = search(
        store,
        [rec("E-9", SUK + ".", source="embase", doi="10.1002/HEP.28693", year=2016,
             authors=["Suk K.T."]),
         rec("E-10", "New embase-only record on hepatocytes", source="embase", year=2021)],
        source="embase",
    )  # fmt: skip
    deduplicate(store, REVIEW)
    # The dedup area put both copies in one cluster, PubMed's record as primary.
    clusters = dict(store._rows("SELECT record_id, cluster_id FROM v_record_cluster"))
    assert clusters[pm["301"]] == clusters[emb["E-9"]]
    assert _queued(store) == ["302", "E-10"]
    s = screening_summary(store, REVIEW)
    assert (s["records_to_screen"], s["records_screened"], s["excluded_title_abstract"]) == (
        3,
        1,
        1,
    )


def test_decision_follows_the_cluster_when_its_primary_changes(
    store: Store, reviews, search, tmp_path
) -> None:
    pm = search(store, [rec("301", "MSC for cirrhosis"), rec("302", "Unrelated")])
    record_decision(store, REVIEW, "title_abstract", pm["301"], "exclude", note="editorial")
    emb = search(store, [rec("E-9", "MSC for cirrhosis.", source="embase")], source="embase")
    # A curator's dedup decision joins the two, and the Embase copy becomes the primary
    # (written through the dedup area's verb, as its clustering would).
    _cluster(store, [pm["301"], emb["E-9"]], primary=emb["E-9"])
    assert _queued(store) == ["302"]
    # The export of all records shows the inherited decision on the Embase primary.
    out = tmp_path / "all.csv"
    export_decisions_csv(store, REVIEW, "title_abstract", out, include_all=True)
    rows = pd.read_csv(out, dtype=str, keep_default_na=False)
    e9 = rows[rows["source_id"] == "E-9"].iloc[0]
    assert (e9["decision"], e9["note"]) == ("exclude", "editorial")
    assert "301" not in set(rows["source_id"])  # the duplicate itself is not listed


def test_without_the_dedup_view_each_record_is_its_own_cluster(
    store: Store, reviews, search
) -> None:
    ids = search(store, [rec("401", "A"), rec("402", "B")])
    store._exec("DROP VIEW v_dedup_pending")
    store._exec("DROP VIEW v_record_cluster")
    record_decision(store, REVIEW, "title_abstract", ids["401"], "include")
    assert _queued(store) == ["402"]


def test_other_reviews_records_are_not_queued(store: Store, reviews, search) -> None:
    search(store, [rec("501", "Mine")])
    search(store, [rec("502", "Someone else's")], review="other-review")
    assert _queued(store) == ["501"]
