"""Living runs of ClinicalTrials.gov and Europe PMC through the replay: paging, the request
log, incremental windows, resume after an interruption, nothing stored twice; the trial
list for the report and the PRISMA registers box; Europe PMC against PubMed in dedup."""

from __future__ import annotations

import datetime as dt
import json

from conftest import min_gap

from ingest import ctgov
from ingest.records import Record
from registry.dedup import deduplicate
from registry.intake.files import import_file
from registry.sources import (
    CtgovQuery,
    ongoing_unpublished_trials,
    prisma_registers,
    registered_trials,
    search_clinicaltrials,
    search_europepmc,
)

TODAY = dt.date(2026, 12, 4)
Q = [CtgovQuery(cond="any condition")]


def test_ctgov_pages_every_trial_once_and_logs_each_request(store, api, make_client, clock):
    api.inject("ctgov", "503", at=[2])
    [s] = search_clinicaltrials(store, "r1", queries=Q, client=make_client("ctgov"),
                                page_size=2, today=TODAY)
    # 6 real studies in pages of 2: three full pages, then the empty page a full page's
    # token leads to (the API's documented behaviour, SOURCES.md).
    assert (s.outcome, s.new, s.known, s.hits, s.pages) == ("ok", 6, 0, 6, 4)
    assert store._scalar("SELECT count(*) FROM trials") == 6
    log = store.source_requests(s.run_id)
    assert [r["items"] for r in log] == [2, 2, 2, 0] and log[0]["cursor_in"] is None
    assert [r["attempts"] for r in log] == [1, 2, 1, 1] and s.requests == 5
    assert all(a["cursor_out"] == b["cursor_in"] for a, b in zip(log, log[1:], strict=False))
    assert min_gap(clock) >= ctgov.INTERVAL - 1e-9
    run = store.get_search_run(s.run_id)
    assert (run["new_records"], run["hits"], run["source"]) == (6, 6, "clinicaltrials_gov")


def test_ctgov_incremental_window_and_no_duplicate(store, api, make_client):
    client = make_client("ctgov")
    search_clinicaltrials(store, "r1", queries=Q, client=client, today=TODAY)
    [s] = search_clinicaltrials(store, "r1", queries=Q, client=client,
                                today=TODAY + dt.timedelta(days=30))
    assert s.mode == "incremental" and s.mindate == "2026-12-01"
    sent = api.requests("ctgov")[-1].params["filter.advanced"]
    assert sent == "AREA[LastUpdatePostDate]RANGE[2026-12-01,2027-01-03]"
    assert s.new == 0 and store._scalar("SELECT count(*) FROM trials") == 6


def test_ctgov_interrupted_run_resumes_from_its_cursor(store, api, make_client):
    client = make_client("ctgov")
    [a] = search_clinicaltrials(store, "r1", queries=Q, client=client, page_size=2,
                                max_pages=2, today=TODAY)
    assert a.outcome == "interrupted" and a.new == 4
    n = len(api.requests("ctgov"))
    [b] = search_clinicaltrials(store, "r1", queries=Q, client=client, page_size=2, today=TODAY)
    assert b.resumed_from == (a.run_id,) and b.new == 2 and b.outcome == "ok"
    assert api.requests("ctgov")[n].params.get("pageToken")  # started mid-sequence
    assert store._scalar("SELECT count(*) FROM trials") == 6


def test_expired_cursor_restarts_the_window(store, api, make_client):
    client = make_client("ctgov")
    [a] = search_clinicaltrials(store, "r1", queries=Q, client=client, page_size=2,
                                max_pages=1, today=TODAY)
    # The saved token has expired by the time the run resumes: the server answers 400.
    store._exec("UPDATE search_runs SET state = json_merge_patch(state, ?) WHERE run_id = ?",
                ['{"cursor": "expired"}', a.run_id])
    [b] = search_clinicaltrials(store, "r1", queries=Q, client=client, page_size=2, today=TODAY)
    sent = [r.params.get("pageToken") for r in api.requests("ctgov")]
    assert sent[1] == "expired" and sent[2] is None  # started the window over, no retry
    assert b.outcome == "ok" and b.new == 4 and b.known == 2
    assert store._scalar("SELECT count(*) FROM trials") == 6


