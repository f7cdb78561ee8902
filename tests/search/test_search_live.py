"""Against the real NCBI E-utilities (``pytest -m live``; excluded by default)."""

from __future__ import annotations

import pytest

from ingest.eutils import EUtilsClient, EUtilsConfig
from registry.intake.run import run_search


@pytest.mark.live
def test_live_pubmed_search_and_fetch(store, monkeypatch) -> None:
    monkeypatch.delenv("NCBI_EUTILS_URL", raising=False)
    client = EUtilsClient(EUtilsConfig.from_env())
    # PMID 11748933 is a record biopython's own tests fetch (Tests/Entrez/pubmed2.xml).
    res = client.efetch(["11748933"])
    assert [r.pmid for r in res.records] == ["11748933"]
    [s] = run_search(
        store, query="mesenchymal stem cells[MeSH Terms] AND liver cirrhosis[MeSH Terms] "
        "AND randomized controlled trial[pt]", client=client, batch=500,
    )
    assert s.outcome == "ok" and s.hits > 0 and s.new == s.hits
    assert s.query_translation
    assert sum(s.requests.values()) <= -(-s.hits // 500) + 1
