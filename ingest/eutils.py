"""NCBI E-utilities client (PubMed), on the polite HTTP client of :mod:`ingest.http`.

- Base URL from ``NCBI_EUTILS_URL`` (default NCBI's), ``api_key`` from ``NCBI_API_KEY``,
  ``tool``/``email`` (``NCBI_EMAIL``) sent with every request as NCBI asks; the key and
  e-mail are secrets, masked in every error message.
- NCBI allows 3 requests/s, 10/s with an API key
  (https://www.ncbi.nlm.nih.gov/books/NBK25497/, "Usage Guidelines and Requirements"). The
  client keeps a margin, 0.35 s (0.11 s with a key) between two requests to the host,
  counted across processes, so arrival jitter never puts a fourth request in one second.
- Retries with exponential backoff and jitter on 429, 5xx, time-outs, dropped connections,
  truncated or non-XML bodies and NCBI ``<ERROR>`` answers. When the retries run out a
  :class:`~ingest.errors.NetworkError` is raised: an error is never "no results". What
  retrying cannot fix (DNS failure, bad URL, HTTP 4xx other than 429) fails at once, so an
  offline monthly update goes on within seconds.
- ESearch runs with ``usehistory=y``; EFetch is POSTed in batches of PMIDs, and a batch
  counts only when every record in it parsed (a truncated body is fetched again). Batches
  name their PMIDs instead of paging the WebEnv so that a search resumed hours later (the
  history server forgets a WebEnv) fetches exactly the PMIDs still missing.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import requests

from ingest.errors import InputError
from ingest.http import HostLimiter, PoliteClient, Politeness, Retry
from ingest.pubmed_xml import (
    ESearchResult,
    EutilsError,
    MalformedXML,
    iter_pubmed_xml,
    parse_esearch,
)
from ingest.records import Deletion, ParseProblem, Record

DEFAULT_BASE_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
# ESearch cannot page past the 9,999th id for PubMed (NCBI, E-utilities in depth,
# "ESearch": retstart + retmax is capped at 9,999 for db=pubmed since 2022).
MAX_ESEARCH_IDS = 9999
# Seconds between requests: NCBI's 1/3 s (1/10 s with a key) plus a margin (issue 10.12).
INTERVAL_NO_KEY = 0.35
INTERVAL_WITH_KEY = 0.11
T = TypeVar("T")


@dataclass(frozen=True)
class EUtilsConfig:
    """Where NCBI is and how patient to be with it."""

    base_url: str = DEFAULT_BASE_URL
    api_key: str | None = None
    email: str | None = None
    tool: str = "living-evidence-registry"
    timeout: float = 60.0  # seconds to wait for a response (read time-out)
    connect_timeout: float = 5.0  # short: an offline update must give up within seconds
    max_attempts: int = 6  # tries per request for transient errors (429, 5xx, time-out...)
    max_wait: float = 120.0  # seconds of backoff sleep per request before giving up
    unreachable_attempts: int = 2  # tries when the connection is refused
    backoff_base: float = 1.0  # first backoff delay, doubled per retry
    backoff_cap: float = 30.0

    @classmethod
    def from_env(cls, **overrides: Any) -> EUtilsConfig:
        """Configuration from ``NCBI_EUTILS_URL``, ``NCBI_API_KEY``, ``NCBI_EMAIL``."""
        base = os.environ.get("NCBI_EUTILS_URL") or DEFAULT_BASE_URL
        cfg = cls(
            base_url=base if base.endswith("/") else base + "/",
            api_key=os.environ.get("NCBI_API_KEY") or None,
            email=os.environ.get("NCBI_EMAIL") or None,
        )
        return replace(cfg, **overrides) if overrides else cfg

    @property
    def min_interval(self) -> float:
        """Seconds between two requests to NCBI for this caller (with a margin)."""
        return INTERVAL_WITH_KEY if self.api_key else INTERVAL_NO_KEY

    def politeness(self) -> Politeness:
        """The HTTP client's policy for this configuration."""
        return Politeness(
            min_interval=self.min_interval, timeout=self.timeout,
            connect_timeout=self.connect_timeout, max_attempts=self.max_attempts,
            max_wait=self.max_wait, unreachable_attempts=self.unreachable_attempts,
            backoff_base=self.backoff_base, backoff_cap=self.backoff_cap,
        )


@dataclass
class FetchResult:
    """Records of one EFetch batch and the PMIDs asked for that did not come back."""

    records: list[Record] = field(default_factory=list)
    deletions: list[Deletion] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


