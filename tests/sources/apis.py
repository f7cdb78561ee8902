"""A loopback server replaying ClinicalTrials.gov v2, Europe PMC and Crossref, with faults.

One server, three path prefixes (``/ctgov/api/v2``, ``/europepmc/rest``, ``/crossref``);
point ``CTGOV_URL`` / ``EUROPEPMC_URL`` / ``CROSSREF_URL`` (or a client's config) at
:meth:`ApiReplay.url`. It is the PubMed ``ReplayServer`` of ``tests/search/replay.py`` (threads,
fault rules, request log) answering JSON instead; faults as there, plus ``504``.

What is real and what is built (never an edited recording):

- ClinicalTrials.gov: the six real study records of ``clinicaltrials/aact`` are served
  as ``/studies`` pages. **No paged sequence was recorded**, so pages are *built* from those
  records in the API's documented shape (``{"studies": [...], "nextPageToken": ...,
  "totalCount": n}``); like the real API, a token is emitted whenever a page is full, so the
  last page may be empty. ``filter.advanced`` ``AREA[LastUpdatePostDate]RANGE[a,b]`` is
  applied to each record's real last-update date.
- Europe PMC: the 1,000 real records of ``fetch_10pages_cancer.json`` (the recorded
  10-page cursor sequence) plus any records a test adds, paged by ``cursorMark`` with
  ``pageSize`` and the ``FIRST_IDATE:[a TO b]`` window on each record's real
  ``firstIndexDate``. Cursor values are built (the recorded ones only chain the recorded
  page size).
- Crossref: every work recorded in ``crossref/`` (single works and list pages) is served by
  DOI in the documented ``work`` envelope; an unknown DOI gets the recorded 404 body
  ``Resource not found.``; ``filter=updates:DOI`` and ``query.title`` lists are built from
  the same works. **No notice with ``update-to`` of type retraction was recorded**:
  :meth:`ApiReplay.add_retraction` builds one from a real recorded correction notice, with
  its ``update-to`` type set to ``retraction`` and pointing at the retracted DOI.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import time
import urllib.parse
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from replay import FAULT_KINDS, ReplayServer, _Rule

from ingest.normalise import normalise_doi, normalise_title

# The PubMed replay's faults but its NCBI <ERROR> body, plus Crossref's recorded 504 page.
FAULTS = (FAULT_KINDS - {"error"}) | {"504"}
_RANGE = re.compile(r"RANGE\[([^,\]]*),([^\]]*)\]")
_IDATE = re.compile(r"\(FIRST_IDATE:\[(\S+) TO (\S+)\]\)")


def load_ctgov(shared: Path) -> list[dict[str, Any]]:
    """The real ClinicalTrials.gov v2 study records, in NCT order."""
    out = []
    for f in sorted((shared / "fixtures/clinicaltrials/aact").glob("*.json")):
        data = json.loads(f.read_bytes())
        out.extend(data["studies"] if "studies" in data else [data])
    return sorted(out, key=lambda s: s["protocolSection"]["identificationModule"]["nctId"])


def load_europepmc(shared: Path) -> list[dict[str, Any]]:
    """The 1,000 real results of the recorded 10-page cursor sequence, in page order."""
    pages = json.loads((shared / "fixtures/europepmc/pyEuropePMC/fetch_10pages_cancer.json")
                       .read_bytes())
    return [r for p in pages for r in p["resultList"]["result"]]


def load_crossref(shared: Path) -> dict[str, dict[str, Any]]:
    """Every recorded Crossref work, by normalised DOI (first recording wins)."""
    out: dict[str, dict[str, Any]] = {}
    for f in sorted((shared / "fixtures/crossref").rglob("*.json")):
        if f.name.endswith(".request.json"):
            continue
        data = json.loads(f.read_bytes())
        msg = data.get("message") if isinstance(data, dict) else None
        if not isinstance(msg, dict):
            continue
        for item in msg.get("items", [msg] if "DOI" in msg else []):
            doi = normalise_doi(item.get("DOI"))
            if doi:
                out.setdefault(doi, item)
    return out


class ApiReplay(ReplayServer):
    """The PubMed replay server's machinery (threads, fault rules, request log) answering
    the three JSON APIs; a request's ``endpoint`` is its API: ctgov, europepmc, crossref."""

    def __init__(self, shared: Path, *, timeout_sleep: float = 1.0) -> None:
        super().__init__({}, timeout_sleep=timeout_sleep)
        self.shared = shared
        self.studies = load_ctgov(shared)
        self.epmc = load_europepmc(shared)
        self.works = load_crossref(shared)

    def url(self, api: str) -> str:  # type: ignore[override]
        """Base URL of one API on this server."""
        host, port = self._httpd.server_address[:2]
        path = {"ctgov": "ctgov/api/v2", "europepmc": "europepmc/rest", "crossref": "crossref"}
        return f"http://{host}:{port}/{path[api]}"

    def inject(self, api: str, kind: str, *, at: Iterable[int] = (),
               from_n: int | None = None) -> None:
        """Answer the api's requests number ``at`` (or from ``from_n`` on) with a fault."""
        if kind not in FAULTS:
            raise ValueError(kind)
        with self._lock:
            self._rules.append(_Rule(api, kind, set(at), from_n))

    def add_retraction(self, retracted_doi: str, *, model: str = "10.1371/journal.pone.0129989",
                       date: tuple[int, int, int] = (2026, 11, 2)) -> str:
        """Build a retraction notice of ``retracted_doi`` from a real correction notice
        (``model``, recorded in rcrossref's PLOS page): same record, its ``update-to``
        retyped ``retraction`` and aimed at ``retracted_doi``, a DOI of its own."""
        notice = copy.deepcopy(self.works[model])
        doi = f"{model}.retraction"
        notice["DOI"] = doi
        notice["title"] = ["Retraction: " + notice["title"][0].removeprefix("Correction: ")]
        notice["update-to"] = [{
            "updated": {"date-parts": [list(date)]}, "DOI": retracted_doi,
            "type": "retraction", "label": "Retraction",
        }]
        self.works[doi] = notice
        return doi

    # -- handling -----------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urllib.parse.urlsplit(h.path)
        params = dict(urllib.parse.parse_qsl(parts.query))
        api = parts.path.strip("/").split("/")[0]
        fault = self._log_request(api, method, params)
        try:
            fault = self._connection_fault(h, fault)
            if fault == "done":
                return
            if fault in ("429", "500", "502", "503", "504"):
                self._send(h, int(fault), self._error_body(fault), "text/html")
                return
            if fault == "timeout":
                time.sleep(self.timeout_sleep)
            status, body, ctype = self._answer(api, parts.path, params)
            if fault == "html":
                body, ctype = b"<!DOCTYPE html><html><body>busy</body></html>", "text/html"
            elif fault == "truncated":
                body = body[: max(1, len(body) // 2)]
            self._send(h, status, body, ctype, short=fault == "short")
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass

    def _error_body(self, fault: str) -> bytes:
        base = self.shared / "fixtures/crossref/rcrossref"
        if fault in ("500", "502"):  # Crossref's recorded 500 (a Clojure stack trace in JSON)
            return (base / "members_cursor_5_500.json").read_bytes()
        if fault == "504":  # the recorded HTML gateway page
            return (base / "journals_1803-2427_works_facet_504.html").read_bytes()
        return b"<html><body>Too Many Requests</body></html>"

    def _answer(self, api: str, path: str, p: dict[str, str]) -> tuple[int, bytes, str]:
        if api == "ctgov" and path.endswith("/studies"):
            try:
                return 200, self._ctgov(p), "application/json"
            except (ValueError, IndexError):  # a page token this server never issued
                return 400, b'{"error": "invalid pageToken"}', "application/json"
        if api == "europepmc" and path.endswith("/search"):
            return 200, self._europepmc(p), "application/json;charset=UTF-8"
        if api == "crossref":
            return self._crossref(path, p)
        return 404, b"unknown endpoint", "text/plain"

    @staticmethod
    def _token(offset: int) -> str:
        return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()

    @staticmethod
    def _offset(token: str | None) -> int:
        if not token or token == "*":
            return 0
        return int(base64.urlsafe_b64decode(token.encode()).decode().split(":")[1])

    def _ctgov(self, p: dict[str, str]) -> bytes:
        pool = self.studies
        m = _RANGE.search(p.get("filter.advanced", ""))
        if m:
            lo, hi = m.group(1), m.group(2)

            def updated(s: dict[str, Any]) -> str:
                return s["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"]

            pool = [s for s in pool if (lo in ("", "MIN") or updated(s) >= lo)
                    and (hi in ("", "MAX") or updated(s) <= hi)]
        size = int(p.get("pageSize") or 10)
        start = self._offset(p.get("pageToken"))
        page = pool[start : start + size]
        out: dict[str, Any] = {"studies": page}
        if len(page) == size:  # full page: a token, even if the next page is empty
            out["nextPageToken"] = self._token(start + size)
        if p.get("countTotal") == "true":
            out["totalCount"] = len(pool)
        return json.dumps(out, ensure_ascii=False).encode()

    def _europepmc(self, p: dict[str, str]) -> bytes:
        query = p.get("query", "")
        pool = self.epmc
        m = _IDATE.search(query)
        if m:
            lo, hi = m.group(1), m.group(2)
            pool = [r for r in pool if lo <= r.get("firstIndexDate", "") <= hi]
        size = int(p.get("pageSize") or 25)
        cursor = p.get("cursorMark", "*")
        start = self._offset(urllib.parse.unquote(cursor))
        page = pool[start : start + size]
        out: dict[str, Any] = {"version": "6.9", "hitCount": len(pool)}
        if pool:
            # Europe PMC repeats the cursor it was given once the results are exhausted.
            nxt = self._token(start + size) if start + size < len(pool) else cursor
            out["nextCursorMark"] = nxt
        out["request"] = {"queryString": query, "resultType": p.get("resultType", "lite"),
                          "cursorMark": urllib.parse.quote(cursor, safe=""), "pageSize": size,
                          "sort": "", "synonym": False}
        out["resultList"] = {"result": page}
        return json.dumps(out, ensure_ascii=False).encode()

    def _crossref(self, path: str, p: dict[str, str]) -> tuple[int, bytes, str]:
        rest = urllib.parse.unquote(path.split("/crossref/", 1)[1])
        if rest.startswith("works/"):
            work = self.works.get(normalise_doi(rest[len("works/"):]) or "")
            if work is None:
                body = (self.shared / "fixtures/crossref/habanero/works_notarealdoi_404.txt")
                return 404, body.read_bytes(), "text/plain"
            env = {"status": "ok", "message-type": "work", "message-version": "1.0.0",
                   "message": work}
            return 200, json.dumps(env).encode(), "application/json"
        if rest != "works":
            return 404, b"Resource not found.", "text/plain"
        if int(p.get("sample") or 0) > 100:  # the recorded 400 for ?sample=200
            body = self.shared / "fixtures/crossref/rcrossref/works_sample_200_400.json"
            return 400, body.read_bytes(), "application/json;charset=utf-8"
        items = list(self.works.values())
        flt = p.get("filter", "")
        if flt.startswith("updates:"):
            want = normalise_doi(flt[len("updates:"):])
            items = [w for w in items
                     if any(normalise_doi(u.get("DOI")) == want for u in w.get("update-to") or [])]
        if p.get("query.title"):
            words = set(normalise_title(p["query.title"]).split())
            items = [w for w in items if words and words <= set(
                normalise_title(" ".join(w.get("title") or [])).split())]
        rows = int(p.get("rows") or 20)
        env = {"status": "ok", "message-type": "work-list", "message-version": "1.0.0",
               "message": {"facets": {}, "total-results": len(items), "items": items[:rows],
                           "items-per-page": rows, "query": {"start-index": 0,
                                                             "search-terms": None}}}
        return 200, json.dumps(env).encode(), "application/json"
