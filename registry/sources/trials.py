"""ClinicalTrials.gov as a living source, trial-to-publication linkage, the report's list
of ongoing and unpublished trials, and the PRISMA 2020 "registers" box.

A protocol asks for it with a saved search of source ``clinicaltrials_gov`` (alias
``ctgov``)::

    - source: clinicaltrials_gov
      live: true
      condition: "liver cirrhosis"             # query.cond
      intervention: "mesenchymal stem cells"   # query.intr
      query: "randomized"                      # query.term ("" for none)

Trials are stored as their own record type (``trials``), not as bibliographic records:
a registry entry is a study's registration, to be matched with the publications of the
same study through NCT ids (PubMed's DataBankList/SecondaryId in ``records.registry_ids``,
an NCT id in an abstract, or the registry's own RESULT/DERIVED references' PMIDs).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ingest.ctgov import CtgovClient, Trial
from registry.errors import InputError
from registry.sources.runner import (
    DEFAULT_OVERLAP_DAYS,
    Page,
    PagedRun,
    SourceSummary,
    is_source,
)
from registry.store import Store
from schemas.protocol import load_protocol

SOURCE = "clinicaltrials_gov"  # canonical name (ingest/sources.py)
ONGOING = frozenset({"RECRUITING", "NOT_YET_RECRUITING", "ACTIVE_NOT_RECRUITING",
                     "ENROLLING_BY_INVITATION", "AVAILABLE"})
ENDED = frozenset({"COMPLETED", "TERMINATED", "SUSPENDED"})


@dataclass(frozen=True)
class CtgovQuery:
    """One ClinicalTrials.gov search: condition, intervention and other terms."""

    cond: str = ""
    intr: str = ""
    term: str = ""

    @property
    def key(self) -> str:
        """The text kept in the run log (and matched for incremental runs)."""
        return f"cond={self.cond} | intr={self.intr} | term={self.term}"


def saved_trial_queries(review: str) -> list[CtgovQuery]:
    """The protocol's live ClinicalTrials.gov searches."""
    proto = load_protocol(review)
    return [CtgovQuery(s.condition, s.intervention, s.query)
            for s in proto.searches if is_source(s.source, SOURCE) and s.live]


def search_clinicaltrials(
    store: Store,
    review: str | None = None,
    *,
    queries: Sequence[CtgovQuery] | None = None,
    full: bool = False,
    client: CtgovClient | None = None,
    today: dt.date | None = None,
    max_pages: int | None = None,
    page_size: int = 100,
    overlap_days: int = DEFAULT_OVERLAP_DAYS,
) -> list[SourceSummary]:
    """Run the review's saved ClinicalTrials.gov searches (or ``queries``) and store trials.

    Incremental by last-update-posted date since the last successful run, paged with
    ``pageToken``, resumable after a kill. NetworkError when the API fails after its
    retries (the run is logged as failed; committed pages stay and are not fetched again).
    """
    if queries is None:
        if review is None:
            raise InputError("give a review (its saved clinicaltrials searches) or queries")
        queries = saved_trial_queries(review)
    if not (1 <= page_size <= 1000):
        raise InputError(f"ClinicalTrials.gov page size must be 1..1000, not {page_size}")
    client = client or CtgovClient.from_env()
    out = []
    for q in queries:
        if not (q.cond or q.intr or q.term):
            raise InputError("a clinicaltrials search needs a condition, intervention or query")

        def fetch(cursor: str | None, lo: str | None, hi: str | None, q: CtgovQuery = q) -> Page:
            page, attempts = client.search(cond=q.cond, intr=q.intr, term=q.term, mindate=lo,
                                           maxdate=hi, page_token=cursor, page_size=page_size)
            return Page(page.trials, page.problems, page.next_token, page.total, attempts)

        def keep(items: Sequence[Trial], run_id: int, state: dict[str, Any]) -> tuple[int, int]:
            added = store.add_trials(items, run_id=run_id, state=state)
            return added.new, added.new + added.updated + added.unchanged

        out.append(PagedRun(
            store, SOURCE, "studies", review, q.key, fetch, keep, store.finish_trial_run,
            full=full, today=today or dt.datetime.now(dt.UTC).date(),
            overlap_days=overlap_days, max_pages=max_pages,
        ).run())
    return out


@dataclass(frozen=True)
class RegisteredTrial:
    """A trial in the registry, as the report lists it."""

    nct_id: str
    title: str
    status: str | None
    category: str  # ongoing | completed, unpublished | withdrawn | published | unknown
    has_results: bool  # results posted on ClinicalTrials.gov
    enrollment: int | None
    enrollment_type: str | None
    phases: tuple[str, ...]
    completion_date: str | None
    last_update_posted: str | None
    publications: tuple[str, ...]  # "PMID n" / "doi:..." of linked records


def _category(status: str | None, linked: bool) -> str:
    if linked:
        return "published"
    if status in ONGOING:
        return "ongoing"
    if status in ENDED:
        return "completed, unpublished"
    if status == "WITHDRAWN":
        return "withdrawn"
    return "unknown"


def registered_trials(store: Store, review: str | None = None) -> list[RegisteredTrial]:
    """Every trial the review's registry searches found, with its publication links and
    category; the report's "ongoing and unpublished trials" list is
    ``[t for t in registered_trials(...) if t.category != "published"]``."""
    trials = store.trials(review)
    links: dict[str, list[str]] = {}
    for row in store.trial_publication_links([t["nct_id"] for t in trials]):
        ident = f"PMID {row['pmid']}" if row["pmid"] else f"doi:{row['doi']}" if row["doi"] \
            else f"record {row['record_id']}"
        links.setdefault(row["nct_id"], [])
        if ident not in links[row["nct_id"]]:
            links[row["nct_id"]].append(ident)
    return [
        RegisteredTrial(
            nct_id=t["nct_id"], title=t["title"], status=t["status"],
            category=_category(t["status"], bool(links.get(t["nct_id"]))),
            has_results=bool(t["has_results"]), enrollment=t["enrollment"],
            enrollment_type=t["enrollment_type"], phases=tuple(t["phases"] or ()),
            completion_date=t["completion_date"], last_update_posted=t["last_update_posted"],
            publications=tuple(links.get(t["nct_id"], ())),
        )
        for t in trials
    ]


def ongoing_unpublished_trials(store: Store, review: str) -> list[RegisteredTrial]:
    """Registered trials with no linked publication: ongoing, completed but unpublished
    (results posted or not), withdrawn or of unknown status ("studies awaiting
    classification" in RevMan's terms)."""
    return [t for t in registered_trials(store, review) if t.category != "published"]


@dataclass(frozen=True)
class RegistersBox:
    """PRISMA 2020 identification from registers (its own box beside databases)."""

    registers: dict[str, int]  # "ClinicalTrials.gov": records identified
    total: int
    linked_to_publications: int  # register records of studies also found as publications
    ongoing: int
    completed_unpublished: int
    withdrawn: int
    unknown: int


def prisma_registers(store: Store, review: str) -> RegistersBox:
    """Counts for PRISMA 2020's "Records identified from registers" box."""
    trials = registered_trials(store, review)
    by = {c: sum(1 for t in trials if t.category == c)
          for c in ("published", "ongoing", "completed, unpublished", "withdrawn", "unknown")}
    return RegistersBox(
        registers={"ClinicalTrials.gov": len(trials)} if trials else {}, total=len(trials),
        linked_to_publications=by["published"], ongoing=by["ongoing"],
        completed_unpublished=by["completed, unpublished"], withdrawn=by["withdrawn"],
        unknown=by["unknown"],
    )
