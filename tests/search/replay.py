"""A loopback E-utilities server replaying real PubMed records, with fault injection.

Usage (any test may import it)::

    corpus = load_corpus(fixtures)            # real <PubmedArticle> XML from ../shared
    with ReplayServer(corpus) as server:      # 127.0.0.1, free port, own thread
        os.environ["NCBI_EUTILS_URL"] = server.url
        server.inject("efetch", "500", at=[1])   # first EFetch answers HTTP 500
        ...
        server.count("efetch")                # requests seen

EFetch bodies are the fixture records' own bytes (sliced out of the files, not
re-serialised) inside a PubmedArticleSet, for exactly the PMIDs asked for. ESearch answers
are synthesised in NCBI's format (DOCTYPE, element order and spacing copied from
``biopython/esearch2.xml``) from each record's real ``PubStatus="pubmed"`` history date,
which stands in for the create date (crdt) a date window filters on. ``count_hook`` lets a
test report a larger Count for a window (``> 9,999``) so the client must split it, while
the ids served stay the real ones. ``fixed_esearch`` serves a real ESearch file verbatim.

Faults (``inject(endpoint, kind, at=[n, ...])``, ``n`` = the endpoint's 1-based request
number, retries included): ``429``, ``500``, ``502``, ``503``, ``timeout`` (sleep past the
client's time-out, then answer), ``truncated`` (well-formed HTTP, XML cut in half),
``short`` (Content-Length promises more than is sent), ``reset`` (TCP reset, no answer),
``error`` (HTTP 200 carrying an NCBI ``<ERROR>``), ``html`` (HTTP 200 with an HTML page),
``block`` (hang until :meth:`release` or stop; for kill-and-resume tests), ``echo400``
(HTTP 400 whose body echoes the request, API key and e-mail included, as some servers do).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import socket
import struct
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

_ARTICLE = re.compile(rb"<PubmedArticle>.*?</PubmedArticle>", re.DOTALL)
_PMID = re.compile(rb"<PMID[^>]*>\s*(\d+)\s*</PMID>")
_HISTORY = re.compile(
    rb'<PubMedPubDate PubStatus="(pubmed|entrez)">\s*<Year>(\d{4})</Year>\s*'
    rb"<Month>(\d{1,2})</Month>\s*<Day>(\d{1,2})</Day>",
    re.DOTALL,
)
EFETCH_HEAD = (
    b'<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, '
    b'1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
    b"<PubmedArticleSet>\n"
)
EFETCH_TAIL = b"</PubmedArticleSet>"
ESEARCH_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD '
    'esearch 20060628//EN" "https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n'
)
FAULT_KINDS = frozenset(
    {"429", "500", "502", "503", "timeout", "truncated", "short", "reset", "error", "html",
     "block", "echo400"}
)


@dataclass(frozen=True)
class FixtureRecord:
    """One real PubMed record: its PMID, create date and exact XML bytes."""

    pmid: str
    crdt: dt.date
    xml: bytes
    origin: str  # fixture file it was sliced from


def _records_in(path: Path) -> Iterable[FixtureRecord]:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    for m in _ARTICLE.finditer(data):
        xml = m.group(0)
        pm = _PMID.search(xml)
        if pm is None:
            continue
        dates = {k: (int(y), int(mo), int(d)) for k, y, mo, d in _HISTORY.findall(xml)}
        ymd = dates.get(b"pubmed") or dates.get(b"entrez")
        if ymd is None:
            continue  # no history date: cannot be placed in a crdt window
        yield FixtureRecord(pm.group(1).decode(), dt.date(*ymd), xml, path.name)


def load_corpus(
    fixtures: Path, sets: Iterable[str] = ("metapub/pmid_xml", "pubmedportable")
) -> dict[str, FixtureRecord]:
    """Real records from the fixture folders (first occurrence of a PMID wins)."""
    out: dict[str, FixtureRecord] = {}
    for sub in sets:
        for path in sorted((fixtures / sub).glob("*.xml*")):
            for rec in _records_in(path):
                out.setdefault(rec.pmid, rec)
    if not out:
        raise FileNotFoundError(f"no PubMed records under {fixtures}")
    return out


@dataclass
class Seen:
    """One request the server received."""

    endpoint: str  # "esearch" | "efetch" | other path
    method: str
    params: dict[str, str]
    at: float  # time.monotonic()
    number: int  # 1-based count for this endpoint


@dataclass
class _Rule:
    endpoint: str
    kind: str
    at: set[int] = field(default_factory=set)
    from_n: int | None = None  # every request numbered >= from_n


def _parse_date(value: str, *, end: bool) -> dt.date:
    parts = [int(p) for p in value.replace("-", "/").split("/") if p]
    if len(parts) == 3:
        return dt.date(*parts)
    if len(parts) == 2:
        y, m = parts
        if not end:
            return dt.date(y, m, 1)
        nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
        return nxt - dt.timedelta(days=1)
    return dt.date(parts[0], 12, 31) if end else dt.date(parts[0], 1, 1)


class ReplayServer:
    """A threaded HTTP server on 127.0.0.1 answering esearch.fcgi and efetch.fcgi."""

    def __init__(
        self,
        corpus: dict[str, FixtureRecord],
        *,
        count_hook: Callable[[dt.date | None, dt.date | None, int], int] | None = None,
        timeout_sleep: float = 1.0,
    ) -> None:
        self.corpus = corpus
        self.count_hook = count_hook
        self.timeout_sleep = timeout_sleep
        self.queries: dict[str, list[str]] = {}  # term -> PMIDs (default: whole corpus)
        self.fixed_esearch: bytes | None = None
        # PMIDs ESearch lists but EFetch does not have (withdrawn between the two calls)
        self.phantom_ids: list[str] = []
        self.seen: list[Seen] = []
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep pytest output clean
                pass

            def setup(self) -> None:
                super().setup()
                # Headers and body leave in separate writes: without NODELAY, Nagle plus
                # delayed ACK adds ~40 ms to every loopback request.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                server._handle(self, "GET")

            def do_POST(self) -> None:  # noqa: N802
                server._handle(self, "POST")

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # -- lifecycle ------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Base URL to put in ``NCBI_EUTILS_URL``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/entrez/eutils/"

    def start(self) -> ReplayServer:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and let every blocked handler return."""
        self._stopping.set()
        self._release.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test controls ----------------------------------------------------------------
    def inject(
        self, endpoint: str, kind: str, *, at: Iterable[int] = (), from_n: int | None = None
    ) -> None:
        """Answer the endpoint's requests number ``at`` (or every one from ``from_n``) with
        a fault of ``kind``."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}")
        with self._lock:
            self._rules.append(_Rule(endpoint, kind, set(at), from_n))

    def clear_faults(self) -> None:
        """Forget every injected fault."""
        with self._lock:
            self._rules.clear()

    def release(self) -> None:
        """Let ``block``-ed requests go on (they answer normally)."""
        self._release.set()

    def count(self, endpoint: str | None = None) -> int:
        """Requests received (for one endpoint, or all)."""
        with self._lock:
            return sum(1 for s in self.seen if endpoint is None or s.endpoint == endpoint)

    def requests(self, endpoint: str) -> list[Seen]:
        """The requests received at one endpoint, in order."""
        with self._lock:
            return [s for s in self.seen if s.endpoint == endpoint]

    def rate_violations(self, limit: int, window: float = 1.0) -> int:
        """How many requests arrived with ``limit`` others already in the ``window`` before."""
        with self._lock:
            times = sorted(s.at for s in self.seen)
        return sum(1 for i, t in enumerate(times) if i >= limit and t - times[i - limit] < window)

    def wait_for(self, endpoint: str, n: int, timeout: float = 20.0) -> bool:
        """Wait until ``n`` requests reached the endpoint."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count(endpoint) >= n:
                return True
            time.sleep(0.02)
        return False

    def ids_in_window(
        self, term: str, mindate: dt.date | None, maxdate: dt.date | None
    ) -> list[str]:
        """PMIDs a search for ``term`` in the crdt window finds, newest PMID first."""
        pool = self.queries.get(term)
        ids = list(self.corpus) if pool is None else [p for p in pool if p in self.corpus]
        if mindate is not None and maxdate is not None:
            ids = [p for p in ids if mindate <= self.corpus[p].crdt <= maxdate]
        return sorted(ids, key=int, reverse=True)

    # -- request handling ---------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parsed = urllib.parse.urlsplit(h.path)
        params = dict(urllib.parse.parse_qsl(parsed.query))
        raw = parsed.query
        if method == "POST":
            n = int(h.headers.get("Content-Length") or 0)
            raw = h.rfile.read(n).decode("utf-8") if n else ""
            params.update(urllib.parse.parse_qsl(raw))
        name = parsed.path.rstrip("/").rsplit("/", 1)[-1]
        endpoint = name.removesuffix(".fcgi")
        fault = self._log_request(endpoint, method, params)
        try:
            fault = self._connection_fault(h, fault)
            if fault == "done":
                return
            if fault in ("429", "500", "502", "503"):
                msg = (
                    b'{"error":"API rate limit exceeded","count":"4","limit":"3"}'
                    if fault == "429"
                    else b"<html><body><h1>Internal Server Error</h1></body></html>"
                )
                self._send(h, int(fault), msg, "text/html")
                return
            if fault == "echo400":
                echo = {"error": "Invalid request", "request": raw, "params": params}
                self._send(h, 400, json.dumps(echo).encode(), "application/json")
                return
            if fault == "timeout":
                time.sleep(self.timeout_sleep)
            if endpoint == "esearch":
                status, body = 200, self._esearch(params)
            elif endpoint == "efetch":
                status, body = 200, self._efetch(params)
            else:
                self._send(h, 400, b"unknown endpoint", "text/plain")
                return
            if fault == "error":
                tag = "eSearchResult" if endpoint == "esearch" else "eFetchResult"
                body = (
                    f'<?xml version="1.0" encoding="UTF-8" ?>\n<{tag}><ERROR>Search Backend '
                    f"failed: temporarily unavailable</ERROR></{tag}>"
                ).encode()
            elif fault == "html":
                body = b"<!DOCTYPE html><html><body>NCBI is busy</body></html>"
            elif fault == "truncated":
                body = body[: max(1, len(body) // 2)]
            self._send(h, status, body, "text/xml; charset=UTF-8", short=fault == "short")
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass  # the client gave up (time-out) or was killed: nothing to answer

    def _log_request(self, endpoint: str, method: str, params: dict[str, str]) -> str | None:
        """Log a request (numbered per endpoint) and return the fault a rule injects into it."""
        with self._lock:
            number = 1 + sum(1 for s in self.seen if s.endpoint == endpoint)
            self.seen.append(Seen(endpoint, method, params, time.monotonic(), number))
            return next(
                (
                    r.kind
                    for r in self._rules
                    if r.endpoint == endpoint
                    and (number in r.at or (r.from_n is not None and number >= r.from_n))
                ),
                None,
            )

    def _connection_fault(self, h: BaseHTTPRequestHandler, fault: str | None) -> str | None:
        """Carry out the faults that act on the connection itself: "block" holds the request
        until released (then answers normally), "reset" drops it with a TCP RST. Returns
        "done" when nothing more is to be sent, else the fault left for the answer."""
        if fault == "block":
            self._release.wait()
            if self._stopping.is_set():
                return "done"
            fault = None
        if fault == "reset":
            # SO_LINGER 0 makes close() send a TCP RST: "connection reset by peer".
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            h.close_connection = True
            h.connection.close()
            return "done"
        return fault

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str, *,
              short: bool = False) -> None:
        """Answer with ``body``; ``short``: announce the whole body, send half of it, then
        close (a body cut short)."""
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body[: len(body) // 2] if short else body)
        h.wfile.flush()
        if short:
            h.close_connection = True
            h.connection.shutdown(socket.SHUT_RDWR)

    def _esearch(self, p: dict[str, str]) -> bytes:
        if self.fixed_esearch is not None:
            return self.fixed_esearch
        term = p.get("term", "")
        lo = _parse_date(p["mindate"], end=False) if p.get("mindate") else None
        hi = _parse_date(p["maxdate"], end=True) if p.get("maxdate") else None
        ids = self.ids_in_window(term, lo, hi) + list(self.phantom_ids)
        count = len(ids)
        if self.count_hook is not None:
            count = self.count_hook(lo, hi, count)
        retstart = int(p.get("retstart") or 0)
        retmax = int(p.get("retmax") or 20)
        page = ids[retstart : retstart + retmax]
        translation = urllib.parse.unquote(term)
        if lo and hi:
            translation += f" AND {lo:%Y/%m/%d}:{hi:%Y/%m/%d}[Date - Create]"
        esc = translation.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        history = ""
        if p.get("usehistory") == "y":
            history = "<QueryKey>1</QueryKey><WebEnv>MCID_replay0000000000000001</WebEnv>"
        id_xml = "".join(f"<Id>{i}</Id>\n" for i in page)
        return (
            f"{ESEARCH_HEAD}<eSearchResult><Count>{count}</Count><RetMax>{len(page)}</RetMax>"
            f"<RetStart>{retstart}</RetStart>{history}<IdList>\n{id_xml}</IdList>"
            f"<TranslationSet/><QueryTranslation>{esc}</QueryTranslation></eSearchResult>"
        ).encode()

    def _efetch(self, p: dict[str, str]) -> bytes:
        ids = [i.strip() for i in p.get("id", "").split(",") if i.strip()]
        parts = [self.corpus[i].xml for i in ids if i in self.corpus]
        return EFETCH_HEAD + b"\n".join(parts) + (b"\n" if parts else b"") + EFETCH_TAIL
