"""Polite HTTP for every live source (E-utilities, ClinicalTrials.gov, Europe PMC, Crossref).

This module and the source clients built on it are the registry's only network code.

API (everything else is private)::

    policy = Politeness(min_interval=0.35)           # seconds between two requests to a host
    client = PoliteClient("Crossref", policy, secrets=[email], secret_params={"mailto"})
    page = client.get(url, params={...}, parse=json.loads)      # or client.post(url, data=...)

- ``parse(body: bytes) -> T`` turns a 2xx body into the result. It raises :class:`Retry`
  for a body that must be fetched again (cut short, an error page sent with status 200,
  an API-level "try later"); any other exception it raises propagates unchanged.
- Rate limit per host with a margin: requests to one host are at least ``min_interval``
  apart, counted across every client **and every process** on this machine (a resumed or
  parallel search sees what another process sent in the last second): the time of the
  last request per host is kept in a small file under ``$REGISTRY_HTTP_STATE`` (default:
  the temp dir), taken under an exclusive ``flock``. :func:`host_limiter` gives the
  process-wide limiter of a host; :class:`HostLimiter` takes an injectable clock for tests.
- Retries with exponential backoff and jitter (half fixed, half random), or the server's
  ``Retry-After``, on 429, 5xx, read time-outs, dropped/reset connections, bodies cut short
  and :class:`Retry`. The total sleep per request is bounded by ``Politeness.max_wait``.
- Fail fast, no retry, on what retrying cannot fix: a bad URL or scheme, a DNS failure,
  a TLS failure, an HTTP 4xx other than 429 (:class:`HttpStatusError`, with ``.status``).
  A refused connection is tried ``unreachable_attempts`` times (a server restarting).
- Every error is a :class:`~ingest.errors.NetworkError` whose message has the secrets
  removed: the given secret values (API key, e-mail, in plain and URL-encoded form) and
  the value of any parameter named in ``secret_params`` wherever ``name=value`` appears
  (so an HTTP 400 whose body echoes the request cannot leak the key into a message, a log
  or ``search_runs.error``). :func:`redact` is the same filter for callers' own text.
- ``client.requests`` counts attempts per label (default: the URL's last path segment),
  ``client.retries`` the reasons attempts were repeated.
"""

from __future__ import annotations

import contextlib
import email.utils
import importlib.metadata
import os
import random
import re
import socket
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import requests

from ingest.errors import NetworkError

try:  # POSIX: lock the per-host timestamp file; elsewhere limit within the process only
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

T = TypeVar("T")
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
# Parameter names whose values are secret whatever the source (NCBI api_key and email,
# Crossref's mailto, common token names).
DEFAULT_SECRET_PARAMS = frozenset({"api_key", "apikey", "email", "mailto", "key", "token"})
MASK = "***"


def user_agent(tool: str = "living-evidence-registry") -> str:
    """``tool/version`` for the User-Agent header (read without importing ``registry``)."""
    try:
        version = importlib.metadata.version("living-evidence-registry")
    except importlib.metadata.PackageNotFoundError:
        version = "dev"
    return f"{tool}/{version}"


@dataclass(frozen=True)
class Politeness:
    """How often and how patiently to ask one service."""

    min_interval: float  # seconds between two requests to the same host (with a margin)
    timeout: float = 60.0  # read time-out per attempt
    connect_timeout: float = 5.0  # short: an offline update must give up within seconds
    max_attempts: int = 6  # tries per request for transient errors
    max_wait: float = 120.0  # seconds of backoff sleep per request before giving up
    unreachable_attempts: int = 2  # tries when the connection is refused
    backoff_base: float = 1.0  # first backoff delay, doubled per retry
    backoff_cap: float = 30.0


class Retry(Exception):
    """Raised by a ``parse`` callback (or internally) for an answer worth asking again.

    ``retry_after`` is the server's hint in seconds, when it gave one.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class HttpStatusError(NetworkError):
    """An HTTP error status that retrying cannot fix (4xx other than 429)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class _Refused(Exception):
    """No connection was accepted (refused, connect time-out): tried a few times."""


