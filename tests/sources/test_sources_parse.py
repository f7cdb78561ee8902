"""Parsers of the three APIs over the real recorded responses in ../shared/fixtures."""

from __future__ import annotations

import json
from pathlib import Path

from ingest import crossref, ctgov, europepmc

CT = "fixtures/clinicaltrials/aact"
EP = "fixtures/europepmc/pyEuropePMC"
CR = "fixtures/crossref"


def _json(shared: Path, rel: str) -> object:
    return json.loads((shared / rel).read_bytes())


def test_ctgov_study_fields_as_recorded(shared: Path) -> None:
    # Values read off the recorded files (SOURCES.md describes each).
    w = ctgov.parse_page(_json(shared, f"{CT}/NCT00973089.json")).trials[0]
    assert (w.nct_id, w.status, w.enrollment, w.enrollment_type) == (
        "NCT00973089", "WITHDRAWN", 0, "ACTUAL")
    assert w.start_date == "2010-05" and w.why_stopped  # month-only date kept as given
    r = ctgov.parse_page(_json(shared, f"{CT}/NCT02210780.json")).trials[0]
    assert r.has_results and r.phases == ("PHASE2",) and r.enrollment == 194
    assert r.results_first_posted == "2020-05-07" and len(r.arms) >= 2
    # BACKGROUND references are not the trial's publications; RESULT/DERIVED ones are.
    d = ctgov.parse_page(_json(shared, f"{CT}/NCT03630471.json")).trials[0]
    assert d.linked_pmids and "11102329" not in d.linked_pmids
    assert {r["type"] for r in d.references if r["pmid"] in d.linked_pmids} <= {
        "RESULT", "DERIVED"}
    f = ctgov.parse_page(_json(shared, f"{CT}/NCT06171568.json")).trials[0]
    assert f.sponsor == "Assistance Publique - Hôpitaux de Paris" and f.phases == ()


def test_ctgov_search_page_without_token_is_last(shared: Path) -> None:
    page = ctgov.parse_page(_json(shared, f"{CT}/studies_NCT06388018.json"))
    assert [t.nct_id for t in page.trials] == ["NCT06388018"] and page.next_token is None
    assert ctgov.parse_page({"studies": [], "nextPageToken": "x"}).next_token is None


def test_ctgov_broken_study_is_a_problem_not_a_crash() -> None:
    page = ctgov.parse_page({"studies": [{"protocolSection": {}}, 7]})
    assert not page.trials and len(page.problems) == 2


def test_europepmc_ten_pages_every_record_and_preprints(shared: Path) -> None:
    pages = _json(shared, f"{EP}/fetch_10pages_cancer.json")
    recs = [r for p in pages for r in europepmc.parse_page(p).records]
    assert len(recs) == len({r.source_id for r in recs}) == 1000
    pre = [r for r in recs if europepmc.PREPRINT in r.publication_types]
    # 24 results have source PPR and pubType "preprint" in the recording.
    assert len(pre) == 24 and all(r.source_id.startswith("PPR:") for r in pre)
    assert all(r.source == "europepmc" for r in recs)


def test_europepmc_core_html_abstract_and_errata(shared: Path) -> None:
    page = europepmc.parse_page(_json(shared, f"{EP}/search_cancer_core.json"))
    assert page.hit_count == 5059039 and page.next_cursor
    with_abs = [r for r in page.records if r.abstract]
    assert len(with_abs) == 21  # SOURCES.md: 4 of 25 have no abstractText
    assert not any("<h4>" in r.abstract or "<sub>" in r.abstract for r in with_abs)
    assert any(c.ref_type == "ErratumFor" for r in page.records for c in r.comments)


def test_europepmc_empty_result(shared: Path) -> None:
    page = europepmc.parse_page(_json(shared, f"{EP}/search_no_results.json"))
    assert page.records == [] and page.next_cursor is None and page.hit_count == 0


def test_crossref_signals(shared: Path) -> None:
    work = _json(shared, f"{CR}/habanero/works_10.1371_journal.pone.0033693.json")["message"]
    [u] = crossref.updates_of(work)
    assert (u.kind, u.date) == ("correction", "2012-05-08")
    assert u.notice_doi == "10.1371/annotation/c76da2c1-ccb8-4797-94c1-359d3ceceeda"
    prefix = _json(shared, f"{CR}/habanero/prefixes_10.1371_works_query_editor.json")
    # new_version pointing at itself is not news
    assert all(crossref.updates_of(w) == [] for w in prefix["message"]["items"]
               if w["DOI"] == "10.1371/journal.ppat.1006930")
    page = _json(shared, f"{CR}/rcrossref/journals_1932-6203_works_cursor_page1.json")
    [n] = crossref.notices_for("10.1371/journal.pone.0120799", page["message"]["items"])
    assert n.kind == "correction" and n.notice_doi == "10.1371/journal.pone.0129989"


def test_crossref_retraction_said_only_in_the_title(shared: Path) -> None:
    items = _json(shared, f"{CR}/rcrossref/members_98_works_rows100_page2.json")["message"]["items"]
    title = "Influence of Gastrectomy on Cortical and Cancellous Bones in Rats"
    [u] = crossref.retracted_by_title("10.1155/2018/0000000", title, items)
    assert u.kind == "retraction" and u.notice_doi == "10.1155/2020/5109831"
    assert crossref.retracted_by_title("10.1155/x", "Cortical bones in rats", items) == []
