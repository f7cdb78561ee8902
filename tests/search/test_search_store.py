"""Records-area store verbs: insert/update/link, flags, run log, all-or-nothing writes."""

from __future__ import annotations

import pytest

from ingest.records import Comment, ParseProblem, Record
from registry.store import Store
from registry.store.records import content_key


def _rec(i: int, **kw) -> Record:
    base = dict(source="pubmed", source_id=str(i), pmid=str(i), title=f"Title {i}",
                authors=["Doe J"], year=2020)
    base.update(kw)
    return Record(**base)


def _run(store: Store, **kw) -> int:
    return store.record_search_run(source="pubmed", tool_version="test", query="q", **kw)


def test_add_records_inserts_then_updates_and_links(store) -> None:
    r1 = _run(store)
    res = store.add_records([_rec(1), _rec(2), _rec(3)], run_id=r1)
    assert (res.new, res.updated, res.unchanged) == (3, 0, 0)
    r2 = _run(store)
    # PubMed later links a retraction notice and an erratum to records 1 and 2
    changed = [
        _rec(1, comments=[Comment("RetractionIn", "J 2024", "999")]),
        _rec(2, comments=[Comment("ErratumIn", "J 2024", "998")]),
        _rec(3),
        _rec(4),
    ]
    res = store.add_records(changed, run_id=r2)
    assert (res.new, res.updated, res.unchanged) == (1, 2, 1)
    rows = {r["source_id"]: r for r in store.get_records("pubmed", ["1", "2", "3", "4"])}
    assert rows["1"]["retracted"] and not rows["1"]["corrected"]
    assert rows["2"]["corrected"] and not rows["2"]["retracted"]
    assert rows["1"]["first_run_id"] == r1 and rows["4"]["first_run_id"] == r2
    assert store._scalar("SELECT count(*) FROM records") == 4
    links = dict(
        store._rows(
            "SELECT r.source_id, rr.is_new FROM run_records rr JOIN records r USING "
            "(record_id) WHERE rr.run_id = ?", [r2],
        )
    )
    assert links == {"1": False, "2": False, "3": False, "4": True}
    done = store.finish_search_run(r2, outcome="ok", hits=4)
    assert (done["new_records"], done["duplicate_records"], done["hits"]) == (1, 3, 4)
    assert store.record_counts() == {
        "pubmed": {"records": 4, "deleted": 0, "retracted": 1, "corrected": 1}
    }
    assert [f["source_id"] for f in store.flagged_records()] == ["1", "2"]


def test_retracted_publication_type_alone_sets_the_flag(store) -> None:
    store.add_records([_rec(7, publication_types=["Retracted Publication"])], run_id=None)
    assert store.get_records("pubmed", ["7"])[0]["retracted"]


def test_repeated_key_in_one_batch_counts_once(store) -> None:
    run = _run(store)
    res = store.add_records([_rec(1, title="old"), _rec(1, title="new")], run_id=run)
    assert res.new == 1 and res.seen == 1
    assert store.get_records("pubmed", ["1"])[0]["title"] == "new"


def test_records_without_accession_get_a_stable_content_key(store) -> None:
    run = _run(store)
    a = Record(source="embase", title="A  Trial", year=2001, authors=["X Y"])
    b = Record(source="embase", title="a trial", year=2001, authors=["x y"])
    assert content_key(a) == content_key(b)
    # an article and its erratum sharing a DOI stay two records (dedup judges the pair)
    art = Record(source="x", title="MSC in cirrhosis: a trial", year=2020, doi="10.1/AB")
    err = Record(source="x", title="Erratum: MSC in cirrhosis", year=2021, doi="10.1/ab")
    assert content_key(art) != content_key(err)
    assert content_key(art) == content_key(
        Record(source="x", title="MSC in  cirrhosis: a TRIAL", year=2020, doi="10.1/ab"))
    store.add_records([a], run_id=run)
    res = store.add_records([b], run_id=run)
    assert res.new == 0 and store._scalar("SELECT count(*) FROM records") == 1


def test_a_failing_batch_leaves_the_store_as_it_was(store) -> None:
    run = _run(store)
    store.add_records([_rec(1)], run_id=run)
    before = store.dump()
    bad = _rec(2)
    bad.record_type = None  # type: ignore[assignment]  # NOT NULL -> the insert fails
    with pytest.raises(Exception):  # noqa: B017 - any database error
        store.add_records([_rec(3), bad], run_id=run, state={"fetched": 99})
    assert store.dump() == before


def test_mark_deleted_and_undelete_on_reappearance(store) -> None:
    store.add_records([_rec(1), _rec(2)], run_id=None)
    assert store.mark_deleted(["1", "404"]) == 1
    assert store.mark_deleted(["1"]) == 0
    assert store.record_counts()["pubmed"]["deleted"] == 1
    store.add_records([_rec(1)], run_id=None)  # NLM brought it back
    assert store.record_counts()["pubmed"]["deleted"] == 0


def test_link_records_and_known_ids(store) -> None:
    store.add_records([_rec(1), _rec(2)], run_id=_run(store))
    assert store.known_source_ids("pubmed", ["1", "2", "3"]) == {"1", "2"}
    assert store.known_source_ids("embase", ["1"]) == set()
    run = _run(store)
    assert store.link_records(run, "pubmed", ["1", "2", "3"]) == 2
    assert store.link_records(run, "pubmed", ["1"]) == 0
    assert store.run_source_ids([run], "pubmed") == {"1", "2"}


def test_run_log_last_success_and_unfinished(store) -> None:
    a = store.record_search_run(source="pubmed", tool_version="t", review="r", query="q",
                                mindate="2024-01-01", maxdate="2024-02-01",
                                state={"mode": "incremental"})
    store.finish_search_run(a, outcome="ok", hits=0)
    b = store.record_search_run(source="pubmed", tool_version="t", review="r", query="q")
    assert store.last_successful_run("r", "pubmed")["run_id"] == a
    assert store.last_successful_run("r", "pubmed", "other") is None
    assert store.last_successful_run(None, "pubmed") is None
    assert [r["run_id"] for r in store.unfinished_runs("r", "pubmed", "q")] == [b]
    store.mark_interrupted(b, "killed")
    assert store.get_search_run(b)["outcome"] == "interrupted"
    assert store.get_search_run(a)["state"] == {"mode": "incremental"}
    with pytest.raises(Exception, match="finishes as"):
        store.finish_search_run(b, outcome="running")
    store.update_search_run(b, hits=5, query_translation="x")
    assert store.get_search_run(b)["hits"] == 5
    with pytest.raises(Exception, match="not updatable"):
        store.update_search_run(b, outcome="ok")


def test_parse_problems_are_kept(store) -> None:
    run = _run(store)
    store.log_parse_problems(run, [ParseProblem("PMID 5", "no title; skipped")], file="f.xml")
    [p] = store.parse_problems(run)
    assert (p["location"], p["file"], p["message"]) == ("PMID 5", "f.xml", "no title; skipped")
