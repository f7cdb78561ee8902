"""The protocol's saved searches drive the new sources: condition / intervention / terms
for ClinicalTrials.gov (under any alias of its name), the query for Europe PMC."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from registry.curation.load import load_review
from registry.sources import search_clinicaltrials, search_europepmc, update_sources
from schemas.protocol import REVIEWS_DIR, load_protocol

EXTRA = """
  - source: ctgov
    live: true
    condition: "liver cirrhosis"
    intervention: "mesenchymal stem cells"
    query: "randomized"
  - source: europe_pmc
    live: true
    query: '(mesenchymal AND cirrhosis) AND (SRC:MED OR SRC:PPR)'
"""


@pytest.fixture
def review(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The bundled review with two more saved searches, in a scratch reviews folder."""
    dest = tmp_path / "reviews" / "msc-cirrhosis"
    shutil.copytree(REVIEWS_DIR / "msc-cirrhosis", dest)
    text = (dest / "protocol.yaml").read_text(encoding="utf-8")
    text = text.replace("\neligibility:", EXTRA + "\neligibility:", 1)
    (dest / "protocol.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("REGISTRY_REVIEWS", str(tmp_path / "reviews"))
    return "msc-cirrhosis"


def test_saved_searches_parsed(review: str) -> None:
    ct = [s for s in load_protocol(review).searches if s.source == "ctgov"]
    assert [(s.condition, s.intervention, s.query) for s in ct] == [
        ("liver cirrhosis", "mesenchymal stem cells", "randomized")]


def test_saved_searches_sent_to_the_apis(review, store, api, make_client) -> None:
    [ct] = search_clinicaltrials(store, review, client=make_client("ctgov"))
    sent = api.requests("ctgov")[0].params
    assert (sent["query.cond"], sent["query.intr"], sent["query.term"]) == (
        "liver cirrhosis", "mesenchymal stem cells", "randomized")
    assert ct.new == 6 and ct.review == review
    [ep] = search_europepmc(store, review, client=make_client("europepmc"), page_size=1000)
    assert api.requests("europepmc")[0].params["query"].startswith("((mesenchymal AND cirrhosis)")
    assert ep.new == 1000 and ep.source == "europepmc"


def test_update_sources_goes_on_when_one_source_is_down(review, store, api, make_client):
    load_review(store, review)
    api.add_retraction("10.1186/scrt459")  # built from a real notice (see apis.py)
    api.inject("ctgov", "500", from_n=1)
    res = update_sources(store, review, ctgov=make_client("ctgov", max_attempts=2),
                         europepmc=make_client("europepmc"), crossref=make_client("crossref"))
    assert [u.split(" ")[0] for u in res.unreachable] == ["clinicaltrials_gov"]
    assert res.new_records == 1000 and res.new_trials == 0
    assert [(f.study_id, f.kind) for f in res.watch.new_serious] == [("Salama2014", "retraction")]
    assert any(line.startswith("Salama2014: retraction") for line in res.lines())


def test_update_sources_offline_reads_only_the_store(review, store, api):
    res = update_sources(store, review, offline=True)
    assert res.summaries == [] and res.unreachable == [] and res.watch.checked == 0
    assert api.seen == []
