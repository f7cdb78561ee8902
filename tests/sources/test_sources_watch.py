"""Retraction and correction watch on included studies: PubMed links already stored and
Crossref live (replayed). A retraction marks the study, is news once, and a Crossref
outage does not hide PubMed's findings."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.pubmed_xml import iter_pubmed_xml
from ingest.records import Record
from registry.curation.load import load_review
from registry.sources import integrity_watch

REVIEW = "msc-cirrhosis"


@pytest.fixture
def loaded(store):
    """The bundled review's curated studies (11, most with a DOI) in the store."""
    load_review(store, REVIEW)
    return store


def test_crossref_retraction_marks_an_included_study_once(loaded, api, make_client) -> None:
    # Salama2014's DOI as curated in data/reviews/msc-cirrhosis/extraction/studies.csv.
    # No retraction of it exists: the replay builds a notice from a real PLOS correction
    # notice (tests/sources/apis.py, add_retraction) because none was recorded.
    notice = api.add_retraction("10.1186/scrt459")
    client = make_client("crossref")
    res = integrity_watch(loaded, REVIEW, client=client)
    assert res.checked == 11 and res.unreachable == []
    # 6 studies with a DOI: /works/DOI, filter=updates:DOI, and query.title when a title
    # is known (from Crossref's work; none of the six DOIs is in the recordings, 404)
    assert res.requests == len(api.requests("crossref")) == 12
    [f] = res.findings
    assert (f.study_id, f.kind, f.notice, f.date, f.source) == (
        "Salama2014", "retraction", notice, "2026-11-02", "crossref update-to")
    assert f.new and res.new_serious == [f] and res.flagged() == {"Salama2014": "retraction"}
    again = integrity_watch(loaded, REVIEW, client=client)
    assert [x.new for x in again.findings] == [False] and again.new_serious == []


def test_pubmed_retraction_link_found_without_crossref(store, shared: Path, api, make_client):
    # PMID 10066780 as recorded by retractobot: RetractionIn -> 11905463, an ErratumIn
    # without PMID, and the "Retracted Publication" type.
    raw = (shared / "fixtures/crossref/retractobot/pubmed_retracted_publication.xml").read_bytes()
    recs = [r for r in iter_pubmed_xml(raw, source_name="pubmed", file_label="x")
            if isinstance(r, Record)]
    store.add_records(recs, run_id=None)
    # An included study citing that PMID (test arrangement: a curated studies row).
    store._exec("INSERT INTO cur_studies (review, study_id, pmid, updated_at) "
                "VALUES ('r', 'Study1999', '10066780', now())")
    api.inject("crossref", "500", from_n=1)  # Crossref is down: PubMed still counts
    res = integrity_watch(store, "r", client=make_client("crossref"))
    got = {(f.kind, f.source, f.notice) for f in res.findings}
    assert got == {
        ("retraction", "pubmed RetractionIn", "PMID 11905463"),
        ("retraction", "pubmed Retracted Publication", ""),
        ("correction", "pubmed ErratumIn", "J Biol Chem 1999 May 7;274(19):13728"),
    }
    assert api.requests("crossref") == []  # no DOI to ask Crossref about
    assert res.flagged() == {"Study1999": "retraction"}


def test_crossref_outage_is_reported_not_fatal(loaded, api, make_client) -> None:
    api.inject("crossref", "503", from_n=1)
    res = integrity_watch(loaded, REVIEW, client=make_client("crossref", max_attempts=2))
    assert res.findings == [] and len(res.unreachable) == 6  # the 6 studies with a DOI
    assert "failed after 2 tries" in res.unreachable[0]


def test_retraction_watch_rows_match_by_doi_and_pmid(store, shared: Path) -> None:
    csv = shared / "fixtures/crossref/paper-qa/stub_retractions.csv"
    # Two included studies (test arrangement) citing the original paper of the CSV's
    # first row, one by its DOI (10.1155/2022/9172719), one by its PMID only (36035816,
    # written "36035816.0" in the CSV).
    store._exec("INSERT INTO cur_studies (review, study_id, doi, updated_at) "
                "VALUES ('r', 'ByDoi', '10.1155/2022/9172719', now())")
    store._exec("INSERT INTO cur_studies (review, study_id, pmid, updated_at) "
                "VALUES ('r', 'ByPmid', '36035816', now())")
    res = integrity_watch(store, "r", crossref=False, retraction_watch_csv=csv)
    got = sorted((f.study_id, f.kind, f.notice, f.date, f.source) for f in res.findings)
    # Row 1 of the CSV: RetractionDate 7/12/2023, RetractionDOI 10.1155/2023/9756480.
    assert got == [
        ("ByDoi", "retraction", "10.1155/2023/9756480", "2023-07-12", "retraction watch"),
        ("ByPmid", "retraction", "10.1155/2023/9756480", "2023-07-12", "retraction watch"),
    ]
    assert res.flagged() == {"ByDoi": "retraction", "ByPmid": "retraction"}
