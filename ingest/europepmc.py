"""Europe PMC REST search: client, and the parser turning results into :class:`Record`.

API: ``GET {EUROPEPMC_URL}/search`` (default
``https://www.ebi.ac.uk/europepmc/webservices/rest``) with ``query``, ``format=json``,
``resultType`` (``core`` carries abstracts), ``pageSize`` (up to 1,000) and ``cursorMark``
(``*`` first, then the previous page's ``nextCursorMark``;
https://europepmc.org/RestfulWebService). Incremental windows use the documented
``FIRST_IDATE:[a TO b]`` field (date first indexed in Europe PMC).
Rate limit: Europe PMC publishes no hard number; it asks for reasonable use and blocks
abusive clients. The client keeps 0.25 s between requests (4/s), the pace of the Crossref
public pool, so a monthly update never looks like a crawl.

Records: ``source`` "europepmc", ``source_id`` "<SRC>:<id>" (``MED:39709209``,
``PPR:PPR1036674``: Europe PMC ids are unique only within their source). Preprints
(``source`` PPR or ``pubType`` preprint) carry the publication type "Preprint", as PubMed
marks the preprints it indexes, so screeners and dedup see them as such.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ingest.http import Politeness
from ingest.jsonapi import ApiConfig, JsonApiClient
from ingest.normalise import clean_text, normalise_doi, split_labelled_abstract, unique
from ingest.records import Comment, ParseProblem, Record

SOURCE = "europepmc"
DEFAULT_BASE_URL = "https://www.ebi.ac.uk/europepmc/webservices/rest"
INTERVAL = 0.25
PAGE_SIZE = 500
PREPRINT = "Preprint"
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_HEADING = re.compile(r"<h[1-6][^>]*>(.*?)</h[1-6]>", re.IGNORECASE | re.DOTALL)
# Europe PMC's commentCorrection types that mean the same as PubMed's RefTypes.
_COMMENT_TYPES = {
    "Retraction in": "RetractionIn", "Retraction of": "RetractionOf",
    "Erratum in": "ErratumIn", "Erratum for": "ErratumFor",
    "Expression of concern in": "ExpressionOfConcernIn",
    "Expression of concern for": "ExpressionOfConcernFor",
}


@dataclass
class SearchPage:
    """One page of ``/search``: records, problems, hit count and the next cursor."""

    records: list[Record] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)
    hit_count: int = 0
    next_cursor: str | None = None


def _text(value: Any) -> str | None:
    """Plain text of a field that may carry HTML (``core`` abstracts): headings become
    "LABEL: " so the section split sees them; other tags go; a bare ``<1`` stays."""
    if value is None:
        return None
    s = _HEADING.sub(lambda m: f" {m.group(1).strip().upper()}: ", str(value))
    return clean_text(html.unescape(_TAG.sub(" ", s)))


def _authors(r: dict[str, Any]) -> list[str]:
    full = (r.get("authorList") or {}).get("author")
    if isinstance(full, list) and full:
        names = []
        for a in full:
            if not isinstance(a, dict):
                continue
            name = a.get("collectiveName") or " ".join(
                x for x in (a.get("lastName"), a.get("initials")) if x)
            names.append(clean_text(name) or "")
        return unique(names)
    text = clean_text(r.get("authorString")) or ""
    return unique(clean_text(a) or "" for a in text.rstrip(".").split(","))


def _pub_types(r: dict[str, Any]) -> list[str]:
    listed = (r.get("pubTypeList") or {}).get("pubType")
    raw = listed if isinstance(listed, list) else str(r.get("pubType") or "").split(";")
    types = unique(clean_text(str(t)) or "" for t in raw)
    if r.get("source") == "PPR" or any(t.lower() == "preprint" for t in types):
        types = [t for t in types if t.lower() != "preprint"] + [PREPRINT]
    return types


def _comments(r: dict[str, Any]) -> list[Comment]:
    items = (r.get("commentCorrectionList") or {}).get("commentCorrection") or []
    out = []
    for c in items if isinstance(items, list) else []:
        kind = _COMMENT_TYPES.get(str(c.get("type")))
        if kind:
            pmid = str(c["id"]) if c.get("source") == "MED" and c.get("id") else None
            out.append(Comment(kind, clean_text(c.get("reference")), pmid))
    return out


def parse_result(r: dict[str, Any]) -> Record:
    """One ``result`` of a lite or core page as a :class:`Record`."""
    src, rid = r.get("source"), r.get("id")
    if not src or not rid:
        raise ValueError("result has no source/id")
    journal = (r.get("journalInfo") or {}).get("journal") or {}
    abstract = _text(r.get("abstractText"))
    year = r.get("pubYear")
    return Record(
        source=SOURCE,
        source_id=f"{src}:{rid}",
        pmid=str(r["pmid"]) if r.get("pmid") else None,
        doi=normalise_doi(r.get("doi")),
        pmcid=r.get("pmcid") or None,
        title=_text(r.get("title")) or "",
        abstract=abstract,
        abstract_sections=split_labelled_abstract(abstract) if abstract else [],
        authors=_authors(r),
        journal=clean_text(r.get("journalTitle") or journal.get("title")),
        journal_abbrev=clean_text(journal.get("isoabbreviation")),
        issn=clean_text(str(r.get("journalIssn") or "").split(";")[0]),
        volume=r.get("journalVolume") or (r.get("journalInfo") or {}).get("volume"),
        issue=r.get("issue") or (r.get("journalInfo") or {}).get("issue"),
        pages=r.get("pageInfo"),
        year=int(year) if str(year or "").isdigit() else None,
        pub_date=r.get("firstPublicationDate"),
        entrez_date=r.get("firstIndexDate"),
        publication_types=_pub_types(r),
        keywords=unique((r.get("keywordList") or {}).get("keyword") or []),
        languages=[r["language"]] if r.get("language") else [],
        comments=_comments(r),
    )


def iter_results(results: Any, label: str) -> Iterator[Record | ParseProblem]:
    """Parse each result; an unusable one becomes a :class:`ParseProblem`."""
    for i, r in enumerate(results or []):
        try:
            if not isinstance(r, dict):
                raise ValueError("not a JSON object")
            yield parse_result(r)
        except (ValueError, TypeError, AttributeError) as exc:
            where = f"{r.get('source')}:{r.get('id')}" if isinstance(r, dict) else f"result {i+1}"
            yield ParseProblem(where, str(exc), file=label)


def parse_page(data: Any, label: str = "Europe PMC page") -> SearchPage:
    """A ``/search`` JSON answer as a :class:`SearchPage`."""
    if not isinstance(data, dict) or "resultList" not in data:
        raise ValueError(f"{label}: answer is not a Europe PMC result list")
    results = (data.get("resultList") or {}).get("result") or []
    page = SearchPage(hit_count=int(data.get("hitCount") or 0),
                      next_cursor=data.get("nextCursorMark") or None)
    for item in iter_results(results, label):
        (page.records if isinstance(item, Record) else page.problems).append(item)
    if not results:
        page.next_cursor = None
    return page


def window_query(query: str, mindate: str | None, maxdate: str | None) -> str:
    """``query`` limited to records first indexed in [mindate, maxdate] (ISO dates)."""
    if not mindate and not maxdate:
        return query
    return f"({query}) AND (FIRST_IDATE:[{mindate or '1900-01-01'} TO {maxdate or '3000-01-01'}])"


class EuropePmcClient(JsonApiClient):
    """``/search`` of Europe PMC (base URL from ``EUROPEPMC_URL``)."""

    @classmethod
    def from_env(cls, policy: Politeness | None = None, **kw: Any) -> EuropePmcClient:
        """Client for ``EUROPEPMC_URL`` (default Europe PMC)."""
        cfg = ApiConfig("Europe PMC", os.environ.get("EUROPEPMC_URL") or DEFAULT_BASE_URL,
                        policy or Politeness(INTERVAL))
        return cls(cfg, **kw)

    def search(
        self,
        query: str,
        *,
        mindate: str | None = None,
        maxdate: str | None = None,
        cursor: str | None = None,
        page_size: int = PAGE_SIZE,
        result_type: str = "core",
    ) -> tuple[SearchPage, int]:
        """One page; returns the page and the number of HTTP attempts."""
        params = {
            "query": window_query(query, mindate, maxdate), "format": "json",
            "resultType": result_type, "pageSize": page_size, "cursorMark": cursor or "*",
        }
        resp = self.get("search", params, parse_page)
        return resp.data, resp.attempts