class EUtilsClient:
    """ESearch/EFetch for PubMed with rate limiting and retries.

    ``limiter`` (default: the host's process-wide, cross-process limiter), ``sleep`` and
    ``rng`` are injectable so tests run the real code on a fake clock.
    """

    def __init__(
        self,
        config: EUtilsConfig | None = None,
        *,
        session: requests.Session | None = None,
        limiter: HostLimiter | None = None,
        sleep: Callable[[float], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config or EUtilsConfig.from_env()
        self.http = PoliteClient(
            "NCBI E-utilities", self.config.politeness(),
            secrets=[self.config.api_key, self.config.email], session=session,
            limiter=limiter, sleep=sleep, rng=rng, user_agent_tool=self.config.tool,
        )

    @property
    def requests(self) -> Counter[str]:
        """HTTP attempts per endpoint."""
        return self.http.requests

    @property
    def retries(self) -> Counter[str]:
        """Why attempts were repeated."""
        return self.http.retries

    @property
    def session(self) -> requests.Session:
        """The HTTP session (one connection pool per client)."""
        return self.http.session

    # -- public calls --------------------------------------------------------------
    def esearch(
        self,
        term: str,
        *,
        mindate: str | None = None,
        maxdate: str | None = None,
        datetype: str = "crdt",
        retmax: int = MAX_ESEARCH_IDS,
        retstart: int = 0,
        db: str = "pubmed",
    ) -> ESearchResult:
        """Run ESearch (``usehistory=y``); dates are ``YYYY/MM/DD`` on ``datetype``.

        ``ErrorList`` entries (e.g. a phrase not found) are NCBI's answer and are returned;
        an ``<ERROR>`` answer, a bad body or an HTTP failure is retried and finally raised.
        """
        params: dict[str, Any] = {
            "db": db, "term": term, "usehistory": "y", "retmax": retmax,
            "retstart": retstart,
        }
        if mindate or maxdate:
            if not (mindate and maxdate):
                raise InputError("ESearch needs both mindate and maxdate for a date window")
            params.update(datetype=datetype, mindate=mindate, maxdate=maxdate)
        return self._call("esearch.fcgi", params, lambda b: parse_esearch(b, file_label="ESearch"))

    def efetch(self, pmids: Sequence[str], *, db: str = "pubmed") -> FetchResult:
        """POST one EFetch for ``pmids``; every record parsed or the batch is fetched again.

        PMIDs the body does not contain (withdrawn between search and fetch) are asked for
        once more and then reported in ``missing``: never silently dropped.
        """
        result = self._efetch_once(list(pmids), db)
        if result.missing:
            again = self._efetch_once(result.missing, db)
            result.records += again.records
            result.deletions += again.deletions
            result.problems += again.problems
            result.missing = again.missing
        return result

    # -- internals -----------------------------------------------------------------
    def _efetch_once(self, pmids: list[str], db: str) -> FetchResult:
        label = f"EFetch of {len(pmids)} PMIDs ({pmids[0]}..{pmids[-1]})"

        def parse(body: bytes) -> FetchResult:
            # An HTML error page or a JSON rate-limit message can arrive with status 200.
            if b"<PubmedArticleSet" not in body[:4096]:
                raise Retry(f"{label}: answer is not a PubmedArticleSet")
            out = FetchResult()
            for item in iter_pubmed_xml(body, source_name="pubmed", file_label=label):
                if isinstance(item, Record):
                    out.records.append(item)
                elif isinstance(item, Deletion):
                    out.deletions.append(item)
                else:
                    out.problems.append(item)
            return out

        res = self._call(
            "efetch.fcgi", {"db": db, "id": ",".join(pmids), "retmode": "xml"}, parse
        )
        got = {r.pmid for r in res.records}
        got |= {p.where.removeprefix("PMID ").strip() for p in res.problems}
        res.missing = [p for p in pmids if p not in got]
        return res

    def _params(self, params: dict[str, Any]) -> dict[str, Any]:
        out = dict(params)
        out["tool"] = self.config.tool
        if self.config.email:
            out["email"] = self.config.email
        if self.config.api_key:
            out["api_key"] = self.config.api_key
        return out

    def _call(self, endpoint: str, params: dict[str, Any], parse: Callable[[bytes], T]) -> T:
        """POST with retries; ``parse`` turns the body into the result or raises."""

        def checked(body: bytes) -> T:
            try:
                return parse(body)
            except MalformedXML as exc:  # cut short or not XML: ask again
                raise Retry(f"malformed: {exc}") from None
            except EutilsError as exc:  # NCBI's <ERROR> answer: usually "try later"
                raise Retry(f"ncbi-error: {exc}") from None

        return self.http.post(
            self.config.base_url + endpoint, data=self._params(params), parse=checked,
            label=endpoint,
        )
