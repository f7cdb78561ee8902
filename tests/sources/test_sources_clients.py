"""Fault tests of the three API clients against the loopback replay (as for PubMed):
429 / 5xx / truncated / cut-short bodies are retried and every record arrives once; the
documented rate is never exceeded; what retrying cannot fix fails fast with a message."""

from __future__ import annotations

import pytest
from conftest import min_gap

from ingest import crossref, ctgov, europepmc
from ingest.errors import NetworkError
from ingest.http import Politeness
from ingest.jsonapi import ApiRefused


@pytest.mark.parametrize("fault", ["429", "500", "503", "504", "truncated", "short", "html"])
def test_ctgov_page_retried_after_fault(api, make_client, clock, fault) -> None:
    client = make_client("ctgov")
    api.inject("ctgov", fault, at=[1])
    page, attempts = client.search(cond="any", page_size=4)
    assert attempts == 2 and len(page.trials) == 4 and page.next_token
    assert min_gap(clock) >= ctgov.INTERVAL - 1e-9


@pytest.mark.parametrize("fault", ["429", "500", "truncated", "reset"])
def test_europepmc_pages_every_record_once_under_faults(api, make_client, clock, fault) -> None:
    client = make_client("europepmc")
    api.inject("europepmc", fault, at=[2, 5])
    seen, cursor = [], None
    while True:
        page, _ = client.search("cancer", cursor=cursor, page_size=250, result_type="lite")
        seen += [r.source_id for r in page.records]
        if not page.next_cursor or page.next_cursor == cursor:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == 1000
    assert min_gap(clock) >= europepmc.INTERVAL - 1e-9
    assert sum(client.retries.values()) == 2


def test_crossref_5xx_retried_with_backoff(api, make_client, clock) -> None:
    client = make_client("crossref")
    api.inject("crossref", "503", at=[1, 2])
    assert client.work("10.1371/journal.pone.0033693")["DOI"] == "10.1371/journal.pone.0033693"
    assert len(api.requests("crossref")) == 3 and len(clock.sleeps) >= 2


def test_crossref_unknown_doi_is_none_and_bad_request_fails_fast(api, make_client) -> None:
    client = make_client("crossref")
    assert client.work("10.1371/notarealdoi") is None  # recorded 404 "Resource not found."
    with pytest.raises(ApiRefused, match="HTTP 400") as err:
        client.get("works", {"sample": 200})  # the recorded 400 validation failure
    assert err.value.status == 400 and len(api.requests("crossref")) == 2  # no retry


def test_gives_up_after_max_attempts_with_a_message(api, make_client) -> None:
    client = make_client("crossref", max_attempts=3)
    api.inject("crossref", "500", from_n=1)
    with pytest.raises(NetworkError, match="failed after 3 tries"):
        client.notices("10.1371/journal.pone.0120799")


def test_unreachable_host_fails_fast_and_redacts_mailto(monkeypatch) -> None:
    monkeypatch.setenv("CROSSREF_URL", "http://127.0.0.1:9")  # discard port: refused
    monkeypatch.setenv("CROSSREF_MAILTO", "curator@example.org")
    client = crossref.CrossrefClient.from_env(Politeness(0.25, connect_timeout=0.5))
    with pytest.raises(NetworkError) as err:
        client.work("10.1/x")
    assert "unreachable" in str(err.value) and "curator@example.org" not in str(err.value)


def test_crossref_check_finds_built_retraction(api, make_client) -> None:
    # No update-to of type retraction was recorded: the replay builds one from a real
    # PLOS correction notice (tests/sources/apis.py, add_retraction).
    notice = api.add_retraction("10.1371/journal.pone.0033693")
    found = make_client("crossref").check("10.1371/journal.pone.0033693", None)
    kinds = {(u.kind, u.notice_doi, u.source) for u in found}
    assert ("retraction", notice, "crossref update-to") in kinds
    assert ("correction", "10.1371/annotation/c76da2c1-ccb8-4797-94c1-359d3ceceeda",
            "crossref updated-by (publisher)") in kinds
