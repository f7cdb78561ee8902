"""NCBI E-utilities client: the registry's only network code.

- Base URL from ``NCBI_EUTILS_URL`` (default NCBI's), ``api_key`` from ``NCBI_API_KEY``,
  ``tool``/``email`` (``NCBI_EMAIL``) sent with every request as NCBI asks.
- One rate limiter for the whole process: at most 3 requests/s, 10/s with an API key
  (https://www.ncbi.nlm.nih.gov/books/NBK25497/, "Usage Guidelines and Requirements").
- Retries with exponential backoff and jitter on 429, 5xx, time-outs, dropped connections,
  truncated or non-XML bodies and NCBI ``<ERROR>`` answers. When the retries run out a
  :class:`~registry.errors.NetworkError` is raised: an error is never "no results".
- A host that cannot be reached at all (DNS failure, connection refused) fails fast after
  ``unreachable_attempts`` tries, so an offline monthly update goes on within seconds.
- ESearch runs with ``usehistory=y``; EFetch is POSTed in batches of PMIDs, and a batch
  counts only when every record in it parsed (a truncated body is fetched again). Batches
  name their PMIDs instead of paging the WebEnv so that a search resumed hours later (the
  history server forgets a WebEnv) fetches exactly the PMIDs still missing.
"""

from __future__ import annotations

import importlib.metadata
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import requests
from urllib3.exceptions import NewConnectionError

from ingest.errors import InputError, NetworkError
from ingest.pubmed_xml import (
    ESearchResult,
    EutilsError,
    MalformedXML,
    iter_pubmed_xml,
    parse_esearch,
)
from ingest.records import Deletion, ParseProblem, Record


def _version() -> str:
    """The installed registry's version, for the User-Agent (read without importing registry)."""
    try:
        return importlib.metadata.version("living-evidence-registry")
    except importlib.metadata.PackageNotFoundError:
        return "dev"

DEFAULT_BASE_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
# ESearch cannot page past the 9,999th id for PubMed (NCBI, E-utilities in depth,
# "ESearch": retstart + retmax is capped at 9,999 for db=pubmed since 2022).
MAX_ESEARCH_IDS = 9999
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
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
    unreachable_attempts: int = 2  # tries when the host cannot be reached at all
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
    def rate(self) -> float:
        """Requests per second NCBI allows this caller."""
        return 10.0 if self.api_key else 3.0


class RateLimiter:
    """Spaces calls at least ``1/rate`` seconds apart (thread-safe).

    ``clock`` and ``sleep`` are injectable so tests can measure the spacing on a fake
    clock instead of wall time.
    """

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._lock = threading.Lock()
        self.clock = clock
        self.sleep = sleep
        self._next = float("-inf")
        self.set_rate(rate)

    def set_rate(self, rate: float) -> None:
        """Change the allowed requests per second."""
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.interval = 1.0 / rate

    def acquire(self) -> float:
        """Block until the next call is allowed; return the time it was granted."""
        with self._lock:
            now = self.clock()
            if now < self._next:
                self.sleep(self._next - now)
                now = max(self.clock(), self._next)
            self._next = now + self.interval
            return now


_PROCESS_LIMITER = RateLimiter(3.0)


def process_limiter(rate: float) -> RateLimiter:
    """The one limiter every client in this process shares, set to ``rate``."""
    if _PROCESS_LIMITER.rate != rate:
        _PROCESS_LIMITER.set_rate(rate)
    return _PROCESS_LIMITER


