"""Europe PMC as a living source: records go to the ordinary ``records`` table.

A protocol asks for it with ``- {source: europepmc, live: true, query: "..."}`` (Europe PMC
query syntax). Records are kept as source ``europepmc`` (``source_id`` "MED:<pmid>",
"PPR:<id>", "PMC:<pmcid>"); a record PubMed also returned is stored once per source and
counted once in PRISMA because dedup's hard keys (PMID, DOI) link the two. Preprints carry
the publication type "Preprint".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from ingest.europepmc import SOURCE, EuropePmcClient
from ingest.records import Record
from registry.errors import InputError
from registry.intake.sink import Sink
from registry.sources.runner import (
    DEFAULT_OVERLAP_DAYS,
    Page,
    PagedRun,
    SourceSummary,
    is_source,
)
from registry.store import Store
from schemas.protocol import load_protocol


def saved_europepmc_queries(review: str) -> list[str]:
    """The protocol's live Europe PMC queries."""
    proto = load_protocol(review)
    return [s.query for s in proto.searches if is_source(s.source, SOURCE) and s.live and s.query]


def search_europepmc(
    store: Store,
    review: str | None = None,
    *,
    query: str | None = None,
    full: bool = False,
    client: EuropePmcClient | None = None,
    today: dt.date | None = None,
    max_pages: int | None = None,
    page_size: int = 500,
    result_type: str = "core",
    overlap_days: int = DEFAULT_OVERLAP_DAYS,
) -> list[SourceSummary]:
    """Run the review's saved Europe PMC queries (or ``query``) and store the records.

    Incremental by first-index date since the last successful run, paged with
    ``cursorMark``, resumable after a kill; NetworkError when Europe PMC fails after its
    retries (committed pages stay and are not fetched again).
    """
    if query is not None and not query.strip():
        raise InputError("the Europe PMC query is empty")
    if query is None and review is None:
        raise InputError("give a review (its saved europepmc query) or a query")
    queries = [query.strip()] if query is not None else saved_europepmc_queries(review or "")
    if not (1 <= page_size <= 1000):
        raise InputError(f"Europe PMC page size must be 1..1000, not {page_size}")
    client = client or EuropePmcClient.from_env()
    out = []
    for q in queries:

        def fetch(cursor: str | None, lo: str | None, hi: str | None, q: str = q) -> Page:
            page, attempts = client.search(q, mindate=lo, maxdate=hi, cursor=cursor,
                                           page_size=page_size, result_type=result_type)
            return Page(page.records, page.problems, page.next_cursor, page.hit_count, attempts)

        sinks: dict[int, Sink] = {}

        def keep(
            items: Sequence[Record], run_id: int, state: dict[str, Any],
            sinks: dict[int, Sink] = sinks,
        ) -> tuple[int, int]:
            sink = sinks.setdefault(run_id, Sink(store, run_id, SOURCE, file=SOURCE))
            new, seen = sink.new, sink.seen
            sink.write(items, state)
            return sink.new - new, sink.seen - seen

        out.append(PagedRun(
            store, SOURCE, "search", review, q, fetch, keep, store.finish_search_run,
            full=full, today=today or dt.datetime.now(dt.UTC).date(),
            overlap_days=overlap_days, max_pages=max_pages,
        ).run())
    return out