class _Fatal(Exception):
    """A failure retrying cannot fix (bad URL, DNS, TLS); ``unreachable``: no host found."""

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


# -- secrets ---------------------------------------------------------------------------
def redact(text: str, secrets: Iterable[str | None] = (),
           secret_params: Iterable[str] = DEFAULT_SECRET_PARAMS) -> str:
    """``text`` with every secret value and every ``<secret param>=value`` masked."""
    for value in sorted({s for s in secrets if s}, key=len, reverse=True):
        for form in {value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value)}:
            text = text.replace(form, MASK)
    names = "|".join(re.escape(n) for n in sorted(secret_params))
    if names:
        # name=value in a query string, form body, URL or an echoed request (quoted or not)
        text = re.sub(
            rf"(?i)\b({names})(\s*[=:]\s*[\"']?)[^&\s\"'<>,;]+", rf"\1\2{MASK}", text
        )
    return text


# -- rate limit ------------------------------------------------------------------------
def _state_dir() -> Path:
    env = os.environ.get("REGISTRY_HTTP_STATE")
    if env:
        return Path(env)
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"registry-http-{uid}"


def _host_key(url_or_host: str) -> str:
    parts = urllib.parse.urlsplit(url_or_host if "//" in url_or_host else f"//{url_or_host}")
    host = (parts.hostname or "unknown").lower()
    return f"{host}_{parts.port}" if parts.port else host


