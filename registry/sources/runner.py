"""The paged living-search run shared by ClinicalTrials.gov and Europe PMC.

One run = one saved query of one source, logged in ``search_runs`` like a PubMed search.
Incremental by default: the window starts ``overlap_days`` before the end of the last
successful run of the same (review, source, query) (a last-update / first-index date can
be back-filled) and ends today. Pages are fetched with the source's cursor
(``pageToken`` / ``cursorMark``); each page's records, its row in ``source_requests`` and
the run's resumable state (the next cursor) are committed in one transaction, so a run
killed at any point is resumed by the next call from the first page not yet stored: no
record stored twice, none missed. A cursor the server no longer accepts (it expired while
the process was dead) restarts the window from its first page; what was stored is only
linked again.
"""

from __future__ import annotations

import datetime as dt
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ingest.jsonapi import ApiRefused
from ingest.records import ParseProblem
from ingest.sources import canonical_source
from registry import __version__
from registry.errors import InputError, RegistryError
from registry.store import Store

DEFAULT_OVERLAP_DAYS = 3
TOOL = f"registry {__version__}"


@dataclass(frozen=True)
class Page:
    """What a source's page fetch hands the runner."""

    items: Sequence[Any]
    problems: Sequence[ParseProblem]
    next_cursor: str | None
    total: int | None
    attempts: int


@dataclass(frozen=True)
class SourceSummary:
    """What one live search of ClinicalTrials.gov or Europe PMC did."""

    run_id: int
    review: str | None
    source: str
    query: str
    mode: str  # full | incremental
    mindate: str | None
    maxdate: str
    hits: int | None  # the source's total for the query and window
    new: int  # never seen before by the registry
    known: int  # seen again (linked, stored once)
    pages: int
    problems: int
    requests: int  # HTTP attempts, retries included
    seconds: float
    outcome: str
    resumed_from: tuple[int, ...] = ()

    def line(self) -> str:
        """One line for the terminal."""
        who = f"{self.review}: " if self.review else ""
        since = f" since {self.mindate}" if self.mode == "incremental" and self.mindate else ""
        chain = ", ".join(map(str, self.resumed_from))
        resumed = f", resumed run {chain}" if chain else ""
        probs = f", {self.problems} problems" if self.problems else ""
        return (
            f"{who}{self.source} {self.mode}{since}: {self.hits or 0:,} hits, {self.new:,} new, "
            f"{self.known:,} already held{probs}, {self.pages} pages, {self.requests} requests, "
            f"{self.seconds:.1f} s (run {self.run_id}{resumed})"
        )


FetchPage = Callable[[str | None, str | None, str | None], Page]  # cursor, mindate, maxdate
StorePage = Callable[[Sequence[Any], int, dict[str, Any]], tuple[int, int]]  # -> new, seen
Finish = Callable[..., dict[str, Any]]


def is_source(name: str, canonical: str) -> bool:
    """True when a protocol's source name (any known alias) means ``canonical``."""
    try:
        return canonical_source(name) == canonical
    except InputError:
        return False  # an unknown name is another source's business, not this runner's


def _decoded(cursor: str | None) -> str | None:
    return urllib.parse.unquote(cursor) if cursor else None


