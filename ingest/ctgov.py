"""ClinicalTrials.gov API v2: client, and the parser turning a study into a :class:`Trial`.

API: ``GET {CTGOV_URL}/studies`` (default ``https://clinicaltrials.gov/api/v2``) with
``query.cond`` / ``query.intr`` / ``query.term``, ``filter.advanced`` for the last-update
window, ``pageSize`` and ``pageToken`` (https://clinicaltrials.gov/data-api/api).
Rate limit: ClinicalTrials.gov asks for no more than about 50 requests per minute per
client (data-api "Rate limit"); the client keeps 1.3 s between requests (46/min), a margin
under it. A page carries ``nextPageToken`` when more *may* follow; the API emits one
whenever a page is full even when the next is empty (SOURCES.md, cyanheads issues #98,
#122), so paging stops on an empty ``studies`` list as well as on a missing token.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ingest.http import Politeness
from ingest.jsonapi import ApiConfig, JsonApiClient
from ingest.normalise import clean_text, normalise_registry_id, unique
from ingest.records import ParseProblem

DEFAULT_BASE_URL = "https://clinicaltrials.gov/api/v2"
INTERVAL = 1.3  # seconds: ~50 requests/minute documented, 46/min kept
PAGE_SIZE = 100
# Reference types that are the trial's own publications (BACKGROUND ones are not).
PUBLICATION_REFS = frozenset({"RESULT", "DERIVED"})


@dataclass(frozen=True, slots=True)
class Trial:
    """One registry record of ClinicalTrials.gov, normalised."""

    nct_id: str
    title: str
    official_title: str | None = None
    status: str | None = None  # overallStatus: RECRUITING, COMPLETED, WITHDRAWN, ...
    why_stopped: str | None = None
    study_type: str | None = None  # INTERVENTIONAL | OBSERVATIONAL | EXPANDED_ACCESS
    phases: tuple[str, ...] = ()
    allocation: str | None = None
    enrollment: int | None = None
    enrollment_type: str | None = None  # ACTUAL | ESTIMATED
    conditions: tuple[str, ...] = ()
    interventions: tuple[str, ...] = ()
    arms: tuple[dict[str, Any], ...] = ()  # {"label", "type", "description", "interventions"}
    primary_outcomes: tuple[dict[str, Any], ...] = ()  # {"measure", "time_frame"}
    secondary_outcomes: tuple[dict[str, Any], ...] = ()
    has_results: bool = False
    references: tuple[dict[str, Any], ...] = ()  # {"pmid", "type", "citation"}
    secondary_ids: tuple[str, ...] = ()
    sponsor: str | None = None
    start_date: str | None = None  # as given: YYYY-MM-DD or YYYY-MM
    primary_completion_date: str | None = None
    completion_date: str | None = None
    first_posted: str | None = None
    last_update_posted: str | None = None
    results_first_posted: str | None = None
    version: str | None = None  # derivedSection.miscInfoModule.versionHolder

    @property
    def linked_pmids(self) -> tuple[str, ...]:
        """PMIDs the registry names as the trial's own results (RESULT/DERIVED refs)."""
        return tuple(unique(str(r["pmid"]) for r in self.references
                            if r.get("pmid") and r.get("type") in PUBLICATION_REFS))


@dataclass
class StudiesPage:
    """One page of ``/studies``: trials, problems and the token of the next page."""

    trials: list[Trial] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)
    next_token: str | None = None
    total: int | None = None


def _date(struct: Any) -> str | None:
    return clean_text(struct.get("date")) if isinstance(struct, dict) else None


def _texts(items: Any) -> tuple[str, ...]:
    return tuple(unique(t for t in (clean_text(str(i)) for i in items or []) if t))


def _outcomes(items: Any) -> tuple[dict[str, Any], ...]:
    return tuple(
        {"measure": clean_text(o.get("measure")), "time_frame": clean_text(o.get("timeFrame"))}
        for o in items or [] if isinstance(o, dict)
    )


