"""Retraction and correction watch for a review's included studies.

For every included (curated) study, by its PMID and DOI:

- PubMed, from the records the registry already holds: ``RetractionIn`` /
  "Retracted Publication" (retraction), ``ExpressionOfConcernIn`` (expression of concern),
  ``ErratumIn`` / ``CorrectedandRepublishedIn`` / ``RepublishedIn`` (correction). PubMed's
  links carry no date, so a PubMed finding's date stays empty (never invented).
- Crossref, live: the work's ``updated-by`` and ``relation``, notices whose ``update-to``
  names it, and a notice that says "Retracted: <title>" only in its title.
- Retraction Watch, offline, when its CSV (distributed by Crossref) is given: rows whose
  original paper has the study's DOI or PMID.

Findings are kept in ``integrity_findings``; one found for the first time is ``new``: the
report's "What's new" and ``--fail-on-change`` count those of kind retraction or
expression of concern.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.crossref import CrossrefClient, retraction_watch
from ingest.records import RETRACTED_PUBLICATION
from registry.errors import NetworkError
from registry.store import Store

RETRACTION = "retraction"
CONCERN = "expression of concern"
CORRECTION = "correction"
SERIOUS = frozenset({RETRACTION, CONCERN})  # news that can change what the review concludes
_PUBMED_KINDS = {
    "RetractionIn": RETRACTION, "ExpressionOfConcernIn": CONCERN, "ErratumIn": CORRECTION,
    "CorrectedandRepublishedIn": CORRECTION, "RepublishedIn": CORRECTION,
}


@dataclass(frozen=True)
class Finding:
    """A retraction, expression of concern or correction of an included study."""

    study_id: str
    kind: str  # retraction | expression of concern | correction
    source: str  # "pubmed RetractionIn", "crossref update-to", "crossref title", ...
    notice: str  # notice DOI, "PMID n", or "" when the source names none
    work: str  # the study's PMID or DOI that was checked
    date: str | None = None
    new: bool = False  # found for the first time by this check

    @property
    def serious(self) -> bool:
        """A retraction or expression of concern (news for --fail-on-change)."""
        return self.kind in SERIOUS


@dataclass
class WatchResult:
    """Every finding for the review, which studies were checked, and what could not be."""

    findings: list[Finding] = field(default_factory=list)
    checked: int = 0
    unreachable: list[str] = field(default_factory=list)  # Crossref errors, one line each
    requests: int = 0  # Crossref HTTP attempts this check made (retries included)

    @property
    def new_serious(self) -> list[Finding]:
        """Retractions and expressions of concern found for the first time."""
        return [f for f in self.findings if f.new and f.serious]

    def flagged(self) -> dict[str, str]:
        """study_id -> the gravest kind found (for flags in tables and figures)."""
        order = [RETRACTION, CONCERN, CORRECTION]
        out: dict[str, str] = {}
        for f in self.findings:
            cur = out.get(f.study_id)
            if cur is None or order.index(f.kind) < order.index(cur):
                out[f.study_id] = f.kind
        return out


def _pubmed_findings(store: Store, studies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_pmid = {str(s["pmid"]): s["study_id"] for s in studies if s.get("pmid")}
    out = []
    for row in store.pubmed_integrity(list(by_pmid)):
        sid, work = by_pmid[str(row["pmid"])], f"PMID {row['pmid']}"
        for c in row.get("comments") or []:
            kind = _PUBMED_KINDS.get(c.get("ref_type"))
            if kind:
                notice = f"PMID {c['pmid']}" if c.get("pmid") else (c.get("ref_source") or "")
                out.append({"study_id": sid, "kind": kind, "source": f"pubmed {c['ref_type']}",
                            "notice": notice, "work": work, "date": None})
        if RETRACTED_PUBLICATION in (row.get("publication_types") or []):
            out.append({"study_id": sid, "kind": RETRACTION,
                        "source": f"pubmed {RETRACTED_PUBLICATION}", "notice": "", "work": work,
                        "date": None})
    return out


def _crossref_findings(
    client: CrossrefClient, studies: list[dict[str, Any]], unreachable: list[str]
) -> list[dict[str, Any]]:
    out = []
    for s in studies:
        if not s.get("doi"):
            continue
        try:
            updates = client.check(s["doi"], s.get("title"))
        except NetworkError as exc:
            unreachable.append(f"{s['study_id']} ({s['doi']}): {exc}")
            if "unreachable" in str(exc):
                break  # the host is down: the other studies would fail the same way
            continue
        out.extend({"study_id": s["study_id"], "kind": u.kind, "source": u.source,
                    "notice": u.notice_doi or "", "work": s["doi"], "date": u.date}
                   for u in updates)
    return out


def _rw_findings(path: Path, studies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_doi = {s["doi"]: s for s in studies if s.get("doi")}
    by_pmid = {str(s["pmid"]): s for s in studies if s.get("pmid")}
    out = []
    for u in retraction_watch(path, by_doi, by_pmid):
        hits = [(by_doi.get(u.doi), u.doi), (by_pmid.get(str(u.pmid)), f"PMID {u.pmid}")]
        for sid in dict.fromkeys(s["study_id"] for s, _ in hits if s):
            work = next(w for s, w in hits if s and s["study_id"] == sid)
            out.append({"study_id": sid, "kind": u.kind, "source": u.source,
                        "notice": u.notice_doi or "", "work": work, "date": u.date})
    return out


def integrity_watch(
    store: Store,
    review: str,
    *,
    client: CrossrefClient | None = None,
    crossref: bool = True,
    retraction_watch_csv: Path | None = None,
) -> WatchResult:
    """Check every included study of ``review`` for retractions, expressions of concern and
    corrections (PubMed links already stored; Crossref live unless ``crossref`` is False).

    Crossref failures do not stop the check: they are listed in ``unreachable`` and the
    PubMed findings still count. ``retraction_watch_csv`` (the Retraction Watch CSV that
    Crossref distributes) is read offline, row by row.
    """
    studies = store.included_studies_for_watch(review)
    unreachable: list[str] = []
    raw = _pubmed_findings(store, studies)
    if retraction_watch_csv is not None:
        raw += _rw_findings(retraction_watch_csv, studies)
    requests = 0
    if crossref and any(s.get("doi") for s in studies):
        client = client or CrossrefClient.from_env()
        before = sum(client.http.requests.values())
        raw += _crossref_findings(client, studies, unreachable)
        requests = sum(client.http.requests.values()) - before
    unique: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for f in raw:
        unique.setdefault((f["study_id"], f["kind"], f["source"], f["notice"]), f)
    fresh = store.save_integrity_findings(review, unique.values())
    findings = [
        Finding(study_id=r["study_id"], kind=r["kind"], source=r["source"], notice=r["notice"],
                work=r["work"] or "", date=r["date"],
                new=(r["study_id"], r["kind"], r["source"], r["notice"]) in fresh)
        for r in store.integrity_findings(review)
    ]
    return WatchResult(findings=findings, checked=len(studies), unreachable=unreachable,
                       requests=requests)
