"""Living searches end to end against the replay server (in-process, fake clock)."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from registry.errors import InputError, NetworkError
from registry.search import run_search
from registry.store import Store

TODAY = dt.date(2026, 11, 25)


def _pmids(store: Store) -> list[str]:
    return [r[0] for r in store._rows("SELECT source_id FROM records WHERE source = 'pubmed'")]


def _assert_exactly_once(store: Store, expected: set[str]) -> None:
    got = _pmids(store)
    assert len(got) == len(set(got)), "a PMID is stored twice"
    assert set(got) == expected


@pytest.mark.parametrize("batch", [500, 100, 37])
def test_full_search_fetches_every_record_once_within_the_request_bound(
    store, server, make_client, batch
) -> None:
    n = len(server.corpus)
    [s] = run_search(store, query="stem cells", batch=batch, client=make_client(), today=TODAY)
    _assert_exactly_once(store, set(server.corpus))
    assert (s.hits, s.new, s.duplicates, s.outcome, s.mode) == (n, n, 0, "ok", "full")
    assert server.count("esearch") == 1
    assert server.count() <= math.ceil(n / batch) + 1  # the bound
    assert sum(s.requests.values()) == server.count()
    run = store.get_search_run(s.run_id)
    assert run["query_translation"] == "stem cells" and run["hits"] == n
    assert run["new_records"] == n and run["tool_version"].startswith("registry ")


def test_incremental_run_with_nothing_new_costs_one_esearch(store, server, make_client) -> None:
    client = make_client()
    run_search(store, query="q", client=client, today=TODAY)
    before = server.count()
    [s] = run_search(store, query="q", client=client, today=TODAY)
    assert server.count() - before == 1 and server.requests("esearch")[-1].params["datetype"]
    assert s.mode == "incremental" and s.new == 0 and s.fetched == 0
    # the window reaches back the overlap (3 days) before the last run's date
    assert s.mindate == TODAY - dt.timedelta(days=3) and s.maxdate == TODAY
    p = server.requests("esearch")[-1].params
    assert (p["mindate"], p["maxdate"], p["datetype"]) == ("2026/11/22", "2026/11/25", "crdt")


def test_incremental_run_fetches_only_new_and_links_known(store, server, make_client) -> None:
    """Records created inside the overlap window are already stored: linked, not fetched."""
    ids = server.ids_in_window("", None, None)
    newest = sorted(server.corpus.values(), key=lambda r: r.crdt)[-5:]
    recent = {r.pmid for r in newest}
    last_day = newest[0].crdt - dt.timedelta(days=1)
    server.queries["q"] = [i for i in ids if i not in recent]
    client = make_client()
    run_search(store, query="q", client=client, today=last_day)
    # A month later five new records exist; one of the old ones falls inside the overlap.
    server.queries["q"] = ids
    [s] = run_search(store, query="q", client=client, today=newest[-1].crdt, overlap_days=3)
    _assert_exactly_once(store, set(ids))
    assert s.new == 5 and s.fetched == 5
    req = server.requests("efetch")[-1]
    assert set(req.params["id"].split(",")) == recent


def test_full_rerun_refreshes_and_counts_duplicates(store, server, make_client) -> None:
    client = make_client()
    run_search(store, query="q", client=client, today=TODAY)
    [s] = run_search(store, query="q", full=True, client=client, today=TODAY)
    n = len(server.corpus)
    assert (s.mode, s.new, s.duplicates, s.fetched) == ("full", 0, n, n)
    _assert_exactly_once(store, set(server.corpus))


def test_more_than_9999_hits_are_split_into_date_windows(store, server, make_client) -> None:
    """NCBI cannot list past 9,999 ids: a window holding more than 99 of the real records
    claims 100 times as many hits (> 9,999), so the client must halve crdt windows until
    each one lists all of its ids (smaller windows report their true count)."""
    server.count_hook = lambda lo, hi, true: true * 100 if true > 99 else true
    [s] = run_search(store, query="q", client=make_client(), today=TODAY, batch=500)
    _assert_exactly_once(store, set(server.corpus))
    n = len(server.corpus)
    assert s.windows > 2 and s.hits == n * 100  # the top-level count is what PubMed said
    searched = [
        (r.params.get("mindate"), r.params.get("maxdate")) for r in server.requests("esearch")
    ]
    assert searched[0] == (None, None)  # first the plain query, then the windows
    day = lambda v: dt.date(*map(int, v.split("/")))  # noqa: E731
    leaves = []
    for lo, hi in searched[1:]:
        inside = [p for p, r in server.corpus.items() if day(lo) <= r.crdt <= day(hi)]
        if len(inside) <= 99:
            leaves.append((day(lo), day(hi)))
    leaves.sort()
    # the leaf windows tile the whole range with no gap and no overlap
    assert leaves[0][0] == dt.date(1700, 1, 1) and leaves[-1][1] == TODAY
    for (_, b), (c, _) in zip(leaves, leaves[1:], strict=False):
        assert c == b + dt.timedelta(days=1)
    assert len(leaves) == s.windows
    assert all(int(r.params["retmax"]) == 9999 for r in server.requests("esearch"))


def test_too_many_hits_on_a_single_day_is_an_error(store, server, make_client) -> None:
    server.count_hook = lambda lo, hi, true: 10_000
    with pytest.raises(InputError, match="narrow the query"):
        run_search(store, query="q", client=make_client(), today=TODAY)
    assert store.search_runs()[-1]["outcome"] == "failed"


def test_small_window_cap_splits_with_real_counts(store, server, make_client) -> None:
    [s] = run_search(
        store, query="q", client=make_client(), today=TODAY, max_window_hits=60
    )
    _assert_exactly_once(store, set(server.corpus))
    assert s.windows >= len(server.corpus) // 60


def test_faults_during_a_search_still_give_every_record_once(store, server, make_client) -> None:
    server.inject("esearch", "429", at=[1])
    server.inject("efetch", "500", at=[1])
    server.inject("efetch", "timeout", at=[3])
    server.inject("efetch", "truncated", at=[5])
    server.inject("efetch", "reset", at=[7])
    [s] = run_search(store, query="q", client=make_client(), batch=50, today=TODAY)
    _assert_exactly_once(store, set(server.corpus))
    assert s.outcome == "ok" and s.new == len(server.corpus)


def test_network_failure_is_logged_and_the_next_run_resumes(store, server, make_client) -> None:
    """NCBI gives up half-way: the run is 'failed' (never 'no results'), committed batches
    stay, and the next run fetches only what is missing."""
    server.inject("efetch", "503", from_n=3)
    with pytest.raises(NetworkError):
        run_search(store, query="q", client=make_client(max_attempts=2), batch=50,
                   today=TODAY)
    first = store.search_runs()[-1]
    assert first["outcome"] == "failed" and "503" in first["error"]
    stored = set(_pmids(store))
    assert len(stored) == 100  # two committed batches of 50
    server.clear_faults()
    n_fetch = server.count("efetch")
    [s] = run_search(store, query="q", client=make_client(), batch=50, today=TODAY)
    _assert_exactly_once(store, set(server.corpus))
    assert s.resumed_from == (first["run_id"],) and s.outcome == "ok"
    fetched_again = {
        i for r in server.requests("efetch")[n_fetch:] for i in r.params["id"].split(",")
    }
    assert not fetched_again & stored


def test_max_records_interrupts_and_the_next_run_resumes(store, server, make_client) -> None:
    client = make_client()
    [a] = run_search(store, query="q", client=client, batch=40, max_records=80, today=TODAY)
    assert a.outcome == "interrupted" and len(_pmids(store)) == 80
    [b] = run_search(store, query="q", client=client, batch=40, today=TODAY)
    assert b.outcome == "ok" and b.resumed_from == (a.run_id,)
    _assert_exactly_once(store, set(server.corpus))
    assert a.new + b.new == len(server.corpus)
    # the resumed run is still a full search; the next one is incremental
    assert b.mode == "full"
    [c] = run_search(store, query="q", client=client, today=TODAY)
    assert c.mode == "incremental"


def test_a_review_runs_its_saved_pubmed_query(store, server, make_client, tmp_path,
                                              monkeypatch) -> None:
    import registry.search as search

    monkeypatch.setattr(search, "saved_queries", lambda review: ["saved query"])
    [s] = run_search(store, "my-review", client=make_client(), today=TODAY)
    assert s.review == "my-review" and s.query == "saved query"
    assert server.requests("esearch")[0].params["term"] == "saved query"
    assert store.last_successful_run("my-review", "pubmed")["run_id"] == s.run_id
    # a different query for the same review starts with a full search of its own
    [t] = run_search(store, "my-review", query="other", client=make_client(), today=TODAY)
    assert t.mode == "full"


def test_saved_queries_come_from_the_protocol(monkeypatch, tmp_path) -> None:
    folder = tmp_path / "r1"
    folder.mkdir()
    src = (
        __import__("schemas.protocol", fromlist=["REVIEWS_DIR"]).REVIEWS_DIR
        / "msc-cirrhosis" / "protocol.yaml"
    )
    folder.joinpath("protocol.yaml").write_text(
        src.read_text(encoding="utf-8").replace("review: msc-cirrhosis", "review: r1"),
        encoding="utf-8",
    )
    monkeypatch.setenv("REGISTRY_REVIEWS", str(tmp_path))
    from registry.search import saved_queries
    from schemas.protocol import load_protocol

    expected = [s.query for s in load_protocol("r1").searches if s.source == "pubmed"]
    assert saved_queries("r1") == expected and expected


def test_fewer_ids_than_the_count_is_an_error_not_a_short_result(
    store, server, make_client
) -> None:
    server.count_hook = lambda lo, hi, true: true + 5  # NCBI claims 5 more than it lists
    with pytest.raises(NetworkError, match="listed"):
        run_search(store, query="q", client=make_client(), today=TODAY)
    assert server.count("esearch") == 2  # asked twice before giving up
    assert store.search_runs()[-1]["outcome"] == "failed"
    assert store._scalar("SELECT count(*) FROM records") == 0


def test_pmid_missing_from_efetch_is_reported_not_dropped(store, server, make_client) -> None:
    server.phantom_ids = ["99999999"]
    [s] = run_search(store, query="q", client=make_client(), today=TODAY)
    assert s.outcome == "ok" and s.problems == 1 and s.new == len(server.corpus)
    [p] = store.parse_problems(s.run_id)
    assert p["location"] == "PMID 99999999" and "EFetch returned no record" in p["message"]
    # asked once more, alone, before it was reported
    assert server.requests("efetch")[-1].params["id"] == "99999999"
    assert store.get_search_run(s.run_id)["skipped_records"] == 1


def test_bad_options_are_input_errors(store, make_client) -> None:
    with pytest.raises(InputError):
        run_search(store, client=make_client())
    with pytest.raises(InputError):
        run_search(store, query="  ", client=make_client())
    with pytest.raises(InputError):
        run_search(store, query="q", batch=0, client=make_client())
    assert store.search_runs() == []


def test_ctrl_c_marks_the_run_interrupted_and_progress_is_reported(
    store, server, make_client
) -> None:
    client = make_client()
    calls: list[tuple[int, int | None, str]] = []
    real = client.efetch

    def efetch(ids):
        if len(calls) >= 3:  # start message + two batches done, then the user presses ^C
            raise KeyboardInterrupt
        return real(ids)

    client.efetch = efetch  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        run_search(store, query="q", client=client, batch=50, today=TODAY,
                   progress=lambda d, t, m: calls.append((d, t, m)))
    n = len(server.corpus)
    assert calls[0] == (0, n, f"fetching {n} records")
    assert [c[0] for c in calls[1:]] == [50, 100]
    [run] = store.search_runs()
    assert run["outcome"] == "interrupted" and run["new_records"] == 100
    client.efetch = real  # type: ignore[method-assign]
    [s] = run_search(store, query="q", client=client, batch=50, today=TODAY)
    assert s.resumed_from == (run["run_id"],) and s.new == n - 100
    _assert_exactly_once(store, set(server.corpus))
