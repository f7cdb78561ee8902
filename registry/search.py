"""Living PubMed searches and file imports: the intake half of the living cycle.

``run_search`` runs a review's saved PubMed queries (or an ad hoc one) through
E-utilities and stores what comes back; ``import_file`` brings in an export of another
database. Both log a run in ``search_runs`` (PRISMA-S: what was searched, when, what came
back) and link every record they saw to it.

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
import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.eutils import MAX_ESEARCH_IDS, EUtilsClient, EUtilsConfig
from ingest.records import Deletion, ParseProblem, Record
from registry import __version__
from registry.errors import InputError, NetworkError, RegistryError
from registry.store import Store

SOURCE = "pubmed"
# ESearch date windows need a lower bound; no PubMed record was created before this.
EARLIEST = dt.date(1700, 1, 1)
DEFAULT_OVERLAP_DAYS = 3
IMPORT_BATCH = 5000
_TOOL = f"registry {__version__}"

Progress = Callable[[int, int | None, str], None]  # (done, total or None, message)


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


@dataclass(frozen=True)
class ImportSummary:
    """What one ``registry import`` did."""

    run_id: int
    file: str
    sha256: str
    format: str
    source: str
    review: str | None
    records: int  # usable records in the file
    new: int
    duplicates: int  # records the registry already held for this source
    updated: int
    deleted: int  # DeleteCitation PMIDs flagged
    problems: tuple[str, ...]  # malformed records, by PMID or position
    seconds: float

    def line(self) -> str:
        """One-line summary."""
        probs = f", {len(self.problems)} skipped" if self.problems else ""
        return (
            f"{Path(self.file).name} ({self.format}, source {self.source}): "
            f"{self.records:,} records, {self.new:,} new, {self.duplicates:,} duplicates"
            f"{probs}, {self.seconds:.1f} s (run {self.run_id})"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        out = dict(self.__dict__)
        out["problems"] = list(self.problems)
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
    new: int = 0
    updated: int = 0
    linked: int = 0
    problems: int = 0
    hits: int = 0
    windows: int = 0
    translation: str | None = None
    warnings: list[str] = field(default_factory=list)
    run_id: int = 0
    mode: str = "full"
    resume_full: bool = False
    _unsaved: int = 0

    def run(self) -> SearchSummary:
        t0 = time.monotonic()
        before = dict(self.client.requests)
        mode, mindate = self._plan()
        self.state.update(
            mode=mode,
            mindate=None if mindate is None else mindate.isoformat(),
            maxdate=self.today.isoformat(),
            resumed_from=self.chain,
            windows_done=self.state.get("windows_done", []),
        )
        run_id = self.store.record_search_run(
            source=SOURCE, kind="search", tool_version=_TOOL, review=self.review,
            query=self.query, date_field="crdt" if mindate else None, mindate=mindate,
            maxdate=self.today if mindate else None, state=self.state,
        )
        self.run_id = run_id
        self.mode = mode
        outcome, error = "ok", None
        try:
            self._search_window(mindate, self.today if mindate else None, top=True)
        except _StopRequested as exc:
            outcome, error = "interrupted", str(exc)
        except KeyboardInterrupt:
            self.store.finish_search_run(run_id, outcome="interrupted", error="interrupted")
            raise
        except RegistryError as exc:
            self.store.finish_search_run(run_id, outcome="failed", error=str(exc))
            raise
        except Exception as exc:
            self.store.finish_search_run(
                run_id, outcome="failed", error=f"{type(exc).__name__}: {exc}"
            )
            raise
        run = self.store.finish_search_run(
            run_id, outcome=outcome, error=error, hits=self.hits, skipped_records=self.problems
        )
        used = {k: v - before.get(k, 0) for k, v in self.client.requests.items()}
        return SearchSummary(
            run_id=run_id, review=self.review, query=self.query,
            query_translation=self.translation, mode=mode, mindate=mindate,
            maxdate=self.today if mindate else None, hits=self.hits,
            new=int(run["new_records"] or 0), duplicates=int(run["duplicate_records"] or 0),
            updated=self.updated,
            fetched=self.fetched, problems=self.problems,
            requests={k: v for k, v in used.items() if v}, seconds=time.monotonic() - t0,
            outcome=outcome, windows=self.windows, resumed_from=tuple(self.chain),
            warnings=tuple(self.warnings),
        )

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
        ids = list(dict.fromkeys(ids))
        if self.mode == "full" and not self.resume_full:
            known: set[str] = set()
        elif self.mode == "full":
            known = self.store.run_source_ids(self.chain, SOURCE) & set(ids)
        else:
            known = self.store.known_source_ids(SOURCE, ids)
        if known:
            self.linked += self.store.link_records(self.run_id, SOURCE, known)
        todo = [i for i in ids if i not in known]
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
            res = self.client.efetch(chunk)
            self.fetched += len(res.records)
            self.state["fetched"] = self.state.get("fetched", 0) + len(res.records)
            added = self.store.add_records(res.records, run_id=self.run_id, state=self.state)
            self._unsaved = 0
            self.new += added.new
            self.updated += added.updated
            for d in res.deletions:
                self.store.mark_deleted(d.pmids)
            problems = list(res.problems) + [
                ParseProblem(f"PMID {p}", "ESearch listed it but EFetch returned no record")
                for p in res.missing
            ]
            if problems:
                self.problems += len(problems)
                self.store.log_parse_problems(self.run_id, problems, file="efetch")
            done += len(chunk)
            if self.progress:
                self.progress(done, total, f"{self.fetched:,} fetched")
        if self.max_records is not None and self.fetched >= self.max_records and done < total:
            raise _StopRequested(f"stopped at --max-records {self.max_records}")


# ------------------------------------------------------------------------------ import
_DEFAULT_SOURCE = {"pubmed-xml": "pubmed", "medline": "pubmed"}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _batches(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    buf: list[Any] = []
    for item in items:
        buf.append(item)
        if len(buf) >= size:
            yield buf
            buf = []
    if buf:
        yield buf


def import_file(
    store: Store,
    path: str | Path,
    fmt: str | None = None,
    source: str | None = None,
    review: str | None = None,
    *,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import a PubMed XML, MEDLINE/.nbib or RIS export (gzip accepted) as one run.

    All or nothing: the run log, the records and the problems are written in one
    transaction, so an unreadable file (empty, binary, unknown, XML cut short) leaves the
    registry exactly as it was. Single malformed records are reported by PMID (or
    position) and skipped. Re-importing a file adds no duplicate: records are keyed by
    (source, accession number).
    """
    from ingest.detect import detect_format, parse_file, resolve_format

    t0 = time.monotonic()
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file")
    if p.is_dir():
        raise InputError(f"{p}: is a directory, not a file")
    kind = detect_format(p) if fmt is None else resolve_format(fmt)
    src = (source or _DEFAULT_SOURCE.get(kind) or "").strip().lower()
    if not src:
        raise InputError(
            f"{p}: a {kind.upper()} file does not say which database it came from; "
            "give --source NAME (e.g. embase, cochrane, wos)"
        )
    digest = _sha256(p)
    records = new = dup = updated = deleted = repeats = 0
    any_deletion = False
    problems: list[ParseProblem] = []
    with store.transaction():
        run_id = store.record_search_run(
            source=src, kind="import", tool_version=_TOOL, review=review, file_name=p.name,
            file_sha256=digest, file_format=kind,
        )
        items = parse_file(p, fmt=kind, source_name=src)
        for chunk in _batches(items, IMPORT_BATCH):
            recs = [r for r in chunk if isinstance(r, Record)]
            for item in chunk:
                if isinstance(item, ParseProblem):
                    problems.append(item)
                elif isinstance(item, Deletion):
                    any_deletion = True  # an update file may hold only withdrawals
                    deleted += store.mark_deleted(item.pmids, source=src)
            if recs:
                res = store.add_records(recs, run_id=run_id)
                records += res.seen
                new += res.new
                dup += res.updated + res.unchanged + res.repeated
                repeats += res.repeated
                updated += res.updated
            if progress:
                progress(records, None, f"{records:,} records read")
        if records == 0 and deleted == 0 and not any_deletion:
            detail = f"; {len(problems)} unusable: {problems[0]}" if problems else ""
            raise InputError(f"{p}: no usable records in this {kind} file{detail}")
        store.log_parse_problems(run_id, problems, file=p.name)
        store.finish_search_run(
            run_id, outcome="ok", hits=records + repeats + len(problems),
            skipped_records=len(problems),
        )
    return ImportSummary(
        run_id=run_id, file=str(p), sha256=digest, format=kind, source=src, review=review,
        records=records, new=new, duplicates=dup, updated=updated, deleted=deleted,
        problems=tuple(str(x) for x in problems), seconds=time.monotonic() - t0,
    )