@dataclass
class PagedRun:
    """One paged search run; ``fetch``, ``store_page`` and ``finish`` are the source's."""

    store: Store
    source: str
    endpoint: str
    review: str | None
    query: str
    fetch: FetchPage
    store_page: StorePage
    finish: Finish
    full: bool = False
    today: dt.date = field(default_factory=lambda: dt.datetime.now(dt.UTC).date())
    overlap_days: int = DEFAULT_OVERLAP_DAYS
    max_pages: int | None = None
    state: dict[str, Any] = field(default_factory=dict)
    chain: list[int] = field(default_factory=list)

    def run(self) -> SourceSummary:
        """Plan (resume / incremental / full), page through, log and close the run."""
        t0 = time.monotonic()
        self._plan()
        st = self.state
        run_id = self.store.record_search_run(
            source=self.source, kind="search", tool_version=TOOL, review=self.review,
            query=self.query, date_field="update" if st["mindate"] else None,
            mindate=st["mindate"], maxdate=st["maxdate"], state=st,
        )
        counts = {"new": 0, "seen": 0, "pages": 0, "problems": 0, "requests": 0}
        outcome, error = "ok", None
        try:
            outcome = self._pages(run_id, counts)
            error = None if outcome == "ok" else f"stopped after {self.max_pages} pages"
        except BaseException as exc:
            why = str(exc) if isinstance(exc, RegistryError) else f"{type(exc).__name__}: {exc}"
            self.finish(run_id, outcome="interrupted" if isinstance(exc, KeyboardInterrupt)
                        else "failed", error=why or "interrupted")
            raise
        self.finish(run_id, outcome=outcome, error=error, hits=st.get("hits"))
        return SourceSummary(
            run_id=run_id, review=self.review, source=self.source, query=self.query,
            mode=st["mode"], mindate=st["mindate"], maxdate=st["maxdate"], hits=st.get("hits"),
            new=counts["new"], known=counts["seen"] - counts["new"], pages=counts["pages"],
            problems=counts["problems"], requests=counts["requests"],
            seconds=time.monotonic() - t0, outcome=outcome, resumed_from=tuple(self.chain),
        )

    def _plan(self) -> None:
        """Resume an unfinished run's window and cursor, else incremental, else full."""
        unfinished = self.store.unfinished_runs(self.review, self.source, self.query)
        for r in unfinished:
            if r["outcome"] == "running":
                self.finish(r["run_id"], outcome="interrupted",
                            error="the process ended before the run finished")
        resumable = [r for r in unfinished if isinstance(r.get("state"), dict)]
        last_state = resumable[-1]["state"] if resumable else None
        if last_state and not (self.full and last_state.get("mode") == "incremental"):
            self.chain = [r["run_id"] for r in unfinished]
            self.state = {k: last_state.get(k) for k in ("mode", "mindate", "maxdate", "cursor",
                                                          "hits")}
            self.state["resumed_from"] = self.chain
            return
        mindate = None
        last = None if self.full else self.store.last_successful_run(
            self.review, self.source, self.query)
        if last is not None and last.get("maxdate") is not None:
            end = last["maxdate"]
            end = end.date() if isinstance(end, dt.datetime) else end
            mindate = (end - dt.timedelta(days=self.overlap_days)).isoformat()
        self.state = {"mode": "incremental" if mindate else "full", "mindate": mindate,
                      "maxdate": self.today.isoformat(), "cursor": None, "hits": None}

    def _pages(self, run_id: int, counts: dict[str, int]) -> str:
        st = self.state
        restarted = False
        while True:
            if self.max_pages is not None and counts["pages"] >= self.max_pages:
                return "interrupted"
            cursor = st.get("cursor")
            try:
                page = self.fetch(cursor, st["mindate"], st["maxdate"])
            except ApiRefused as exc:
                if cursor is None or restarted or exc.status not in (400, 404, 410):
                    raise
                # The saved cursor expired while the process was dead: start the window over.
                restarted = True
                st["cursor"] = None
                continue
            counts["requests"] += page.attempts
            if page.total is not None:
                st["hits"] = page.total
            nxt = page.next_cursor
            if nxt and _decoded(nxt) == _decoded(cursor):
                nxt = None  # the source repeats its cursor on the last page
            st["cursor"] = nxt
            st["pages"] = int(st.get("pages") or 0) + 1
            with self.store.transaction():
                new, seen = self.store_page(page.items, run_id, st)
                self.store.log_source_request(
                    run_id, seq=counts["pages"] + 1, source=self.source, endpoint=self.endpoint,
                    cursor_in=cursor, cursor_out=nxt, attempts=page.attempts,
                    items=len(page.items), new_items=new, problems=len(page.problems))
                self.store.log_parse_problems(run_id, list(page.problems), file=self.source)
            counts["pages"] += 1
            counts["new"] += new
            counts["seen"] += seen
            counts["problems"] += len(page.problems)
            if not nxt or not page.items:
                return "ok"
