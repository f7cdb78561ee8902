"""Living PubMed searches (``registry search`` and the search step of ``registry update``).

``run_search`` runs a review's saved PubMed queries (or an ad hoc one) through
E-utilities and stores what comes back through the intake's :class:`Sink`. Each query is
a run in ``search_runs`` (PRISMA-S: what was searched, when, what came back) and every
record it saw is linked to it.

Searches are *incremental* by default: only records created since the last successful run
of the same query (crdt window reaching ``overlap_days`` back, because crdt/edat can be
back-filled), and a PMID the registry already holds is linked, not fetched again. ``full``
re-runs everything and refreshes stored records (retractions, errata). A run whose
process died is resumed by the next call: its window is kept (and extended to today), its
finished date windows are skipped and the PMIDs it stored are not fetched again, so the
pair finishes with no duplicate and no gap.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ingest.eutils import MAX_ESEARCH_IDS, EUtilsClient, EUtilsConfig
from ingest.records import ParseProblem
from registry.errors import InputError, NetworkError, RegistryError
from registry.intake.sink import TOOL, Progress, Sink
from registry.store import Store

SOURCE = "pubmed"
# ESearch date windows need a lower bound; no PubMed record was created before this.
EARLIEST = dt.date(1700, 1, 1)
DEFAULT_OVERLAP_DAYS = 3


@dataclass(frozen=True)
class SearchSummary:
    """What one live search did (one saved query)."""

    run_id: int
    review: str | None
    query: str
    query_translation: str | None
    mode: str  # "full" | "incremental"
    mindate: dt.date | None
    maxdate: dt.date | None
    hits: int  # records PubMed returned for the query in the window
    new: int  # records the registry had never seen
    duplicates: int  # hits the registry already held (linked, not fetched again)
    updated: int  # known records whose metadata changed (full re-runs)
    fetched: int  # records downloaded by EFetch in this run
    problems: int  # records reported as unusable or missing
    requests: dict[str, int]
    seconds: float
    outcome: str
    windows: int  # ESearch date windows the query was split into
    resumed_from: tuple[int, ...] = ()
    warnings: tuple[str, ...] = ()

    def line(self) -> str:
        """The one-line summary printed at the end of ``registry search``."""
        what = f"{self.review}: " if self.review else ""
        extra = ""
        if self.resumed_from:
            extra = f", resumed run {', '.join(map(str, self.resumed_from))}"
        window = ""
        if self.mode == "incremental" and self.mindate:
            window = f" since {self.mindate:%Y-%m-%d}"
        probs = f", {self.problems} problems" if self.problems else ""
        return (
            f"{what}pubmed {self.mode}{window}: {self.hits:,} hits, {self.new:,} new, "
            f"{self.duplicates:,} duplicates{probs}, {sum(self.requests.values())} requests, "
            f"{self.seconds:.1f} s (run {self.run_id}{extra})"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        out = dict(self.__dict__)
        for k in ("mindate", "maxdate"):
            out[k] = None if out[k] is None else out[k].isoformat()
        out["resumed_from"] = list(self.resumed_from)
        out["warnings"] = list(self.warnings)
        return out


# ------------------------------------------------------------------------------ search
def saved_queries(review: str) -> list[str]:
    """The review protocol's live PubMed queries (``searches`` entries, source pubmed)."""
    from schemas.protocol import load_protocol

    proto = load_protocol(review)
    queries = [
        s.query for s in proto.searches if s.source.lower() == SOURCE and s.live and s.query
    ]
    if not queries:
        raise InputError(
            f"review {review!r}: its protocol has no live PubMed search (searches: source: "
            "pubmed); give --query TEXT"
        )
    return queries


def run_search(
    store: Store,
    review: str | None = None,
    *,
    query: str | None = None,
    full: bool = False,
    batch: int = 500,
    max_records: int | None = None,
    client: EUtilsClient | None = None,
    config: EUtilsConfig | None = None,
    progress: Progress | None = None,
    overlap_days: int = DEFAULT_OVERLAP_DAYS,
    today: dt.date | None = None,
    max_window_hits: int = MAX_ESEARCH_IDS,
) -> list[SearchSummary]:
    """Run the review's saved PubMed queries (or ``query``) and store the records.

    Returns one summary per query. Raises NetworkError when NCBI fails after its retries
    (the run is logged as failed; records of committed batches stay and are not fetched
    again), InputError for a bad option or a review without a PubMed query.
    """
    if batch < 1 or batch > 10000:
        raise InputError(f"--batch must be between 1 and 10000, not {batch}")
    if max_records is not None and max_records < 0:
        raise InputError("--max-records must be >= 0")
    if query is not None and not query.strip():
        raise InputError("--query is empty")
    if query is None and review is None:
        raise InputError("give --review NAME (its saved PubMed query) or --query TEXT")
    queries = [query.strip()] if query is not None else saved_queries(review or "")
    client = client or EUtilsClient(config or EUtilsConfig.from_env())
    out = []
    for q in queries:
        out.append(
            _Search(
                store, client, review, q, full=full, batch=batch, max_records=max_records,
                progress=progress, overlap_days=overlap_days,
                today=today or dt.datetime.now(dt.UTC).date(), cap=max_window_hits,
            ).run()
        )
    return out


