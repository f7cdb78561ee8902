"""Store verbs for the records area: bibliographic records, search/import runs, problems.

A *run* is one live search or one file import (``search_runs``). Records are keyed by
``(source, source_id)``; a record seen again is updated in place (PubMed adds retraction
and erratum links to old records) and linked to the new run with ``is_new = false``.
Every write verb is one transaction (see registry/store/core.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring
from operator import attrgetter
from typing import Any

from ingest.records import RETRACTED_PUBLICATION, AbstractSection, ParseProblem, Record
from registry.errors import StoreError
from registry.store.core import StoreCore

# CommentsCorrections types that mean "this record's content was corrected".
CORRECTION_TYPES = frozenset({"ErratumIn", "CorrectedandRepublishedIn", "RepublishedIn"})
RETRACTION_TYPES = frozenset({"RetractionIn"})

RUN_OUTCOMES = ("running", "ok", "failed", "interrupted")

# Columns of ``records`` filled from a Record (same names as the dataclass fields).
_SCALAR = (
    "source", "source_id", "pmid", "doi", "pmcid", "title", "vernacular_title", "abstract",
    "journal", "journal_abbrev", "issn", "volume", "issue", "pages", "pub_date", "record_type",
)
_LISTS = (
    "authors", "publication_types", "mesh_terms", "keywords", "languages", "registry_ids",
)
_JSONS = ("abstract_sections", "comments")
# Columns an update may change (everything that comes from the source record).
_UPDATABLE = (
    tuple(c for c in _SCALAR if c not in ("source", "source_id"))
    + ("year", "entrez_date") + _LISTS + _JSONS + ("retracted", "corrected")
)
_RUN_FIELDS = frozenset({
    "query_translation", "hits", "state", "mindate", "maxdate", "date_field", "skipped_records",
    "error",
})
_batch_counter = itertools.count(1)


@dataclass(frozen=True, slots=True)
class AddResult:
    """What one ``add_records`` call did."""

    new: int  # records the registry had never seen (by source + source id)
    updated: int  # known records whose metadata changed
    unchanged: int  # known records seen again with identical metadata
    record_ids: tuple[int, ...] = ()  # ids of every record in the batch, input order, deduped
    repeated: int = 0  # extra copies of a (source, source id) within this batch

    @property
    def seen(self) -> int:
        """Distinct records in the batch."""
        return self.new + self.updated + self.unchanged


_last_stamp = dt.datetime.min


def _now() -> dt.datetime:
    """UTC now, strictly increasing within the process (add_records relies on it)."""
    global _last_stamp
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if now <= _last_stamp:
        now = _last_stamp + dt.timedelta(microseconds=1)
    _last_stamp = now
    return now


def content_key(rec: Record) -> str:
    """Stable stand-in for a missing accession number (RIS exports often have none).

    Built from PMID, else normalised title + year + first author + DOI, so that re-importing
    the same file finds the same key and adds no duplicate. Not the DOI alone: an article
    and its erratum can share one, and must stay two records for dedup to judge.
    """
    if rec.pmid:
        return f"pmid:{rec.pmid}"
    first = rec.authors[0] if rec.authors else ""
    title = " ".join(rec.title.casefold().split())
    basis = "|".join((title, str(rec.year or ""), first.casefold(), (rec.doi or "").lower()))
    return "key:" + hashlib.sha1(basis.encode("utf-8")).hexdigest()[:20]


_dumps = json.JSONEncoder(ensure_ascii=False).encode
_quote = encode_basestring  # JSON string literal, non-ASCII kept (C speed-up)
# List columns travel to DuckDB as one string joined by the unit separator (split again
# by string_split): far cheaper than a JSON list per cell. Parsers collapse whitespace
# with str.split(), which treats U+001F as whitespace, so it never occurs in an item;
# _joined still replaces it should a record from elsewhere carry one.
_SEP = "\x1f"


def _joined(values: list[str]) -> str | None:
    if not values:
        return None
    out = _SEP.join(values)
    if out.count(_SEP) != len(values) - 1:
        out = _SEP.join(v.replace(_SEP, " ") for v in values)
    return out


def _json_str(value: str | None) -> str:
    return "null" if value is None else _quote(value)


# The sections of an abstract that is one unlabelled paragraph (most RIS abstracts).
_ONE_PLAIN_SECTION = '[{"label": null, "nlm_category": null}]'


def _sections(rec: Record) -> str:
    """The abstract's sections as JSON, written directly (the same text json.dumps of
    the dicts gives, at half its cost).

    A section's ``text`` is left out when the abstract already holds it: the parsers
    join the sections into ``abstract`` one per line ("LABEL: text", or the text), and
    writing every abstract twice doubled the bytes an import stores and compresses (a
    fifth of a MEDLINE import's CPU time). :func:`expand_sections` puts the text back.
    Sections that do not match the abstract line for line keep their text.
    """
    secs = rec.abstract_sections
    if not secs:
        return "[]"
    ab = rec.abstract
    if len(secs) == 1 and secs[0].label is None and secs[0].nlm_category is None \
            and secs[0].text == ab:
        return _ONE_PLAIN_SECTION
    lines = ab.split("\n") if ab else []
    with_text = len(lines) != len(secs) or any(
        line != (f"{s.label}: {s.text}" if s.label else s.text)
        for line, s in zip(lines, secs, strict=True)
    )
    return "[" + ", ".join(_section(s, with_text) for s in secs) + "]"


def _section(s: AbstractSection, with_text: bool) -> str:
    text = f', "text": {_json_str(s.text)}' if with_text else ""
    return f'{{"label": {_json_str(s.label)}{text}, "nlm_category": {_json_str(s.nlm_category)}}}'


def expand_sections(abstract: str | None, stored: str | None) -> list[dict[str, Any]]:
    """A record's abstract sections as stored (JSON), each with its ``text``: a section
    stored without it (see :func:`_sections`) takes its line of ``abstract``."""
    sections = json.loads(stored) if stored else []
    if not sections or all("text" in s for s in sections):
        return sections
    lines = abstract.split("\n") if abstract else []
    if len(lines) != len(sections):
        raise StoreError(
            f"abstract has {len(lines)} line(s) for {len(sections)} stored section(s)")
    out = []
    for line, s in zip(lines, sections, strict=True):
        if "text" not in s:
            label = s.get("label")
            s = {"label": label, "text": line[len(label) + 2:] if label else line,
                 "nlm_category": s.get("nlm_category")}
        out.append(s)
    return out


def _comments(rec: Record) -> str:
    if not rec.comments:
        return "[]"
    return _dumps([{"ref_type": c.ref_type, "ref_source": c.ref_source, "pmid": c.pmid}
                   for c in rec.comments])


def _flags(rec: Record) -> tuple[bool, bool]:
    """(retracted, corrected) from the record's notices and publication types."""
    if not rec.comments:  # most records: is_retracted would scan the notices for nothing
        return RETRACTED_PUBLICATION in rec.publication_types, False
    types = {c.ref_type for c in rec.comments}
    return rec.is_retracted or bool(types & RETRACTION_TYPES), bool(types & CORRECTION_TYPES)


def _list_column(lists: Iterable[list[str]]) -> list[str | None]:
    """One list column, each record's items joined by the separator; a record whose items
    hold the separator themselves (checked once for the whole column) is mended."""
    col = [_SEP.join(v) if v else None for v in lists]
    present = [v for v in col if v is not None]
    if "".join(present).count(_SEP) != sum(map(len, lists)) - len(present):
        col = [_joined(v) for v in lists]
    return col


def _columns(recs: Sequence[Record]) -> dict[str, list[Any]]:
    """A batch of records column by column, as the batch view holds them (one list
    comprehension per column, no dict per record; list columns are checked for the
    separator once per column, not once per record)."""
    cols: dict[str, list[Any]] = {c: list(map(attrgetter(c), recs)) for c in _SCALAR}
    cols["source_id"] = [r.source_id or content_key(r) for r in recs]
    cols["title"] = [t or "" for t in cols["title"]]
    cols["year"] = [r.year for r in recs]
    cols["entrez_date"] = [r.entrez_date or None for r in recs]
    for c in _LISTS:
        cols[c] = _list_column(list(map(attrgetter(c), recs)))
    cols["abstract_sections"] = [_sections(r) for r in recs]
    cols["comments"] = [_comments(r) for r in recs]
    flags = [_flags(r) for r in recs]
    cols["retracted"] = [f[0] for f in flags]
    cols["corrected"] = [f[1] for f in flags]
    return cols


def _select_expr(col: str) -> str:
    """SQL turning the batch view's column into the table's type (explicitly: a batch
    column that is None throughout has DuckDB's NULL type, which a staged Parquet file
    would keep and could not cast back)."""
    if col in _LISTS:
        return f"coalesce(string_split(b.{col}, chr(31)), []::VARCHAR[])"
    if col in _JSONS:
        return f"b.{col}::JSON"
    if col == "entrez_date":
        return "try_cast(b.entrez_date AS DATE)"
    if col == "year":
        return "try_cast(b.year AS INTEGER)"
    if col in ("retracted", "corrected"):
        return f"b.{col}::BOOLEAN"
    return f"b.{col}::VARCHAR"


_COLS = (*_SCALAR, "year", "entrez_date", *_LISTS, *_JSONS, "retracted", "corrected")
_COLS_SQL = ", ".join(_COLS)
# The batch view's columns in the table's types, under the table's names.
_TYPED = ", ".join(f"{_select_expr(c)} AS {c}" for c in _COLS)


def _scan(columns: dict[str, list[Any]]) -> dict[str, Any]:
    """Columns as NumPy object arrays, which DuckDB scans as a table (a registered view).

    NumPy, not pandas: DuckDB reads a dict of arrays as well as a DataFrame, and importing
    pandas cost 0.3 s CPU per ``registry import`` (three quarters of what rispy.load
    needs to parse a 30 MB RIS file).
    """
    import numpy as np  # local: only bulk writes need it; the store opens without it

    out: dict[str, Any] = {}
    for name, values in columns.items():
        arr = np.empty(len(values), dtype=object)
        arr[:] = values  # element by element: a value is never unpacked into a 2-D array
        out[name] = arr
    return out


def _frame(recs: Sequence[Record]) -> dict[str, Any]:
    """A batch of records for DuckDB to scan (plus ``ord``: input order)."""
    cols = _columns(recs)
    cols["ord"] = list(range(len(recs)))
    return _scan(cols)


def _review_scope(review: str | None) -> tuple[str, list[Any]]:
    """SQL condition limiting records to those a review's runs returned (none: all)."""
    if review is None:
        return "", []
    return (
        "record_id IN (SELECT rr.record_id FROM run_records rr "
        "JOIN search_runs s USING (run_id) WHERE s.review = ?)",
        [review],
    )


class RecordsMixin(StoreCore):
    """Verbs for records, search runs and parse problems."""

    # -- records -------------------------------------------------------------------
    def add_records(
        self,
        records: Iterable[Record],
        *,
        run_id: int | None,
        state: dict[str, Any] | None = None,
    ) -> AddResult:
        """Insert new records, update known ones, link all of them to ``run_id``.

        One transaction: the records, their run links and (if given) the run's resumable
        ``state`` are committed together, so a kill between batches loses nothing.
        Within the batch a repeated (source, source_id) counts once (the last one wins).
        """
        by_key: dict[tuple[str, str], Record] = {}
        given = 0
        for rec in records:
            by_key[(rec.source, rec.source_id or content_key(rec))] = rec
            given += 1
        rows = list(by_key.values())
        if not rows and state is None:
            return AddResult(0, 0, 0)
        view = f"_records_batch_{next(_batch_counter)}"
        with self.transaction():
            if state is not None and run_id is not None:
                self._exec(
                    "UPDATE search_runs SET state = ?::JSON WHERE run_id = ?",
                    [json.dumps(state), run_id],
                )
            if not rows:
                return AddResult(0, 0, 0)
            self._register_df(view, _frame(rows))
            try:
                typed = f"(SELECT b.ord, {_TYPED} FROM {view} b)"
                before, updated = self._merge(typed, run_id, _now())
                ids = self._rows(
                    f"SELECT r.record_id FROM {view} b JOIN records r "
                    "ON r.source = b.source AND r.source_id = b.source_id ORDER BY b.ord"
                )
            finally:
                self._unregister(view)
        return AddResult(
            new=len(rows) - before,
            updated=updated,
            unchanged=before - updated,
            record_ids=tuple(r[0] for r in ids),
            repeated=given - len(rows),
        )

    def _merge(self, batch: str, run_id: int | None, now: dt.datetime) -> tuple[int, int]:
        """Update known records from ``batch`` (SQL relation: typed columns, one row per
        key), insert the others, link them all to ``run_id``; (known, updated).

        Rows inserted here carry ``now``, this call's unique timestamp: that is what tells
        a new record from one the registry already had when the links are written.
        """
        match = "r.source = b.source AND r.source_id = b.source_id"
        before = int(self._scalar(f"SELECT count(*) FROM records r JOIN {batch} b ON {match}"))
        updated = 0
        if before:
            changed = " OR ".join(f"r.{c} IS DISTINCT FROM b.{c}" for c in _UPDATABLE)
            updated = int(self._scalar(
                f"SELECT count(*) FROM records r JOIN {batch} b ON {match} "
                f"WHERE r.deleted OR {changed}"
            ))
            if updated:
                sets = ", ".join(f"{c} = b.{c}" for c in _UPDATABLE)
                self._exec(
                    f"UPDATE records AS r SET {sets}, deleted = FALSE, updated_at = ? "
                    f"FROM {batch} AS b WHERE {match} AND (r.deleted OR {changed})",
                    [now],
                )
        self._exec(
            f"INSERT INTO records ({_COLS_SQL}, first_run_id, added_at, updated_at) "
            f"SELECT {_COLS_SQL}, ?, ?, ? FROM {batch} b WHERE NOT EXISTS ("
            f"SELECT 1 FROM records r WHERE {match})",
            [run_id, now, now],
        )
        if run_id is not None:
            self._exec(
                "INSERT INTO run_records SELECT ?, r.record_id, "
                "(r.added_at = ? AND r.first_run_id IS NOT DISTINCT FROM ?) "
                f"FROM {batch} b JOIN records r ON {match} ON CONFLICT DO NOTHING",
                [run_id, now, run_id],
            )
        return before, updated

    def known_source_ids(self, source: str, source_ids: Iterable[str]) -> set[str]:
        """The subset of ``source_ids`` the registry already holds for ``source``."""
        wanted = list(dict.fromkeys(str(i) for i in source_ids))
        if not wanted:
            return set()
        view = f"_ids_{next(_batch_counter)}"
        self._register_df(view, _scan({"source_id": wanted}))
        try:
            rows = self._rows(
                f"SELECT r.source_id FROM records r JOIN {view} b ON r.source_id = b.source_id "
                "WHERE r.source = ?",
                [source],
            )
        finally:
            self._unregister(view)
        return {r[0] for r in rows}

    def run_source_ids(self, run_ids: Sequence[int], source: str) -> set[str]:
        """Source ids of the ``source`` records linked to any of ``run_ids``."""
        if not run_ids:
            return set()
        marks = ", ".join("?" for _ in run_ids)
        rows = self._rows(
            "SELECT DISTINCT r.source_id FROM run_records rr JOIN records r USING (record_id) "
            f"WHERE rr.run_id IN ({marks}) AND r.source = ?",
            [*run_ids, source],
        )
        return {r[0] for r in rows}

    def link_records(self, run_id: int, source: str, source_ids: Iterable[str]) -> int:
        """Link records the registry already holds to ``run_id`` (``is_new = false``).

        A search that finds a PMID stored by an earlier run records that it found it
        again, so each run's hits are traceable without fetching the record twice.
        Returns the number of new links.
        """
        wanted = list(dict.fromkeys(str(i) for i in source_ids))
        if not wanted:
            return 0
        view = f"_ids_{next(_batch_counter)}"
        with self.transaction():
            self._register_df(view, _scan({"source_id": wanted}))
            try:
                before = int(
                    self._scalar("SELECT count(*) FROM run_records WHERE run_id = ?", [run_id])
                )
                self._exec(
                    "INSERT INTO run_records SELECT ?, r.record_id, FALSE FROM records r "
                    f"JOIN {view} b ON r.source_id = b.source_id WHERE r.source = ? "
                    "ON CONFLICT DO NOTHING",
                    [run_id, source],
                )
                # fetchall, not fetchone: DuckDB 2 refuses to unregister a view while a
                # result is still open on the connection.
                after = int(
                    self._rows("SELECT count(*) FROM run_records WHERE run_id = ?", [run_id])[0][0]
                )
            finally:
                self._unregister(view)
        return after - before

    def mark_deleted(self, pmids: Iterable[str], *, source: str = "pubmed") -> int:
        """Flag records NLM withdrew (``DeleteCitation``); returns how many were flagged."""
        ids = list(dict.fromkeys(str(p) for p in pmids))
        if not ids:
            return 0
        marks = ", ".join("?" for _ in ids)
        with self.transaction():
            n = int(
                self._scalar(
                    f"SELECT count(*) FROM records WHERE source = ? AND source_id IN ({marks}) "
                    "AND NOT deleted",
                    [source, *ids],
                )
            )
            self._exec(
                f"UPDATE records SET deleted = TRUE, updated_at = ? WHERE source = ? "
                f"AND source_id IN ({marks}) AND NOT deleted",
                [_now(), source, *ids],
            )
        return n

    def get_records(self, source: str, source_ids: Iterable[str]) -> list[dict[str, Any]]:
        """Stored rows for the given accession numbers (tests and status use it), abstract
        sections with their text (see :func:`expand_sections`)."""
        ids = list(dict.fromkeys(str(i) for i in source_ids))
        if not ids:
            return []
        marks = ", ".join("?" for _ in ids)
        rows = self._dicts(
            f"SELECT * FROM records WHERE source = ? AND source_id IN ({marks}) "
            "ORDER BY record_id",
            [source, *ids],
        )
        for row in rows:  # sections stored without their text get it back
            if row["abstract_sections"] is not None:
                row["abstract_sections"] = _dumps(
                    expand_sections(row["abstract"], row["abstract_sections"]))
        return rows

    def record_counts(self, review: str | None = None) -> dict[str, dict[str, int]]:
        """Per source: records, deleted, retracted, corrected (only the review's runs if
        ``review`` is given)."""
        scope, params = _review_scope(review)
        where = f"WHERE {scope}" if scope else ""
        rows = self._rows(
            "SELECT source, count(*), count(*) FILTER (deleted), count(*) FILTER (retracted), "
            f"count(*) FILTER (corrected) FROM records {where} GROUP BY source ORDER BY source",
            params,
        )
        return {
            s: {"records": int(n), "deleted": int(d), "retracted": int(r), "corrected": int(c)}
            for s, n, d, r, c in rows
        }

    def flagged_records(self, review: str | None = None) -> list[dict[str, Any]]:
        """Records that are retracted or carry a correction notice (erratum)."""
        scope, params = _review_scope(review)
        where = f"AND {scope}" if scope else ""
        return self._dicts(
            "SELECT record_id, source, source_id, pmid, doi, title, year, retracted, corrected "
            f"FROM records WHERE (retracted OR corrected) {where} ORDER BY record_id",
            params,
        )

    # -- search / import runs --------------------------------------------------------
    def record_search_run(
        self,
        *,
        source: str,
        kind: str = "search",
        tool_version: str,
        review: str | None = None,
        query: str | None = None,
        date_field: str | None = None,
        mindate: dt.date | str | None = None,
        maxdate: dt.date | str | None = None,
        file_name: str | None = None,
        file_sha256: str | None = None,
        file_format: str | None = None,
        state: dict[str, Any] | None = None,
        started_at: dt.datetime | None = None,
    ) -> int:
        """Open a run in the log (outcome ``running``) and return its id (``started_at``:
        when the work began, for a run logged once its records are staged)."""
        if kind not in ("search", "import"):
            raise StoreError(f"unknown run kind {kind!r} (search | import)")
        with self.transaction():
            run_id = int(self._scalar("SELECT nextval('run_id_seq')"))
            self._exec(
                "INSERT INTO search_runs (run_id, review, source, kind, query, date_field, "
                "mindate, maxdate, file_name, file_sha256, file_format, started_at, "
                "tool_version, outcome, state) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?::JSON)",
                [
                    run_id, review, source, kind, query, date_field, mindate, maxdate,
                    file_name, file_sha256, file_format, started_at or _now(), tool_version,
                    None if state is None else json.dumps(state),
                ],
            )
        return run_id

    def update_search_run(self, run_id: int, **fields: Any) -> None:
        """Set progress fields of a running run (query_translation, hits, state, dates)."""
        bad = set(fields) - _RUN_FIELDS
        if bad:
            raise StoreError(f"search_runs fields not updatable: {sorted(bad)}")
        if not fields:
            return
        sets, params = [], []
        for k, v in fields.items():
            if k == "state":
                sets.append("state = ?::JSON")
                params.append(None if v is None else json.dumps(v))
            else:
                sets.append(f"{k} = ?")
                params.append(v)
        with self.transaction():
            self._exec(
                f"UPDATE search_runs SET {', '.join(sets)} WHERE run_id = ?", [*params, run_id]
            )

    def finish_search_run(
        self,
        run_id: int,
        *,
        outcome: str,
        error: str | None = None,
        hits: int | None = None,
        skipped_records: int | None = None,
    ) -> dict[str, Any]:
        """Close a run: outcome, end time, and new/duplicate counts from its links."""
        if outcome not in RUN_OUTCOMES or outcome == "running":
            raise StoreError(f"a run finishes as ok, failed or interrupted, not {outcome!r}")
        with self.transaction():
            new, dup = self._rows(
                "SELECT count(*) FILTER (is_new), count(*) FILTER (NOT is_new) "
                "FROM run_records WHERE run_id = ?",
                [run_id],
            )[0]
            self._exec(
                "UPDATE search_runs SET outcome = ?, error = ?, finished_at = ?, "
                "new_records = ?, duplicate_records = ?, hits = coalesce(?, hits), "
                "skipped_records = coalesce(?, skipped_records) WHERE run_id = ?",
                [outcome, error, _now(), int(new), int(dup), hits, skipped_records, run_id],
            )
        run = self.get_search_run(run_id)
        if run is None:
            raise StoreError(f"search run {run_id} does not exist")
        return run

    def get_search_run(self, run_id: int) -> dict[str, Any] | None:
        """One run of the log as a dict (``state`` decoded), or None."""
        rows = self._dicts("SELECT * FROM search_runs WHERE run_id = ?", [run_id])
        return _decode_run(rows[0]) if rows else None

    def search_runs(
        self, review: str | None = None, *, kind: str | None = None
    ) -> list[dict[str, Any]]:
        """The run log, oldest first (only ``review``'s runs if given)."""
        cond, params = [], []
        if review is not None:
            cond.append("review = ?")
            params.append(review)
        if kind is not None:
            cond.append("kind = ?")
            params.append(kind)
        where = ("WHERE " + " AND ".join(cond)) if cond else ""
        rows = self._dicts(f"SELECT * FROM search_runs {where} ORDER BY run_id", params)
        return [_decode_run(r) for r in rows]

    def last_successful_run(
        self, review: str | None, source: str, query: str | None = None
    ) -> dict[str, Any] | None:
        """Latest ``ok`` live search for (review, source[, query]), or None.

        Matching the query text too means an edited protocol query starts over with a
        full search instead of an incremental one that would miss older records.
        """
        params: list[Any] = [review, source]
        extra = ""
        if query is not None:
            extra = " AND query = ?"
            params.append(query)
        rows = self._dicts(
            "SELECT * FROM search_runs WHERE kind = 'search' AND outcome = 'ok' "
            f"AND review IS NOT DISTINCT FROM ? AND source = ?{extra} "
            "ORDER BY run_id DESC LIMIT 1",
            params,
        )
        return _decode_run(rows[0]) if rows else None

    def unfinished_runs(
        self, review: str | None, source: str, query: str | None
    ) -> list[dict[str, Any]]:
        """Searches for (review, source, query) that did not finish since the last
        successful one, oldest first: ``running`` (left by a killed process),
        ``interrupted`` or ``failed`` (NCBI gave up half-way). The next search resumes them."""
        last = self.last_successful_run(review, source, query)
        floor = last["run_id"] if last else 0
        rows = self._dicts(
            "SELECT * FROM search_runs WHERE kind = 'search' "
            "AND outcome IN ('running', 'interrupted', 'failed') AND run_id > ? "
            "AND review IS NOT DISTINCT FROM ? AND source = ? "
            "AND query IS NOT DISTINCT FROM ? ORDER BY run_id",
            [floor, review, source, query],
        )
        return [_decode_run(r) for r in rows]

    def mark_interrupted(self, run_id: int, reason: str) -> None:
        """Close a run left ``running`` (the process died) as ``interrupted``."""
        with self.transaction():
            new, dup = self._rows(
                "SELECT count(*) FILTER (is_new), count(*) FILTER (NOT is_new) "
                "FROM run_records WHERE run_id = ?",
                [run_id],
            )[0]
            self._exec(
                "UPDATE search_runs SET outcome = 'interrupted', error = ?, "
                "finished_at = coalesce(finished_at, ?), new_records = ?, "
                "duplicate_records = ? WHERE run_id = ? AND outcome IN ('running', 'interrupted')",
                [reason, _now(), int(new), int(dup), run_id],
            )

    def import_runs_for_file(self, sha256: str, source: str) -> list[dict[str, Any]]:
        """Earlier successful imports of the same file content into ``source``."""
        rows = self._dicts(
            "SELECT * FROM search_runs WHERE kind = 'import' AND outcome = 'ok' "
            "AND file_sha256 = ? AND source = ? ORDER BY run_id",
            [sha256, source],
        )
        return [_decode_run(r) for r in rows]

    # -- parse problems ---------------------------------------------------------------
    def log_parse_problem(
        self, run_id: int | None, problem: ParseProblem, *, file: str | None = None
    ) -> None:
        """Keep one unusable record's location and reason."""
        self.log_parse_problems(run_id, [problem], file=file)

    def log_parse_problems(
        self, run_id: int | None, problems: Sequence[ParseProblem], *, file: str | None = None
    ) -> None:
        """Keep several parse problems in one transaction."""
        if not problems:
            return
        now = _now()
        with self.transaction():
            self._execmany(
                "INSERT INTO parse_problems VALUES (?, ?, ?, ?, ?)",
                [(run_id, p.file or file, p.where, p.message, now) for p in problems],
            )

    def parse_problems(self, run_id: int | None = None) -> list[dict[str, Any]]:
        """Logged parse problems (of one run if given), oldest first."""
        if run_id is None:
            return self._dicts("SELECT * FROM parse_problems ORDER BY logged_at")
        return self._dicts(
            "SELECT * FROM parse_problems WHERE run_id = ? ORDER BY logged_at", [run_id]
        )


def _decode_run(row: dict[str, Any]) -> dict[str, Any]:
    state = row.get("state")
    if isinstance(state, str):
        row["state"] = json.loads(state)
    return row