class _Transient(Exception):
    """A failure worth retrying; ``retry_after`` is the server's hint in seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class _Unreachable(Exception):
    """The host did not accept a connection (DNS failure, refused, connect time-out)."""


@dataclass
class FetchResult:
    """Records of one EFetch batch and the PMIDs asked for that did not come back."""

    records: list[Record] = field(default_factory=list)
    deletions: list[Deletion] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


class EUtilsClient:
    """ESearch/EFetch for PubMed with rate limiting and retries."""

    def __init__(
        self,
        config: EUtilsConfig | None = None,
        *,
        session: requests.Session | None = None,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config or EUtilsConfig.from_env()
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", f"{self.config.tool}/{_version()}")
        self.limiter = limiter or process_limiter(self.config.rate)
        self._sleep = sleep or self.limiter.sleep
        self._rng = rng or random.Random()
        self.requests: Counter[str] = Counter()  # HTTP attempts per endpoint
        self.retries: Counter[str] = Counter()  # why attempts were repeated

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
                raise _Transient(f"{label}: answer is not a PubmedArticleSet")
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
        url = self.config.base_url + endpoint
        data = self._params(params)
        cfg = self.config
        attempt = 0
        unreachable = 0
        waited = 0.0
        while True:
            attempt += 1
            self.limiter.acquire()
            self.requests[endpoint] += 1
            try:
                return parse(self._post(url, data))
            except _Unreachable as exc:
                unreachable += 1
                if unreachable >= cfg.unreachable_attempts:
                    raise NetworkError(
                        f"NCBI E-utilities unreachable at {cfg.base_url} ({exc}); "
                        f"gave up after {unreachable} tries"
                    ) from None
                why: Exception = exc
                hint = 0.5  # nobody is listening: a long backoff would only delay the error
                self.retries["unreachable"] += 1
            except _Transient as exc:
                why, hint = exc, exc.retry_after
                self.retries[str(exc).split(":")[0]] += 1
            except MalformedXML as exc:
                why, hint = exc, None
                self.retries["malformed"] += 1
            except EutilsError as exc:
                why, hint = exc, None
                self.retries["ncbi-error"] += 1
            if attempt >= cfg.max_attempts:
                raise NetworkError(
                    f"{endpoint} failed after {attempt} tries: {why}"
                ) from None
            delay = self._backoff(attempt, hint)
            if waited + delay > cfg.max_wait:
                raise NetworkError(
                    f"{endpoint} failed after {attempt} tries ({waited:.0f} s of waiting): {why}"
                ) from None
            waited += delay
            self._sleep(delay)

    def _backoff(self, attempt: int, hint: float | None) -> float:
        """Exponential backoff with jitter (half fixed, half random), or the server's hint."""
        if hint is not None:
            return min(max(hint, 0.0), self.config.backoff_cap)
        full = min(self.config.backoff_cap, self.config.backoff_base * 2 ** (attempt - 1))
        return full / 2 + self._rng.uniform(0, full / 2)

    def _post(self, url: str, data: dict[str, Any]) -> bytes:
        cfg = self.config
        try:
            resp = self.session.post(url, data=data, timeout=(cfg.connect_timeout, cfg.timeout))
            body = resp.content  # raises on a body cut short of its Content-Length
        except requests.exceptions.ConnectTimeout as exc:
            raise _Unreachable(f"connect time-out: {_short(exc)}") from None
        except requests.exceptions.ConnectionError as exc:
            if _is_unreachable(exc):
                raise _Unreachable(_unreachable_reason(exc)) from None
            raise _Transient(f"connection dropped: {_short(exc)}") from None
        except requests.exceptions.Timeout as exc:
            raise _Transient(f"time-out: {_short(exc)}") from None
        except requests.exceptions.RequestException as exc:  # chunked/decoding errors
            raise _Transient(f"broken response: {_short(exc)}") from None
        if resp.status_code in RETRY_STATUS:
            raise _Transient(f"HTTP {resp.status_code}", _retry_after(resp))
        if resp.status_code >= 400:
            snippet = body[:200].decode("utf-8", "replace").strip()
            raise NetworkError(f"{url}: HTTP {resp.status_code}: {snippet}")
        if not body.strip():
            raise _Transient("empty body")
        return body


def _retry_after(resp: requests.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _is_unreachable(exc: BaseException) -> bool:
    """True when no connection was ever made (DNS failure, refused), not a reset."""
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, NewConnectionError):
            return True
        if isinstance(e, ConnectionRefusedError):
            return True
        stack.extend([getattr(e, "reason", None), e.__cause__, e.__context__])
        stack.extend(a for a in getattr(e, "args", ()) if isinstance(a, BaseException))
    return False


def _unreachable_reason(exc: BaseException) -> str:
    text = str(exc)
    low = text.lower()
    if "name resolution" in low or "name or service not known" in low or "nodename" in low:
        return "DNS lookup failed"
    if "refused" in low:
        return "connection refused"
    if "unreachable" in low:
        return "network unreachable"
    return _short(exc)


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