def parse_study(study: dict[str, Any]) -> Trial:
    """A v2 study object as a :class:`Trial`; ``ValueError`` when it has no NCT id."""
    ps = study.get("protocolSection") or {}
    ident = ps.get("identificationModule") or {}
    nct = normalise_registry_id(ident.get("nctId"))
    if not nct or not nct.startswith("NCT"):
        raise ValueError("study has no NCT id")
    status = ps.get("statusModule") or {}
    design = ps.get("designModule") or {}
    enrol = design.get("enrollmentInfo") or {}
    arms_mod = ps.get("armsInterventionsModule") or {}
    outcomes = ps.get("outcomesModule") or {}
    refs = (ps.get("referencesModule") or {}).get("references") or []
    sponsor = ((ps.get("sponsorCollaboratorsModule") or {}).get("leadSponsor") or {}).get("name")
    count = enrol.get("count")
    return Trial(
        nct_id=nct,
        title=clean_text(ident.get("briefTitle")) or clean_text(ident.get("officialTitle")) or "",
        official_title=clean_text(ident.get("officialTitle")),
        status=status.get("overallStatus"),
        why_stopped=clean_text(status.get("whyStopped")),
        study_type=design.get("studyType"),
        phases=tuple(design.get("phases") or ()),
        allocation=(design.get("designInfo") or {}).get("allocation"),
        enrollment=int(count) if isinstance(count, int | float) else None,
        enrollment_type=enrol.get("type"),
        conditions=_texts((ps.get("conditionsModule") or {}).get("conditions")),
        interventions=_texts(i.get("name") for i in arms_mod.get("interventions") or []),
        arms=tuple(
            {"label": clean_text(a.get("label")), "type": a.get("type"),
             "description": clean_text(a.get("description")),
             "interventions": list(a.get("interventionNames") or [])}
            for a in arms_mod.get("armGroups") or [] if isinstance(a, dict)
        ),
        primary_outcomes=_outcomes(outcomes.get("primaryOutcomes")),
        secondary_outcomes=_outcomes(outcomes.get("secondaryOutcomes")),
        has_results=bool(study.get("hasResults")),
        references=tuple(
            {"pmid": clean_text(r.get("pmid")), "type": r.get("type"),
             "citation": clean_text(r.get("citation"))}
            for r in refs if isinstance(r, dict)
        ),
        secondary_ids=_texts(s.get("id") for s in ident.get("secondaryIdInfos") or []),
        sponsor=clean_text(sponsor),
        start_date=_date(status.get("startDateStruct")),
        primary_completion_date=_date(status.get("primaryCompletionDateStruct")),
        completion_date=_date(status.get("completionDateStruct")),
        first_posted=_date(status.get("studyFirstPostDateStruct")),
        last_update_posted=_date(status.get("lastUpdatePostDateStruct")),
        results_first_posted=_date(status.get("resultsFirstPostDateStruct")),
        version=((study.get("derivedSection") or {}).get("miscInfoModule") or {}).get(
            "versionHolder"),
    )


def iter_studies(studies: Any, label: str = "page") -> Iterator[Trial | ParseProblem]:
    """Parse each study of a page; a broken one becomes a :class:`ParseProblem`."""
    for i, s in enumerate(studies or []):
        try:
            if not isinstance(s, dict):
                raise ValueError("not a JSON object")
            yield parse_study(s)
        except (ValueError, TypeError, AttributeError) as exc:
            yield ParseProblem(f"study {i + 1}", str(exc), file=label)


def parse_page(data: Any, label: str = "ClinicalTrials.gov page") -> StudiesPage:
    """A ``/studies`` answer (or a single study object) as a :class:`StudiesPage`."""
    if not isinstance(data, dict) or not ("studies" in data or "protocolSection" in data):
        raise ValueError(f"{label}: not a studies page")
    studies = data["studies"] if "studies" in data else [data]
    page = StudiesPage(next_token=data.get("nextPageToken") or None,
                       total=data.get("totalCount"))
    for item in iter_studies(studies, label):
        (page.trials if isinstance(item, Trial) else page.problems).append(item)
    if not studies:
        page.next_token = None  # an empty page ends the sequence whatever the token says
    return page


def window_filter(mindate: str | None, maxdate: str | None) -> str | None:
    """``filter.advanced`` limiting to records last updated in [mindate, maxdate]."""
    if not mindate and not maxdate:
        return None
    return f"AREA[LastUpdatePostDate]RANGE[{mindate or 'MIN'},{maxdate or 'MAX'}]"


class CtgovClient(JsonApiClient):
    """``/studies`` search of ClinicalTrials.gov v2 (base URL from ``CTGOV_URL``)."""

    @classmethod
    def from_env(cls, policy: Politeness | None = None, **kw: Any) -> CtgovClient:
        """Client for ``CTGOV_URL`` (default ClinicalTrials.gov)."""
        cfg = ApiConfig("ClinicalTrials.gov", os.environ.get("CTGOV_URL") or DEFAULT_BASE_URL,
                        policy or Politeness(INTERVAL))
        return cls(cfg, **kw)

    def search(
        self,
        *,
        cond: str | None = None,
        intr: str | None = None,
        term: str | None = None,
        mindate: str | None = None,
        maxdate: str | None = None,
        page_token: str | None = None,
        page_size: int = PAGE_SIZE,
    ) -> tuple[StudiesPage, int]:
        """One page of studies; returns the page and the number of HTTP attempts."""
        params = {
            "format": "json", "query.cond": cond or None, "query.intr": intr or None,
            "query.term": term or None, "filter.advanced": window_filter(mindate, maxdate),
            "pageSize": page_size, "pageToken": page_token,
            "countTotal": "true" if page_token is None else None,
        }
        resp = self.get("studies", params, parse_page)
        return resp.data, resp.attempts
