"""Polite GET of JSON APIs (ClinicalTrials.gov v2, Europe PMC, Crossref).

Stop-gap until the generic client ``ingest/http.py`` (extracted from ``ingest/eutils.py``)
lands: it reuses the E-utilities client's rate limiter and its way of telling an
unreachable host from a transient failure, so the retry rules are the PubMed client's:

- one :class:`~ingest.eutils.RateLimiter` per host in the process, spacing requests by the
  API's documented limit with a margin (each client module documents its API's limit);
- retries with exponential backoff and jitter, or the server's ``Retry-After``, on 429,
  5xx, time-outs, dropped connections, truncated bodies and bodies that are not JSON;
- fail fast on what retrying cannot fix: DNS failure or refused connection (after
  ``unreachable_attempts`` tries) and any other 4xx (:class:`ApiRefused`, with the body's
  first 200 characters);
- secrets (``mailto`` e-mail addresses, keys) are redacted from every message.
"""

from __future__ import annotations

import json
import random
import re
import threading
import urllib.parse
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from ingest.errors import NetworkError
from ingest.eutils import (
    RETRY_STATUS,
    RateLimiter,
    _is_unreachable,
    _retry_after,
    _short,
    _unreachable_reason,
    _version,
)

_EMAIL = re.compile(r"[\w.+-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+")
_LIMITERS: dict[str, RateLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def host_limiter(host: str, interval: float) -> RateLimiter:
    """The one limiter of this process for ``host``, spacing calls ``interval`` s apart."""
    with _LIMITERS_LOCK:
        lim = _LIMITERS.get(host)
        if lim is None:
            lim = _LIMITERS[host] = RateLimiter(1.0 / interval)
        elif abs(lim.interval - interval) > 1e-9:
            lim.set_rate(1.0 / interval)
        return lim


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` with e-mail addresses and the given secrets replaced by ``***``."""
    out = _EMAIL.sub("***", text)
    for s in secrets:
        if s:
            out = out.replace(s, "***").replace(urllib.parse.quote(s, safe=""), "***")
    return out


class ApiRefused(NetworkError):
    """The API answered a 4xx other than 429: the request itself is wrong (or a cursor
    expired); retrying the same request cannot help."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class _Transient(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class _Unreachable(Exception):
    pass


@dataclass(frozen=True)
class ApiConfig:
    """Where an API is and how patient to be with it."""

    name: str  # for messages: "ClinicalTrials.gov", "Europe PMC", "Crossref"
    base_url: str
    interval: float  # seconds between requests (documented limit plus a margin)
    timeout: float = 60.0
    connect_timeout: float = 5.0
    max_attempts: int = 6
    max_wait: float = 120.0
    unreachable_attempts: int = 2
    backoff_base: float = 1.0
    backoff_cap: float = 30.0
    mailto: str | None = None  # sent where the API asks for it (Crossref polite pool)


@dataclass
class Response:
    """A decoded JSON answer and what it took to get it."""

    data: Any
    status: int
    attempts: int
    url: str  # redacted


class JsonApiClient:
    """GET JSON with one process-wide limiter per host, backoff and retries."""

    def __init__(
        self,
        config: ApiConfig,
        *,
        session: requests.Session | None = None,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.session = session or requests.Session()
        agent = f"living-evidence-registry/{_version()}"
        if config.mailto:
            agent += f" (mailto:{config.mailto})"
        self.session.headers.setdefault("User-Agent", agent)
        host = urllib.parse.urlsplit(config.base_url).netloc
        self.limiter = limiter or host_limiter(host, config.interval)
        self._sleep = sleep or self.limiter.sleep
        self._rng = rng or random.Random()
        self.requests: Counter[str] = Counter()  # HTTP attempts per endpoint
        self.retries: Counter[str] = Counter()  # why attempts were repeated

    def _secrets(self) -> tuple[str, ...]:
        return (self.config.mailto or "",)

    def get(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        parse: Callable[[Any], Any] | None = None,
    ) -> Response:
        """GET ``base_url + path``, decode its JSON and hand it to ``parse``; retry
        transient failures, including a 200 whose JSON ``parse`` refuses (``ValueError``:
        a gateway's error object, a page cut short)."""
        cfg = self.config
        url = cfg.base_url.rstrip("/") + "/" + path.lstrip("/")
        query = {k: v for k, v in (params or {}).items() if v is not None}
        if cfg.mailto:
            query.setdefault("mailto", cfg.mailto)
        shown = redact(url + ("?" + urllib.parse.urlencode(query) if query else ""),
                       self._secrets())
        attempt = unreachable = 0
        waited = 0.0
        while True:
            attempt += 1
            self.limiter.acquire()
            self.requests[path.split("/")[0] or path] += 1
            try:
                status, data = self._once(url, query)
                if parse is not None:
                    try:
                        data = parse(data)
                    except ValueError as exc:
                        raise _Transient(f"unusable answer: {exc}") from None
                return Response(data, status, attempt, shown)
            except _Unreachable as exc:
                unreachable += 1
                if unreachable >= cfg.unreachable_attempts:
                    raise NetworkError(
                        f"{cfg.name} unreachable at {cfg.base_url} ({exc}); gave up after "
                        f"{unreachable} tries"
                    ) from None
                why: Exception = exc
                hint: float | None = 0.5  # nobody listens: a long backoff only delays the error
                self.retries["unreachable"] += 1
            except _Transient as exc:
                why, hint = exc, exc.retry_after
                self.retries[str(exc).split(":")[0]] += 1
            if attempt >= cfg.max_attempts:
                raise NetworkError(
                    redact(f"{cfg.name}: {shown} failed after {attempt} tries: {why}",
                           self._secrets())
                ) from None
            delay = self._backoff(attempt, hint)
            if waited + delay > cfg.max_wait:
                raise NetworkError(
                    redact(f"{cfg.name}: {shown} failed after {attempt} tries "
                           f"({waited:.0f} s of waiting): {why}", self._secrets())
                ) from None
            waited += delay
            self._sleep(delay)

    def _backoff(self, attempt: int, hint: float | None) -> float:
        if hint is not None:
            return min(max(hint, 0.0), self.config.backoff_cap)
        full = min(self.config.backoff_cap, self.config.backoff_base * 2 ** (attempt - 1))
        return full / 2 + self._rng.uniform(0, full / 2)

    def _once(self, url: str, query: dict[str, Any]) -> tuple[int, Any]:
        cfg = self.config
        try:
            resp = self.session.get(url, params=query, timeout=(cfg.connect_timeout, cfg.timeout))
            body = resp.content  # raises on a body cut short of its Content-Length
        except requests.exceptions.ConnectTimeout as exc:
            raise _Unreachable(f"connect time-out: {_short(exc)}") from None
        except requests.exceptions.ConnectionError as exc:
            if _is_unreachable(exc):
                raise _Unreachable(_unreachable_reason(exc)) from None
            raise _Transient(f"connection dropped: {_short(exc)}") from None
        except requests.exceptions.Timeout as exc:
            raise _Transient(f"time-out: {_short(exc)}") from None
        except requests.exceptions.RequestException as exc:
            raise _Transient(f"broken response: {_short(exc)}") from None
        if resp.status_code in RETRY_STATUS:
            raise _Transient(f"HTTP {resp.status_code}", _retry_after(resp))
        if resp.status_code >= 400:
            snippet = redact(body[:200].decode("utf-8", "replace").strip(), self._secrets())
            raise ApiRefused(
                redact(f"{cfg.name}: {url}: HTTP {resp.status_code}: {snippet}", self._secrets()),
                resp.status_code,
            )
        try:
            return resp.status_code, json.loads(body)
        except ValueError:
            # A page cut short, or an HTML gateway page with status 200: never a result.
            raise _Transient(f"not JSON: {len(body)} bytes") from None