class HostLimiter:
    """Spaces requests to one host at least ``interval`` seconds apart (thread-safe).

    With ``shared`` (a file path) the spacing also holds across processes: the file holds
    the wall-clock time of the host's last request and is read and written under an
    exclusive lock. A stamp further ahead than one interval (a clock jump, a stray file)
    is not waited for beyond one interval. ``clock``/``sleep`` are injectable for tests.
    """

    def __init__(
        self,
        interval: float,
        *,
        shared: Path | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._lock = threading.Lock()
        self.shared = shared
        self.clock = clock
        self.sleep = sleep
        self._last = float("-inf")
        self.set_interval(interval)

    def set_interval(self, interval: float) -> None:
        """Change the minimum spacing (seconds)."""
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.interval = interval

    def acquire(self) -> float:
        """Block until a request may go; return the (clock) time it was granted."""
        with self._lock, self._file_lock() as stamp_file:
            last = self._last
            if stamp_file is not None:
                last = max(last, _read_stamp(stamp_file))
            now = self.clock()
            wait = min(last + self.interval - now, self.interval)
            if wait > 0:
                self.sleep(wait)
                now = max(self.clock(), now + wait)
            self._last = now
            if stamp_file is not None:
                _write_stamp(stamp_file, now)
            return now

    @contextlib.contextmanager
    def _file_lock(self):  # type: ignore[no-untyped-def]
        if self.shared is None or fcntl is None:
            yield None
            return
        try:
            self.shared.parent.mkdir(parents=True, exist_ok=True)
            fh = open(self.shared, "a+b")  # noqa: SIM115 - closed below
        except OSError:  # unwritable state dir: still spaced within this process
            yield None
            return
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            yield fh
        finally:
            fh.close()  # closing releases the lock


def _read_stamp(fh: Any) -> float:
    fh.seek(0)
    try:
        return float(fh.read(64).decode("ascii").strip() or "-inf")
    except (UnicodeDecodeError, ValueError):
        return float("-inf")


def _write_stamp(fh: Any, when: float) -> None:
    fh.seek(0)
    fh.truncate()
    fh.write(f"{when:.6f}".encode("ascii"))
    fh.flush()


_LIMITERS: dict[str, HostLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def host_limiter(url_or_host: str, interval: float) -> HostLimiter:
    """The process-wide limiter of a host (shared with other processes), set to ``interval``."""
    key = _host_key(url_or_host)
    with _LIMITERS_LOCK:
        limiter = _LIMITERS.get(key)
        if limiter is None:
            limiter = _LIMITERS[key] = HostLimiter(interval, shared=_state_dir() / f"{key}.last")
        elif limiter.interval != interval:
            limiter.set_interval(interval)
        return limiter


# -- the client ------------------------------------------------------------------------
class PoliteClient:
    """GET/POST with per-host rate limiting, retries, fail-fast and redacted errors."""

    def __init__(
        self,
        name: str,
        policy: Politeness,
        *,
        secrets: Iterable[str | None] = (),
        secret_params: Iterable[str] = (),
        session: requests.Session | None = None,
        limiter: HostLimiter | None = None,
        sleep: Callable[[float], None] | None = None,
        rng: random.Random | None = None,
        user_agent_tool: str = "living-evidence-registry",
    ) -> None:
        self.name = name
        self.policy = policy
        self.secrets = [s for s in secrets if s]
        self.secret_params = DEFAULT_SECRET_PARAMS | set(secret_params)
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", user_agent(user_agent_tool))
        self.limiter = limiter  # None: the host's process-wide limiter, chosen per URL
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.requests: Counter[str] = Counter()
        self.retries: Counter[str] = Counter()

    def redact(self, text: str) -> str:
        """``text`` without this client's secrets."""
        return redact(text, self.secrets, self.secret_params)

    def get(self, url: str, *, params: Mapping[str, Any] | None = None,
            parse: Callable[[bytes], T], label: str | None = None,
            headers: Mapping[str, str] | None = None) -> T:
        """GET ``url`` with ``params``; ``parse`` turns the body into the result."""
        return self.request("GET", url, params=params, parse=parse, label=label, headers=headers)

    def post(self, url: str, *, data: Mapping[str, Any] | None = None,
             parse: Callable[[bytes], T], label: str | None = None,
             headers: Mapping[str, str] | None = None) -> T:
        """POST form ``data`` to ``url``; ``parse`` turns the body into the result."""
        return self.request("POST", url, data=data, parse=parse, label=label, headers=headers)

    def request(self, method: str, url: str, *, parse: Callable[[bytes], T],
                params: Mapping[str, Any] | None = None, data: Mapping[str, Any] | None = None,
                label: str | None = None, headers: Mapping[str, str] | None = None) -> T:
        """One request with retries; raises a redacted :class:`NetworkError` when it fails."""
        label = label or _label(url)
        try:
            _check_url(url)
            return self._attempts(method, url, label, parse,
                                  {"params": params, "data": data, "headers": headers})
        except HttpStatusError as exc:
            raise HttpStatusError(self.redact(str(exc)), exc.status) from None
        except NetworkError as exc:
            raise NetworkError(self.redact(str(exc))) from None
        except _Fatal as exc:
            text = (f"{self.name} unreachable at {_origin(url)} ({exc}); not retried"
                    if exc.unreachable else f"{self.name}: {exc}")
            raise NetworkError(self.redact(text)) from None

    def _attempts(self, method: str, url: str, label: str, parse: Callable[[bytes], T],
                  kwargs: dict[str, Any]) -> T:
        pol = self.policy
        limiter = self.limiter or host_limiter(url, pol.min_interval)
        sleep = self._sleep or limiter.sleep
        attempt = refused = 0
        waited = 0.0
        while True:
            attempt += 1
            limiter.acquire()
            self.requests[label] += 1
            try:
                return parse(self._send(method, url, kwargs))
            except _Refused as exc:
                refused += 1
                if refused >= pol.unreachable_attempts:
                    raise NetworkError(
                        f"{self.name} unreachable at {_origin(url)} ({exc}); "
                        f"gave up after {refused} tries"
                    ) from None
                why: Exception = exc
                hint: float | None = 0.5  # nobody listening: a long backoff only delays
                self.retries["unreachable"] += 1
            except Retry as exc:
                why, hint = exc, exc.retry_after
                self.retries[str(exc).split(":")[0]] += 1
            if attempt >= pol.max_attempts:
                raise NetworkError(f"{label} failed after {attempt} tries: {why}") from None
            delay = self._backoff(attempt, hint)
            if waited + delay > pol.max_wait:
                raise NetworkError(
                    f"{label} failed after {attempt} tries ({waited:.0f} s of waiting): {why}"
                ) from None
            waited += delay
            sleep(delay)

    def _backoff(self, attempt: int, hint: float | None) -> float:
        """Exponential backoff with jitter (half fixed, half random), or the server's hint."""
        if hint is not None:
            return min(max(hint, 0.0), self.policy.backoff_cap)
        full = min(self.policy.backoff_cap, self.policy.backoff_base * 2 ** (attempt - 1))
        return full / 2 + self._rng.uniform(0, full / 2)

    def _send(self, method: str, url: str, kwargs: dict[str, Any]) -> bytes:
        pol = self.policy
        try:
            resp = self.session.request(
                method, url, timeout=(pol.connect_timeout, pol.timeout),
                **{k: v for k, v in kwargs.items() if v is not None},
            )
            body = resp.content  # raises on a body cut short of its Content-Length
        except requests.exceptions.RequestException as exc:
            raise _classify(exc) from None
        if resp.status_code in RETRY_STATUS:
            raise Retry(f"HTTP {resp.status_code}", _retry_after(resp))
        if resp.status_code >= 400:
            snippet = " ".join(body[:300].decode("utf-8", "replace").split())
            raise HttpStatusError(
                f"{self.name}: {_origin(url)}: HTTP {resp.status_code}: {snippet}",
                resp.status_code,
            )
        if not body.strip():
            raise Retry("empty body")
        return body


def _check_url(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _Fatal(f"bad URL {url!r}: needs http:// or https:// and a host name")


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _label(url: str) -> str:
    path = urllib.parse.urlsplit(url).path.rstrip("/")
    return path.rsplit("/", 1)[-1] or urllib.parse.urlsplit(url).netloc


def _classify(exc: requests.exceptions.RequestException) -> Exception:
    """Map a requests failure to retry (:class:`Retry`), try-twice or fail-fast."""
    rex = requests.exceptions
    if isinstance(exc, (rex.InvalidURL, rex.InvalidSchema, rex.MissingSchema,
                        rex.InvalidHeader, rex.TooManyRedirects)):
        return _Fatal(f"request refused before sending: {_short(exc)}")
    if isinstance(exc, rex.SSLError):
        return _Fatal(f"TLS failure: {_short(exc)}")
    if isinstance(exc, rex.ConnectTimeout):
        return _Refused(f"connect time-out: {_short(exc)}")
    if isinstance(exc, rex.ConnectionError):
        chain = list(_chain(exc))
        if any(isinstance(e, socket.gaierror) or type(e).__name__ == "NameResolutionError"
               for e in chain):
            return _Fatal("DNS lookup failed", unreachable=True)
        if any(isinstance(e, ConnectionRefusedError) or "refused" in str(e).lower()
               for e in chain):
            return _Refused("connection refused")
        if any(type(e).__name__ == "NewConnectionError" for e in chain):
            return _Refused(_unreachable_reason(exc))
        return Retry(f"connection dropped: {_short(exc)}")
    if isinstance(exc, rex.Timeout):
        return Retry(f"time-out: {_short(exc)}")
    return Retry(f"broken response: {_short(exc)}")  # chunked/decoding errors, cut bodies


def _chain(exc: BaseException) -> Iterable[BaseException]:
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        e = stack.pop()
        if not isinstance(e, BaseException) or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        stack.extend([getattr(e, "reason", None), e.__cause__, e.__context__])
        stack.extend(a for a in getattr(e, "args", ()) if isinstance(a, BaseException))


def _unreachable_reason(exc: BaseException) -> str:
    low = str(exc).lower()
    if "unreachable" in low:
        return "network unreachable"
    return _short(exc)


def _retry_after(resp: requests.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    value = (resp.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