def _d(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _ncbi(d: dt.date) -> str:
    return f"{d:%Y/%m/%d}"


class _StopRequested(Exception):
    """--max-records reached: end the run as interrupted so the next one resumes."""


@dataclass
class _Search:
    store: Store
    client: EUtilsClient
    review: str | None
    query: str
    full: bool
    batch: int
    max_records: int | None
    progress: Progress | None
    overlap_days: int
    today: dt.date
    cap: int
    state: dict[str, Any] = field(default_factory=dict)
    chain: list[int] = field(default_factory=list)
    fetched: int = 0
    linked: int = 0
    hits: int = 0
    windows: int = 0
    translation: str | None = None
    warnings: list[str] = field(default_factory=list)
    run_id: int = 0
    mode: str = "full"
    resume_full: bool = False
    sink: Sink = field(init=False)
    _unsaved: int = 0

    def run(self) -> SearchSummary:
        """Plan, search every window, store; the run is logged whatever happens."""
        t0 = time.monotonic()
        before = dict(self.client.requests)
        mindate = self._open_run()
        outcome, error = self._execute(mindate)
        run = self.store.finish_search_run(
            self.run_id, outcome=outcome, error=error, hits=self.hits,
            skipped_records=self.sink.problems,
        )
        used = {k: v - before.get(k, 0) for k, v in self.client.requests.items()}
        return SearchSummary(
            run_id=self.run_id, review=self.review, query=self.query,
            query_translation=self.translation, mode=self.mode, mindate=mindate,
            maxdate=self.today if mindate else None, hits=self.hits,
            new=int(run["new_records"] or 0), duplicates=int(run["duplicate_records"] or 0),
            updated=self.sink.updated, fetched=self.fetched, problems=self.sink.problems,
            requests={k: v for k, v in used.items() if v}, seconds=time.monotonic() - t0,
            outcome=outcome, windows=self.windows, resumed_from=tuple(self.chain),
            warnings=tuple(self.warnings),
        )

    def _open_run(self) -> dt.date | None:
        """Decide the mode and window, log the run as ``running``; return the window start."""
        self.mode, mindate = self._plan()
        self.state.update(
            mode=self.mode,
            mindate=None if mindate is None else mindate.isoformat(),
            maxdate=self.today.isoformat(),
            resumed_from=self.chain,
            windows_done=self.state.get("windows_done", []),
        )
        self.run_id = self.store.record_search_run(
            source=SOURCE, kind="search", tool_version=TOOL, review=self.review,
            query=self.query, date_field="crdt" if mindate else None, mindate=mindate,
            maxdate=self.today if mindate else None, state=self.state,
        )
        self.sink = Sink(self.store, self.run_id, SOURCE, file="efetch")
        return mindate

    def _execute(self, mindate: dt.date | None) -> tuple[str, str | None]:
        """Search the window; a failure closes the run as failed (or interrupted) and raises."""
        try:
            self._search_window(mindate, self.today if mindate else None, top=True)
        except _StopRequested as exc:
            return "interrupted", str(exc)
        except KeyboardInterrupt:
            self.store.finish_search_run(self.run_id, outcome="interrupted", error="interrupted")
            raise
        except RegistryError as exc:
            self.store.finish_search_run(self.run_id, outcome="failed", error=str(exc))
            raise
        except Exception as exc:
            self.store.finish_search_run(
                self.run_id, outcome="failed", error=f"{type(exc).__name__}: {exc}"
            )
            raise
        return "ok", None

    # -- planning ---------------------------------------------------------------------
    def _plan(self) -> tuple[str, dt.date | None]:
        """Resume an unfinished run, else incremental from the last success, else full."""
        unfinished = self.store.unfinished_runs(self.review, SOURCE, self.query)
        for run in unfinished:
            if run["outcome"] == "running":
                self.store.mark_interrupted(
                    run["run_id"], "the process ended before the run finished"
                )
        resumable = [r for r in unfinished if isinstance(r.get("state"), dict)]
        if resumable:
            last_state = resumable[-1]["state"]
            prev_mode = last_state.get("mode")
            if not (self.full and prev_mode == "incremental"):
                self.chain = [r["run_id"] for r in unfinished]
                self.state["windows_done"] = [
                    w for r in resumable for w in r["state"].get("windows_done", [])
                ]
                self.resume_full = prev_mode == "full"
                return prev_mode or "full", _d(last_state.get("mindate"))
        self.resume_full = False
        if self.full:
            return "full", None
        last = self.store.last_successful_run(self.review, SOURCE, self.query)
        if last is None:
            return "full", None
        state = last.get("state") if isinstance(last.get("state"), dict) else {}
        since = _d(last.get("maxdate")) or _d(state.get("maxdate")) or _d(last["started_at"])
        assert since is not None
        return "incremental", since - dt.timedelta(days=self.overlap_days)

    # -- windows ----------------------------------------------------------------------
    def _done(self, lo: dt.date | None, hi: dt.date | None) -> bool:
        for w in self.state.get("windows_done", []):
            wlo, whi = _d(w[0]), _d(w[1])
            if (wlo is None and whi is None) or (
                lo is not None and hi is not None and wlo is not None and whi is not None
                and wlo <= lo and hi <= whi
            ):
                return True
        return False

    def _search_window(self, lo: dt.date | None, hi: dt.date | None, *, top: bool) -> None:
        if not top and self._done(lo, hi):
            return
        res = self._esearch(lo, hi)
        if top:
            self.hits = res.count
            self.translation = res.query_translation
            self.warnings.extend(res.errors + res.warnings)
            self.store.update_search_run(
                self.run_id, query_translation=res.query_translation, hits=res.count
            )
            if self._done(lo, hi):
                return
        if res.count > self.cap:
            a, b = lo or EARLIEST, hi or self.today
            if a >= b:
                raise InputError(
                    f"query has {res.count:,} hits created on {a:%Y-%m-%d} alone; ESearch "
                    f"cannot list more than {self.cap:,} ids per window: narrow the query"
                )
            mid = a + (b - a) // 2
            self._search_window(a, mid, top=False)
            self._search_window(mid + dt.timedelta(days=1), b, top=False)
        else:
            self.windows += 1
            self._fetch_ids(res.ids)
        self._mark_done(lo, hi)

    def _esearch(self, lo: dt.date | None, hi: dt.date | None) -> Any:
        mind = _ncbi(lo) if lo else None
        maxd = _ncbi(hi) if hi else None
        res = self.client.esearch(self.query, mindate=mind, maxdate=maxd, retmax=self.cap)
        if res.count <= self.cap and len(set(res.ids)) < res.count:
            # NCBI reported hits but listed fewer ids: a partial answer, never a result.
            res = self.client.esearch(self.query, mindate=mind, maxdate=maxd, retmax=self.cap)
            if len(set(res.ids)) < res.count:
                raise NetworkError(
                    f"ESearch reported {res.count} hits for {mind or 'all'}..{maxd or 'now'} "
                    f"but listed {len(set(res.ids))} ids"
                )
        return res

    def _mark_done(self, lo: dt.date | None, hi: dt.date | None) -> None:
        done = self.state.setdefault("windows_done", [])
        done.append(
            [None if lo is None else lo.isoformat(), None if hi is None else hi.isoformat()]
        )
        # The state also rides along with every committed EFetch batch; committing it for
        # each empty window too would cost a transaction per ESearch for little gain.
        self._unsaved += 1
        if self._unsaved >= 20 or lo is None:
            self._save_state()

    def _save_state(self) -> None:
        self.store.update_search_run(self.run_id, state=self.state)
        self._unsaved = 0

    # -- fetching ---------------------------------------------------------------------
    def _fetch_ids(self, ids: Sequence[str]) -> None:
        todo = self._link_known(list(dict.fromkeys(ids)))
        total = len(todo)
        if self.progress:
            self.progress(0, total, f"fetching {total:,} records")
        done = 0
        for start in range(0, len(todo), self.batch):
            chunk = todo[start : start + self.batch]
            if self.max_records is not None:
                room = self.max_records - self.fetched
                if room <= 0:
                    raise _StopRequested(f"stopped at --max-records {self.max_records}")
                chunk = chunk[:room]
            self._fetch_batch(chunk)
            done += len(chunk)
            if self.progress:
                self.progress(done, total, f"{self.fetched:,} fetched")
        if self.max_records is not None and self.fetched >= self.max_records and done < total:
            raise _StopRequested(f"stopped at --max-records {self.max_records}")

    def _link_known(self, ids: list[str]) -> list[str]:
        """Link the PMIDs the registry already holds to this run; return the others."""
        if self.mode == "full" and not self.resume_full:
            known: set[str] = set()
        elif self.mode == "full":
            known = self.store.run_source_ids(self.chain, SOURCE) & set(ids)
        else:
            known = self.store.known_source_ids(SOURCE, ids)
        if known:
            self.linked += self.store.link_records(self.run_id, SOURCE, known)
        return [i for i in ids if i not in known]

    def _fetch_batch(self, chunk: list[str]) -> None:
        """EFetch one batch and store it with the run's resumable state (one transaction)."""
        res = self.client.efetch(chunk)
        self.fetched += len(res.records)
        self.state["fetched"] = self.state.get("fetched", 0) + len(res.records)
        missing = [
            ParseProblem(f"PMID {p}", "ESearch listed it but EFetch returned no record")
            for p in res.missing
        ]
        self.sink.write([*res.records, *res.deletions, *res.problems, *missing], self.state)
        self._unsaved = 0