# ------------------------------------------------------------------------ CLI entries
def search_registry(
    db: str | Path | None,
    review: str | None = None,
    *,
    query: str | None = None,
    full: bool = False,
    batch: int = 500,
    max_records: int | None = None,
    progress: Progress | None = None,
) -> list[SearchSummary]:
    """``registry search``: open the registry at ``db`` and run :func:`run_search`."""
    from registry.store import open_store

    if query is None and review is None:
        # Checked before opening so a bare `registry search` creates no database file.
        raise InputError("give --review NAME (its saved PubMed query) or --query TEXT")
    store = open_store(db)
    try:
        return run_search(
            store, review, query=query, full=full, batch=batch, max_records=max_records,
            progress=progress,
        )
    finally:
        store.close()


def import_into_registry(
    db: str | Path | None,
    path: str | Path,
    fmt: str | None = None,
    source: str | None = None,
    review: str | None = None,
    *,
    progress: Progress | None = None,
) -> ImportSummary:
    """``registry import``: open the registry at ``db`` and run :func:`import_file`."""
    from registry.store import open_store

    p = Path(path)
    if not p.is_file():
        # Checked before opening the store so a typo does not create an empty database.
        raise InputError(f"{p}: no such file" if not p.exists() else f"{p}: not a file")
    store = open_store(db)
    try:
        return import_file(store, p, fmt, source, review, progress=progress)
    finally:
        store.close()
