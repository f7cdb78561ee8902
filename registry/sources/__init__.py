"""Living sources beyond PubMed: ClinicalTrials.gov, Europe PMC, and the retraction and
correction watch (Crossref + PubMed links) of included studies.

Entry points for ``registry update`` and the report:

- :func:`update_sources` -> :class:`SourcesUpdate` (all of the below for one update)
- :func:`search_clinicaltrials`, :func:`search_europepmc` -> ``list[SourceSummary]``
- :func:`ongoing_unpublished_trials`, :func:`registered_trials` -> ``list[RegisteredTrial]``
- :func:`prisma_registers` -> :class:`RegistersBox`
- :func:`integrity_watch` -> :class:`WatchResult`
"""

from registry.sources.cycle import SourcesUpdate, update_sources
from registry.sources.europepmc import search_europepmc
from registry.sources.runner import SourceSummary
from registry.sources.trials import (
    CtgovQuery,
    RegisteredTrial,
    RegistersBox,
    ongoing_unpublished_trials,
    prisma_registers,
    registered_trials,
    search_clinicaltrials,
)
from registry.sources.watch import Finding, WatchResult, integrity_watch

__all__ = [
    "CtgovQuery",
    "Finding",
    "RegisteredTrial",
    "RegistersBox",
    "SourceSummary",
    "SourcesUpdate",
    "WatchResult",
    "integrity_watch",
    "ongoing_unpublished_trials",
    "prisma_registers",
    "registered_trials",
    "search_clinicaltrials",
    "search_europepmc",
    "update_sources",
]