def test_trial_list_and_prisma_registers(store, api, make_client):
    search_clinicaltrials(store, "r1", queries=Q, client=make_client("ctgov"), today=TODAY)
    # A publication of NCT03630471: a record carrying one of the PMIDs the registry lists
    # as the trial's RESULT/DERIVED reference (built here; its citation is the registry's).
    raw = (api.shared / "fixtures/clinicaltrials/aact/NCT03630471.json").read_bytes()
    pmid = ctgov.parse_page(json.loads(raw)).trials[0].linked_pmids[0]
    run = store.record_search_run(source="pubmed", kind="import", tool_version="t", review="r1")
    store.add_records([Record(source="pubmed", source_id=pmid, pmid=pmid, title="t")],
                      run_id=run)
    # ... and one naming NCT02210780 in its DataBankList (records.registry_ids).
    store.add_records([Record(source="pubmed", source_id="1", pmid="1", title="u",
                              registry_ids=["NCT02210780"])], run_id=run)
    cats = {t.nct_id: t.category for t in registered_trials(store, "r1")}
    assert cats == {
        "NCT00973089": "withdrawn", "NCT02210780": "published", "NCT03630471": "published",
        "NCT05594173": "completed, unpublished", "NCT06171568": "ongoing",
        "NCT06388018": "ongoing",
    }
    listed = ongoing_unpublished_trials(store, "r1")
    assert [t.nct_id for t in listed] == ["NCT00973089", "NCT05594173", "NCT06171568",
                                          "NCT06388018"]
    assert listed[1].has_results  # completed, unpublished, but results posted
    box = prisma_registers(store, "r1")
    assert box.registers == {"ClinicalTrials.gov": 6} and box.linked_to_publications == 2
    assert (box.ongoing, box.completed_unpublished, box.withdrawn) == (2, 1, 1)
    assert prisma_registers(store, "other").total == 0


def test_europepmc_cursor_pages_preprints_and_resume(store, api, make_client, clock):
    client = make_client("europepmc")
    api.inject("europepmc", "truncated", at=[3])
    [a] = search_europepmc(store, "r1", query="cancer", client=client, page_size=100,
                           max_pages=4, today=TODAY)
    assert a.outcome == "interrupted" and a.new == 400
    [b] = search_europepmc(store, "r1", query="cancer", client=client, page_size=100,
                           today=TODAY)
    assert b.resumed_from == (a.run_id,) and b.new == 600 and b.outcome == "ok"
    ids = [r[0] for r in store._rows("SELECT source_id FROM records")]
    assert len(ids) == len(set(ids)) == 1000
    pre = store._scalar("SELECT count(*) FROM records WHERE list_contains(publication_types, "
                        "'Preprint')")
    assert pre == 24  # the recording's PPR results
    assert min_gap(clock) >= 0.25 - 1e-9
    # pages 5-10; the last one repeats its cursor (as Europe PMC does), so no 7th request
    assert len(store.source_requests(b.run_id)) == 6


def test_europepmc_record_known_from_pubmed_counted_once(store, api, make_client, fixtures):
    # A real PubMed record is imported; Europe PMC then returns the same article. No such
    # pair was recorded, so the replay serves a Europe PMC 'lite' result built from the
    # PubMed record's own PMID, DOI and title, in the recorded results' shape.
    imp = import_file(store, fixtures / "metapub" / "pmid_xml" / "11618220.xml", review="r1")
    assert imp.new == 1
    [rec] = store.get_records("pubmed", ["11618220"])
    api.epmc = [dict(api.epmc[0], id=rec["pmid"], pmid=rec["pmid"], doi=rec["doi"],
                     title=rec["title"], firstIndexDate="2026-11-30")] + api.epmc[1:3]
    [s] = search_europepmc(store, "r1", query="x", client=make_client("europepmc"),
                           today=TODAY)
    assert s.new == 3
    deduplicate(store)
    box = store.prisma_identification("r1")
    assert box["records_identified"]["europepmc"] == 3
    assert box["duplicates_removed"] == 1  # the shared PMID/DOI: counted once
    assert box["records_after_duplicates_removed"] == box["records_identified_total"] - 1


def test_review_without_saved_search_runs_nothing(store, make_client):
    assert search_europepmc(store, "bcg-vaccine", client=make_client("europepmc")) == []
    assert search_clinicaltrials(store, "bcg-vaccine", client=make_client("ctgov")) == []
