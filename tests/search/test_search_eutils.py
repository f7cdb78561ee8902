"""The E-utilities client against the loopback replay server: retries, fail-fast, rate limit.

Every body the client parses here is real: EFetch answers are the fixture records' own
bytes, and the biopython esearch*.xml files are served verbatim through the same path.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from replay import ReplayServer

from ingest.eutils import EUtilsClient, EUtilsConfig
from ingest.http import HostLimiter, host_limiter
from registry.errors import NetworkError


def _some_ids(server: ReplayServer, n: int) -> list[str]:
    return server.ids_in_window("", None, None)[:n]


# -- happy path and what is sent --------------------------------------------------------
def test_efetch_returns_exactly_the_requested_records(server, make_client) -> None:
    ids = _some_ids(server, 40)
    res = make_client().efetch(ids)
    assert sorted(r.pmid for r in res.records) == sorted(ids)
    assert res.missing == [] and res.problems == []
    req = server.requests("efetch")[0]
    assert req.method == "POST"  # batches go by POST (NCBI: > 200 ids)
    assert req.params["id"].split(",") == ids
    assert req.params["db"] == "pubmed" and req.params["retmode"] == "xml"


def test_api_key_tool_and_email_are_sent(server, make_client) -> None:
    client = make_client(api_key="k123", email="team@example.org")
    client.esearch("stem cells")
    p = server.requests("esearch")[0].params
    assert p["api_key"] == "k123" and p["email"] == "team@example.org"
    assert p["tool"] and p["usehistory"] == "y"
    assert client.http.policy.min_interval == 0.11  # with a key NCBI allows 10/s


def test_config_from_environment(monkeypatch) -> None:
    monkeypatch.setenv("NCBI_EUTILS_URL", "http://127.0.0.1:1/eutils")
    monkeypatch.setenv("NCBI_API_KEY", "abc")
    monkeypatch.setenv("NCBI_EMAIL", "me@example.org")
    cfg = EUtilsConfig.from_env()
    assert cfg.base_url == "http://127.0.0.1:1/eutils/"
    assert (cfg.api_key, cfg.email, cfg.min_interval) == ("abc", "me@example.org", 0.11)
    monkeypatch.delenv("NCBI_EUTILS_URL")
    monkeypatch.delenv("NCBI_API_KEY")
    cfg = EUtilsConfig.from_env()
    assert cfg.base_url == "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
    assert cfg.min_interval == 0.35


@pytest.mark.parametrize(
    ("name", "count", "n_ids", "translation"),
    [
        # Values read off the files in ../shared/fixtures/pubmed/biopython/.
        ("esearch1.xml", 63, 20, '"biopython"[All Fields]'),
        ("esearch2.xml", 42249, 100, None),
        ("esearch3.xml", 2651, 6, '"proc natl acad sci u s a"[Journal] AND "97"[Volume]'),
        ("esearch8.xml", 0, 0, "(abcXYZ[All Fields])"),
    ],
)
def test_real_esearch_files_go_through_the_client(
    server, make_client, fixtures: Path, name, count, n_ids, translation
) -> None:
    server.fixed_esearch = (fixtures / "biopython" / name).read_bytes()
    res = make_client().esearch("anything")
    assert res.count == count and len(res.ids) == n_ids
    if translation:
        assert res.query_translation == translation
    if name == "esearch2.xml":
        assert res.webenv == "MCID_6927d6e7fee3e90f880ec190" and res.query_key == "1"
    if name == "esearch8.xml":  # no hits is NCBI's answer, with its ErrorList kept
        assert res.errors == ["PhraseNotFound: abcXYZ"]


# -- transient faults are retried, the answer is complete --------------------------------
@pytest.mark.parametrize(
    "kind", ["429", "500", "502", "503", "timeout", "truncated", "short", "reset", "error",
             "html"]
)
def test_each_fault_is_retried_and_every_record_arrives_once(
    server, make_client, clock, kind
) -> None:
    ids = _some_ids(server, 30)
    server.inject("efetch", kind, at=[1, 2])
    client = make_client()
    res = client.efetch(ids)
    assert sorted(r.pmid for r in res.records) == sorted(ids)
    assert len({r.pmid for r in res.records}) == len(res.records)
    assert server.count("efetch") == 3
    # two backoff sleeps on the fake clock, growing (1 s then 2 s base, jittered)
    backoffs = [s for s in clock.sleeps if s >= 0.5]
    assert len(backoffs) >= 2 and backoffs[1] >= backoffs[0] * 0.5


def test_esearch_faults_are_retried(server, make_client) -> None:
    server.inject("esearch", "429", at=[1])
    server.inject("esearch", "error", at=[2])
    server.inject("esearch", "truncated", at=[3])
    res = make_client().esearch("stem cells")
    assert res.count == len(server.corpus) and len(res.ids) == res.count
    assert server.count("esearch") == 4


def test_persistent_error_is_never_no_results(server, make_client) -> None:
    server.inject("esearch", "500", from_n=1)
    with pytest.raises(NetworkError, match="esearch.fcgi failed after 3 tries"):
        make_client(max_attempts=3).esearch("stem cells")
    server.clear_faults()
    server.inject("efetch", "error", from_n=1)
    with pytest.raises(NetworkError, match="efetch.fcgi failed"):
        make_client(max_attempts=2).efetch(_some_ids(server, 5))


def test_max_wait_bounds_the_total_backoff(server, make_client, clock) -> None:
    server.inject("efetch", "503", from_n=1)
    with pytest.raises(NetworkError):
        make_client(max_attempts=50, max_wait=10.0).efetch(_some_ids(server, 3))
    assert sum(s for s in clock.sleeps if s >= 0.3) <= 10.0


def test_retry_after_header_is_honoured(make_client, clock, monkeypatch) -> None:
    client = make_client()
    import requests

    calls = {"n": 0}

    def fake_request(method, url, data=None, timeout=None, **kw):
        calls["n"] += 1
        r = requests.Response()
        if calls["n"] == 1:
            r.status_code, r._content = 429, b"{}"
            r.headers["Retry-After"] = "7"
        else:
            r.status_code = 200
            r._content = (
                b'<?xml version="1.0"?><eSearchResult><Count>0</Count><RetMax>0</RetMax>'
                b"<RetStart>0</RetStart><IdList/></eSearchResult>"
            )
        return r

    monkeypatch.setattr(client.session, "request", fake_request)
    client.esearch("x")
    assert 7.0 in clock.sleeps


def test_bad_request_fails_at_once(server, make_client) -> None:
    client = make_client()
    client.config = EUtilsConfig(base_url=server.url + "nope/", timeout=0.3)
    with pytest.raises(NetworkError, match="HTTP 400"):
        client._call("unknown.fcgi", {}, lambda b: b)
    assert server.count() == 1


# -- unreachable host: fail fast ----------------------------------------------------------
def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_unreachable_host_fails_fast(clock) -> None:
    port = _closed_port()
    cfg = EUtilsConfig(base_url=f"http://127.0.0.1:{port}/", unreachable_attempts=2)
    client = EUtilsClient(cfg, limiter=HostLimiter(0.35, clock=clock, sleep=clock.sleep))
    with pytest.raises(NetworkError, match="unreachable.*connection refused.*2 tries"):
        client.esearch("x")
    assert client.requests["esearch.fcgi"] == 2
    assert sum(s for s in clock.sleeps if s > 0.34) < 2.0  # a short, bounded wait


# -- the rate limiter ---------------------------------------------------------------------
@pytest.mark.parametrize(("api_key", "interval"), [(None, 0.35), ("key", 0.11)])
def test_rate_limiter_spacing_on_a_fake_clock(server, clock, api_key, interval) -> None:
    """NCBI allows 3/s (10/s with a key); the client keeps a margin above 1/3 s and 1/10 s."""
    cfg = EUtilsConfig(base_url=server.url, api_key=api_key, timeout=1.0)
    limiter = HostLimiter(cfg.min_interval, clock=clock, sleep=clock.sleep)
    granted: list[float] = []
    acquire = limiter.acquire
    limiter.acquire = lambda: granted.append(acquire()) or granted[-1]  # type: ignore[method-assign]
    client = EUtilsClient(cfg, limiter=limiter)
    ids = _some_ids(server, 12)
    for i in range(0, 12, 2):
        client.efetch(ids[i : i + 2])
    client.esearch("x")
    assert len(granted) == 7 == server.count()
    gaps = [b - a for a, b in zip(granted, granted[1:], strict=False)]
    assert min(gaps) >= interval - 1e-9
    assert max(gaps) <= interval + 1e-9  # and no slower than needed
    limit = 10 if api_key else 3
    # no 1-second window holds more requests than NCBI allows, on the fake clock
    assert all(sum(1 for t in granted if g <= t < g + 1.0) <= limit for g in granted)


def test_one_limiter_per_host_for_the_whole_process() -> None:
    a = EUtilsClient(EUtilsConfig(base_url="http://127.0.0.1:1/"))
    b = EUtilsClient(EUtilsConfig(base_url="http://127.0.0.1:1/other/"))
    assert a.http.limiter is None  # chosen per URL: the host's shared limiter
    assert host_limiter("http://127.0.0.1:1/x", 0.35) is host_limiter("127.0.0.1:1", 0.35)
    assert host_limiter("http://127.0.0.1:2/", 0.35) is not host_limiter("127.0.0.1:1", 0.35)
    assert b.config.min_interval == 0.35
