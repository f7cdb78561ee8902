"""Crossref REST API: the retraction and correction signals of a DOI.

API (https://api.crossref.org/swagger-ui/index.html, "Works"): ``GET /works/{doi}`` gives
the work with ``updated-by`` (notices that update it: correction, retraction,
expression_of_concern, ...; Crossref adds Retraction Watch entries with source
``retraction-watch``) and ``relation``; ``GET /works?filter=updates:{doi}`` lists the
notices whose ``update-to`` names the DOI; ``query.title`` finds a notice that says
"Retracted: <title>" only in its title (Hindawi's 2022 metadata do this, see
``../shared/fixtures/crossref/SOURCES.md``). Base URL from ``CROSSREF_URL``; the e-mail in
``CROSSREF_MAILTO`` (or ``NCBI_EMAIL``) is sent as ``mailto`` for the polite pool and
redacted from every message.
Rate limit: the public pool allows 5 requests/s with one concurrent request
(``x-rate-limit-limit: 5``, ``x-rate-limit-interval: 1s``, ``x-concurrency-limit: 1`` in
the recorded headers); the client keeps 0.25 s between requests (4/s), one at a time.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import urllib.parse
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.http import Politeness
from ingest.jsonapi import ApiConfig, ApiRefused, JsonApiClient
from ingest.normalise import normalise_doi, normalise_title

DEFAULT_BASE_URL = "https://api.crossref.org"
INTERVAL = 0.25
# Crossref update types (and relation types) by the finding they are.
KINDS = {
    "retraction": "retraction", "removal": "retraction", "withdrawal": "retraction",
    "partial_retraction": "retraction",
    "expression_of_concern": "expression of concern",
    "correction": "correction", "erratum": "correction", "corrigendum": "correction",
    "addendum": "correction", "clarification": "correction",
}
_RELATION_KINDS = {"is-retracted-by": "retraction", "correction": "correction",
                   "is-corrected-by": "correction"}
_RETRACTED_TITLE = re.compile(
    r"^\s*(?:retracted(?:\s+article)?|retraction(?:\s+notice)?(?:\s+(?:to|of|for))?)\s*[:.\-]\s*",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Update:
    """One notice about a work: what kind, which notice, when, who said so."""

    doi: str  # the work updated
    kind: str  # retraction | expression of concern | correction
    notice_doi: str | None
    date: str | None  # ISO date of the update, when Crossref gives one
    source: str  # "crossref updated-by", "crossref update-to", "crossref title", ...
    label: str | None = None  # the update type as Crossref spells it
    pmid: str | None = None  # the work's PMID, when the signal names it (Retraction Watch)


def _date(value: Any) -> str | None:
    parts = ((value or {}).get("date-parts") or [[None]])[0] if isinstance(value, dict) else []
    if not parts or parts[0] is None:
        return None
    y, m, d = (list(parts) + [1, 1])[:3]
    try:
        return dt.date(int(y), int(m), int(d)).isoformat()
    except (TypeError, ValueError):
        return None


def updates_of(work: dict[str, Any]) -> list[Update]:
    """Retraction, concern and correction signals carried by the work itself
    (``updated-by`` entries and ``relation`` links; ``new_version`` is not news)."""
    doi = normalise_doi(work.get("DOI")) or ""
    out = []
    for u in work.get("updated-by") or []:
        kind = KINDS.get(str(u.get("type", "")).lower())
        if kind:
            who = u.get("source") or "publisher"
            out.append(Update(doi, kind, normalise_doi(u.get("DOI")), _date(u.get("updated")),
                              f"crossref updated-by ({who})", u.get("type")))
    seen = {(x.kind, x.notice_doi) for x in out}
    for rel, items in (work.get("relation") or {}).items():
        kind = _RELATION_KINDS.get(rel)
        for it in items if kind and isinstance(items, list) else []:
            notice = normalise_doi(it.get("id")) if it.get("id-type") == "doi" else None
            if (kind, notice) not in seen:
                seen.add((kind, notice))
                out.append(Update(doi, kind, notice, None, f"crossref relation {rel}", rel))
    return out


def notices_for(doi: str, items: list[dict[str, Any]]) -> list[Update]:
    """Signals from notices whose ``update-to`` names ``doi``."""
    want = normalise_doi(doi)
    out = []
    for item in items:
        for u in item.get("update-to") or []:
            kind = KINDS.get(str(u.get("type", "")).lower())
            if kind and normalise_doi(u.get("DOI")) == want:
                out.append(Update(want or doi, kind, normalise_doi(item.get("DOI")),
                                  _date(u.get("updated")) or _date(item.get("created")),
                                  "crossref update-to", u.get("type")))
    return out


def retracted_by_title(doi: str, title: str, items: list[dict[str, Any]]) -> list[Update]:
    """Notices titled "Retracted: <title>" (or "Retraction: ...") of exactly this work's
    title that carry no ``update-to``: their title is the only signal."""
    want = normalise_title(title)
    out = []
    for item in items:
        if item.get("update-to") or normalise_doi(item.get("DOI")) == normalise_doi(doi):
            continue
        for t in item.get("title") or []:
            m = _RETRACTED_TITLE.match(str(t))
            if m and want and normalise_title(str(t)[m.end():]) == want:
                out.append(Update(normalise_doi(doi) or doi, "retraction",
                                  normalise_doi(item.get("DOI")), _date(item.get("created")),
                                  "crossref title", "title says retracted"))
                break
    return out


def _rw_date(value: str) -> str | None:
    """Retraction Watch dates are ``M/D/YYYY H:MM``."""
    try:
        return dt.datetime.strptime(value.split()[0], "%m/%d/%Y").date().isoformat()
    except (ValueError, IndexError):
        return None


def _rw_pmid(value: str) -> str | None:
    """PMIDs re-written as floats (``37476288.0``) or 0 for none, as the CSV carries them."""
    head = value.strip().split(".")[0]
    return head if head.isdigit() and int(head) > 0 else None


def retraction_watch(
    path: Path, dois: Collection[str], pmids: Collection[str]
) -> Iterator[Update]:
    """Rows of the Retraction Watch CSV (as Crossref distributes it) about the given DOIs
    or PMIDs, streamed row by row (the file has tens of thousands of rows)."""
    want_doi = {normalise_doi(d) for d in dois} - {None}
    want_pmid = set(pmids)
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        for row in csv.DictReader(fh):
            doi = normalise_doi(row.get("OriginalPaperDOI"))
            pmid = _rw_pmid(row.get("OriginalPaperPubMedID") or "")
            if doi not in want_doi and pmid not in want_pmid:
                continue
            kind = KINDS.get(str(row.get("RetractionNature", "")).strip().lower()
                             .replace(" ", "_"))
            if kind is None:
                continue  # e.g. "Reinstatement": not a finding against the study
            notice = normalise_doi(row.get("RetractionDOI"))
            if notice is None and _rw_pmid(row.get("RetractionPubMedID") or ""):
                notice = f"PMID {_rw_pmid(row['RetractionPubMedID'])}"
            yield Update(doi or "", kind, notice, _rw_date(row.get("RetractionDate") or ""),
                         "retraction watch", row.get("RetractionNature"), pmid)


def _items(data: Any) -> list[dict[str, Any]]:
    msg = data.get("message") if isinstance(data, dict) else None
    if not isinstance(msg, dict) or not isinstance(msg.get("items"), list):
        raise ValueError("answer is not a Crossref works list")
    return msg["items"]


def _work(data: Any) -> dict[str, Any]:
    msg = data.get("message") if isinstance(data, dict) else None
    if not isinstance(msg, dict) or "DOI" not in msg:
        raise ValueError("answer is not a Crossref work")
    return msg


class CrossrefClient(JsonApiClient):
    """The three Crossref look-ups of the retraction watch (base URL ``CROSSREF_URL``)."""

    @classmethod
    def from_env(cls, policy: Politeness | None = None, **kw: Any) -> CrossrefClient:
        """Client for ``CROSSREF_URL`` (default Crossref), ``mailto`` from the environment."""
        mail = os.environ.get("CROSSREF_MAILTO") or os.environ.get("NCBI_EMAIL") or None
        cfg = ApiConfig("Crossref", os.environ.get("CROSSREF_URL") or DEFAULT_BASE_URL,
                        policy or Politeness(INTERVAL), mailto=mail)
        return cls(cfg, **kw)

    def work(self, doi: str) -> dict[str, Any] | None:
        """The work's metadata, or None when Crossref does not know the DOI (404)."""
        try:
            return self.get("works/" + urllib.parse.quote(doi, safe="/"), None, _work).data
        except ApiRefused as exc:
            if exc.status == 404:
                return None
            raise

    def notices(self, doi: str) -> list[dict[str, Any]]:
        """Works whose ``update-to`` names ``doi`` (``filter=updates:{doi}``)."""
        return self.get("works", {"filter": f"updates:{doi}", "rows": 100}, _items).data

    def by_title(self, title: str, rows: int = 5) -> list[dict[str, Any]]:
        """The best title matches (only DOI, title, update-to, created, type)."""
        return self.get(
            "works",
            {"query.title": title, "rows": rows, "select": "DOI,title,update-to,created,type"},
            _items,
        ).data

    def check(self, doi: str, title: str | None) -> list[Update]:
        """Every retraction/concern/correction signal Crossref holds for ``doi``."""
        found: list[Update] = []
        work = self.work(doi)
        if work is not None:
            found += updates_of(work)
            title = title or (work.get("title") or [None])[0]
        found += notices_for(doi, self.notices(doi))
        if title:
            found += retracted_by_title(doi, title, self.by_title(title))
        out: dict[tuple[str, str | None], Update] = {}
        for u in found:  # the same notice seen twice (updated-by and update-to) counts once
            out.setdefault((u.kind, u.notice_doi), u)
        return list(out.values())
