"""The new sources' share of one living update, in one call for ``registry update``.

Runs the review's saved ClinicalTrials.gov and Europe PMC searches and the retraction /
correction watch. Like the PubMed step, an unreachable source is said in one line and the
update goes on with what the registry holds; offline, the watch still reads PubMed's
links from the stored records.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ingest.crossref import CrossrefClient
from ingest.ctgov import CtgovClient
from ingest.europepmc import EuropePmcClient
from registry.errors import InputError, NetworkError
from registry.sources.europepmc import search_europepmc
from registry.sources.runner import SourceSummary
from registry.sources.trials import search_clinicaltrials
from registry.sources.watch import WatchResult, integrity_watch
from registry.store import Store


@dataclass
class SourcesUpdate:
    """What the new sources did in one update."""

    summaries: list[SourceSummary] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)  # "source (reason)"
    watch: WatchResult | None = None

    @property
    def new_records(self) -> int:
        """New bibliographic records (Europe PMC)."""
        return sum(s.new for s in self.summaries if s.source == "europepmc")

    @property
    def new_trials(self) -> int:
        """New registry records (ClinicalTrials.gov)."""
        return sum(s.new for s in self.summaries if s.source == "clinicaltrials_gov")

    def lines(self) -> list[str]:
        """One line per run, per unreachable source and per new serious finding."""
        out = [s.line() for s in self.summaries]
        out += [f"{u}: unreachable; went on with what the registry holds"
                for u in self.unreachable]
        for f in self.watch.new_serious if self.watch else []:
            out.append(f"{f.study_id}: {f.kind} ({f.source}, notice {f.notice or 'unnamed'})")
        return out


def update_sources(
    store: Store,
    review: str,
    *,
    offline: bool = False,
    ctgov: CtgovClient | None = None,
    europepmc: EuropePmcClient | None = None,
    crossref: CrossrefClient | None = None,
    retraction_watch_csv: Path | None = None,
) -> SourcesUpdate:
    """Search the review's live ClinicalTrials.gov and Europe PMC queries, then check its
    included studies for retractions and corrections (with the Retraction Watch CSV given
    or named by ``RETRACTION_WATCH_CSV``). Never raises NetworkError: an unreachable
    source is listed in ``unreachable``."""
    rw = retraction_watch_csv or (Path(os.environ["RETRACTION_WATCH_CSV"])
                                  if os.environ.get("RETRACTION_WATCH_CSV") else None)
    if rw is not None and not rw.is_file():
        raise InputError(f"{rw}: Retraction Watch CSV not found (RETRACTION_WATCH_CSV)")
    res = SourcesUpdate()
    steps = (
        ("clinicaltrials_gov", lambda: search_clinicaltrials(store, review, client=ctgov)),
        ("europepmc", lambda: search_europepmc(store, review, client=europepmc)),
    )
    for name, run in steps:
        if offline:
            continue
        try:
            res.summaries += run()
        except NetworkError as exc:
            res.unreachable.append(f"{name} ({exc})")
    res.watch = integrity_watch(store, review, client=crossref, crossref=not offline,
                                retraction_watch_csv=rw)
    res.unreachable += [f"crossref ({u})" for u in res.watch.unreachable[:1]]
    return res
