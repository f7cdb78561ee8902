"""Store verbs for deduplication (see registry/store/core.py for the rules).

The matching itself lives in :mod:`registry.dedup` (pure functions on keys); these verbs
read what it needs as DataFrames and write its outcome in one transaction. Tables and
views come from migration 0010: ``dedup_keys``, ``dedup_links``, ``dedup_pairs``,
``dedup_decisions``, ``dedup_clusters``, ``dedup_runs``, ``v_record_cluster``,
``v_dedup_pending``.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from registry.errors import InputError
from registry.store.core import StoreCore

DECISIONS = ("duplicate", "not_duplicate")
# Joins the items of a key list (journal keys, blocking keys) into one text for the bulk
# insert; chr(31), the ASCII unit separator, never occurs in a normalised key.
KEY_SEPARATOR = chr(31)
# Working memory the database may use during a dedup run: blocking a million records
# needs more than this only for joins that then spill to disk (measured: bench_dedup.py).
DEDUP_MEMORY = "300MB"
# Candidate pairs handed to the scorer at a time (with their two titles): bounds memory
# when a million records give millions of pairs.
CANDIDATE_CHUNK = 200_000
_view_counter = itertools.count(1)
# The temporary table a run stages its keys in (see DedupMixin._stage).
_STAGE = "temp.dedup_keys_staged"

_KEY_COLUMNS = (
    "record_id", "source", "identity", "pmid", "doi", "pmcid", "title_norm", "first_author",
    "journal_keys", "year", "first_page", "notice", "blocks", "completeness",
)
# A record's fingerprint: a hash of the keys it was compared on (blocks follow from the
# title). Computed here, over the whole batch at once, when keys are staged.
_FINGERPRINT = (
    "left(md5(CAST(row(source, identity, pmid, doi, pmcid, title_norm, first_author, "
    "journal_keys, year, first_page, notice, completeness) AS VARCHAR)), 20)"
)

_LINK_COLUMNS = ("record_a", "record_b", "reason", "score")
_PAIR_COLUMNS = ("record_a", "record_b", "score", "title_similarity", "why")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass
class DedupWrite:
    """What one dedup run changes besides keys, written by :meth:`DedupMixin.save_dedup`.

    Frames are pandas DataFrames (or None for "nothing"): ``links`` (record_a, record_b,
    reason, score); ``pairs`` (record_a, record_b, score, title_similarity, why);
    ``clusters`` (record_id, cluster_id, is_primary) replaces the whole table when given.
    """

    links: Any = None
    pairs: Any = None
    clusters: Any = None
    run: dict[str, Any] | None = None  # dedup_runs row (without id) when anything changed


def _pending_scope(review: str | None) -> tuple[str, list[Any]]:
    """WHERE clause keeping pending pairs whose two records a review's runs returned."""
    if review is None:
        return "", []
    scope = ("SELECT rr.record_id FROM run_records rr JOIN search_runs s USING (run_id) "
             "WHERE s.review = ?")
    return (f"WHERE p.record_a IN ({scope}) AND p.record_b IN ({scope})", [review, review])


class DedupMixin(StoreCore):
    """Verbs for deduplication: keys, links, the uncertain queue, decisions, clusters."""

    @contextmanager
    def dedup_memory(self, limit: str = DEDUP_MEMORY) -> Iterator[None]:
        """Run a block with the database's working memory capped at ``limit`` (the joins
        of a large run spill to disk instead of growing), then restore the setting."""
        with self.settings(memory_limit=limit):
            yield

    # -- reading what the algorithm needs -------------------------------------------------
    def dedup_records_to_key(
        self, review: str | None = None, *, batch: int = 20_000
    ) -> Iterator[dict[str, list[Any]]]:
        """Records that need (new) match keys, in batches of at most ``batch`` rows by
        record id: never keyed, or updated since they were. Deleted records are left out;
        ``review`` limits the work to records that review's runs brought in.

        Each batch maps column names to value lists: the record fields the keys are
        built from (``authors``: the first named author's name only; abstract, MeSH
        terms and languages as ``has_*`` flags). Batches keep memory flat: the caller keys
        and stages one batch before the next is read.
        """
        scope, params = "", []
        if review is not None:
            scope = (
                "AND r.record_id IN (SELECT rr.record_id FROM run_records rr "
                "JOIN search_runs s USING (run_id) WHERE s.review = ?)"
            )
            params = [review]
        sql = (
            "SELECT r.record_id, r.source, r.source_id, r.pmid, r.doi, r.pmcid, r.title, "
            # Keys use only the first named author (one text, NULL for none): the whole
            # list as Python strings would cost more than the keys themselves.
            "list_filter(r.authors, lambda a: trim(a) <> '')[1] AS authors, "
            "r.journal, r.journal_abbrev, r.issn, r.volume, r.issue, r.pages, "
            "r.year, r.publication_types, "
            # Flags, not the texts: an abstract only counts towards completeness.
            # (ltrim, not trim: as exact, without copying and counting the whole text)
            "coalesce(ltrim(r.abstract) <> '', FALSE) AS has_abstract, "
            "coalesce(len(r.mesh_terms) > 0, FALSE) AS has_mesh_terms, "
            "coalesce(len(r.languages) > 0, FALSE) AS has_languages "
            "FROM records r LEFT JOIN dedup_keys k ON k.record_id = r.record_id "
            "WHERE NOT r.deleted AND (k.record_id IS NULL OR r.updated_at > k.keyed_at) "
            f"AND r.record_id BETWEEN ? AND ? {scope} ORDER BY r.record_id"
        )
        # The ids first, then one id range per batch: the ranges skip the rest of the
        # table (zone maps), so each record is read once however many batches there are.
        ids = [int(r[0]) for r in self._rows(
            "SELECT r.record_id FROM records r LEFT JOIN dedup_keys k "
            "ON k.record_id = r.record_id WHERE NOT r.deleted "
            f"AND (k.record_id IS NULL OR r.updated_at > k.keyed_at) {scope} ORDER BY 1",
            params,
        )]
        for start in range(0, len(ids), batch):
            chunk = ids[start:start + batch]
            cur = self._con.execute(sql, [chunk[0], chunk[-1], *params])
            names = [d[0] for d in cur.description]
            rows = cur.fetchall()
            if rows:
                # Column lists: the keying runs column by column.
                yield dict(zip(names, map(list, zip(*rows, strict=True)), strict=True))

    def dedup_dropped(self) -> list[int]:
        """Keyed records that were deleted (NLM DeleteCitation) or removed since."""
        return [
            int(r[0])
            for r in self._rows(
                "SELECT k.record_id FROM dedup_keys k LEFT JOIN records r "
                "ON r.record_id = k.record_id WHERE r.record_id IS NULL OR r.deleted "
                "ORDER BY 1"
            )
        ]

    def dedup_key_rows(self, record_ids: Sequence[int]) -> list[tuple[Any, ...]]:
        """Stored match keys of the records ``record_ids`` that are still in dedup (not
        deleted), by record id: rows of the ``dedup_keys`` columns up to ``completeness``,
        ``blocks`` left empty (scoring does not read them, and they are most of a key's
        size), as plain rows: no frame to convert."""
        cols = ", ".join("NULL" if c == "blocks" else "k." + c for c in _KEY_COLUMNS)
        out: list[list[tuple[Any, ...]]] = []
        self._with_ids(sorted(set(record_ids)), lambda v: out.append(self._rows(
            f"SELECT {cols} FROM dedup_keys k "
            "JOIN records r ON r.record_id = k.record_id AND NOT r.deleted "
            f"WHERE k.record_id IN (SELECT id FROM {v}) ORDER BY 1")))
        return out[0]

    def dedup_members(self, record_ids: Sequence[int]) -> list[tuple[int, str, int]]:
        """(record_id, source, completeness) of the indexed, not deleted records among
        ``record_ids``: what choosing a cluster's primary needs."""
        out: list[list[tuple[int, str, int]]] = []
        self._with_ids(sorted(set(record_ids)), lambda v: out.append(self._rows(
            "SELECT k.record_id, k.source, k.completeness FROM dedup_keys k "
            "JOIN records r ON r.record_id = k.record_id AND NOT r.deleted "
            f"WHERE k.record_id IN (SELECT id FROM {v}) ORDER BY 1"
        )))
        return out[0]

    def dedup_shared_identifiers(self, new_ids: Sequence[int]) -> list[tuple[Any, ...]]:
        """Pairs of indexed records sharing a PMID, DOI or PMCID, at least one of them in
        ``new_ids``: (attr, record_a, record_b, value, pmid_a, pmid_b, notice_a, notice_b,
        title_a, title_b) with record_a < record_b, ordered by attr (pmid, doi, pmcid),
        then the pair. A hash join in the database: no record is held in Python."""
        # Titles are joined to the (few) pairs found, not carried through the self-joins:
        # at a million records those outgrew the memory cap and spilled to disk.
        parts = [
            f"SELECT {rank} AS rank, '{attr}' AS attr, a.record_id AS ra, b.record_id AS rb, "
            f"a.{attr} AS value, a.pmid AS pa, b.pmid AS pb, a.notice AS na, b.notice AS nb "
            f"FROM k a JOIN k b ON a.{attr} = b.{attr} AND a.record_id < b.record_id "
            f"WHERE a.{attr} <> '' AND (a.new OR b.new)"
            for rank, attr in enumerate(("pmid", "doi", "pmcid"))
        ]
        out: list[list[tuple[Any, ...]]] = []
        self._with_ids(new_ids, lambda v: out.append(self._rows(
            f"WITH k AS (SELECT record_id, pmid, doi, pmcid, notice, "
            f"record_id IN (SELECT id FROM {v}) AS new FROM dedup_keys) "
            "SELECT attr, ra, rb, value, pa, pb, na, nb, ta.title_norm, tb.title_norm "
            f"FROM ({' UNION ALL '.join(parts)}) p "
            "JOIN dedup_keys ta ON ta.record_id = p.ra JOIN dedup_keys tb ON tb.record_id = p.rb "
            "ORDER BY rank, ra, rb"
        )))
        return out[0]

    def dedup_candidate_pairs(
        self, new_ids: Sequence[int], consume: Callable[[Any], None], *, max_block: int,
        window: int, chunk: int = CANDIDATE_CHUNK,
    ) -> tuple[int, int]:
        """Fuzzy candidates: pairs sharing a blocking key with years at most one apart
        (an undated record matches any year), at least one of them in ``new_ids``.

        A block with a (key, year) group larger than ``max_block`` is compared by sorted
        neighbourhood instead: its records sorted by title, each paired with the next
        ``window`` (never skipped). Runs as joins on hashed keys in the database, linear in
        the records times their keys. The pairs stay in the database; ``consume`` gets them
        ``chunk`` at a time, in pair order, as DataFrames (record_a < record_b, title_a,
        title_b), so memory stays bounded however many pairs there are. Returns (how many
        pairs, how many blocks were windowed).
        """
        out: list[tuple[int, int]] = []
        self._with_ids(new_ids, lambda v: out.append(
            self._candidates(v, max_block, window, consume, chunk)))
        return out[0]

    def _candidates(self, new: str, max_block: int, window: int,
                    consume: Callable[[Any], None], chunk: int) -> tuple[int, int]:
        blk = f"_dedup_blk_{next(_view_counter)}"
        prs = f"_dedup_prs_{next(_view_counter)}"
        # Only blocks holding a new record can give a pair; hashing the key text makes
        # the joins hash integers.
        self._exec(
            f"CREATE OR REPLACE TEMP TABLE {blk} AS "
            "WITH b AS (SELECT hash(unnest(blocks)) AS code, record_id, "
            "coalesce(year, -1) AS year FROM dedup_keys), "
            f"bn AS (SELECT b.*, n.id IS NOT NULL AS new FROM b LEFT JOIN {new} n "
            "ON n.id = b.record_id), "
            "bb AS (SELECT * FROM bn SEMI JOIN (SELECT DISTINCT code FROM bn WHERE new) "
            "USING (code)), "
            # Aggregates, not window functions: the largest (key, year) group of a key,
            # and how many records have the key.
            f"s AS (SELECT code, max(size) > {int(max_block)} AS big, sum(size) AS n FROM "
            "(SELECT code, year, count(*) AS size FROM bb GROUP BY ALL) GROUP BY code) "
            # A key only one record has gives no pair, and most keys are such: left out,
            # the pair joins below see a fraction of the rows.
            "SELECT code, record_id, year, new, big FROM bb JOIN s USING (code) WHERE n > 1"
        )
        try:
            windowed = int(self._scalar(f"SELECT count(DISTINCT code) FROM {blk} WHERE big"))
            self._exec(
                f"CREATE OR REPLACE TEMP TABLE {prs} AS "
                f"WITH l AS (SELECT * FROM {blk} WHERE new AND NOT big), "
                f"r AS (SELECT * FROM {blk} WHERE NOT big), "
                # Dated probes meet the same, the previous and the next year and undated
                # records; an undated probe meets every year.
                "p AS (SELECT code, record_id, year + d AS year FROM l, "
                "(VALUES (-1), (0), (1)) t(d) WHERE year >= 0 "
                "UNION ALL SELECT code, record_id, -1 FROM l WHERE year >= 0), "
                "w AS (SELECT b.*, row_number() OVER (PARTITION BY b.code "
                f"ORDER BY k.title_norm, b.record_id) AS rn FROM {blk} b "
                "JOIN dedup_keys k USING (record_id) WHERE b.big), "
                # Each record's next ``window`` positions as rows, then an equi-join: a
                # range condition in the join would compare every pair of the block.
                "wn AS (SELECT w.*, w.rn + t.off AS next FROM w, "
                f"range(1, {int(window) + 1}) t(off)), "
                "pairs AS ("
                "SELECT p.record_id AS x, r.record_id AS y FROM p JOIN r "
                "ON r.code = p.code AND r.year = p.year "
                "UNION ALL SELECT l.record_id, r.record_id FROM l JOIN r "
                "ON r.code = l.code WHERE l.year < 0 "
                "UNION ALL SELECT a.record_id, b.record_id FROM wn a "
                "JOIN w b ON b.code = a.code AND b.rn = a.next "
                "WHERE (a.new OR b.new) "
                "AND (abs(a.year - b.year) <= 1 OR a.year < 0 OR b.year < 0)), "
                "o AS (SELECT DISTINCT least(x, y) AS record_a, greatest(x, y) AS record_b "
                "FROM pairs WHERE x <> y) "
                "SELECT record_a, record_b, row_number() OVER (ORDER BY record_a, record_b) "
                "AS rn FROM o"
            )
            total = int(self._scalar(f"SELECT count(*) FROM {prs}"))
            for first in range(1, total + 1, chunk):
                consume(self._df(
                    "SELECT p.record_a, p.record_b, ka.title_norm AS title_a, "
                    f"kb.title_norm AS title_b FROM {prs} p "
                    "JOIN dedup_keys ka ON ka.record_id = p.record_a "
                    "JOIN dedup_keys kb ON kb.record_id = p.record_b "
                    "WHERE p.rn BETWEEN ? AND ? ORDER BY p.rn", [first, first + chunk - 1]))
        finally:
            self._exec(f"DROP TABLE IF EXISTS {blk}")
            self._exec(f"DROP TABLE IF EXISTS {prs}")
        return total, windowed

    def dedup_links_frame(self) -> Any:
        """All stored links (record_a, record_b, reason, score)."""
        return self._df(
            "SELECT record_a, record_b, reason, score FROM dedup_links ORDER BY 1, 2, 3"
        )

    def dedup_pairs_frame(self) -> Any:
        """All stored uncertain pairs, decided or not (record_a, record_b, score)."""
        return self._df("SELECT record_a, record_b, score FROM dedup_pairs ORDER BY 1, 2")

    def dedup_decided_pairs(self) -> Any:
        """Decisions mapped onto current record ids: record_a, record_b, decision.

        A decision names two stable identities; every current record carrying them is
        matched, so a re-import with new record ids keeps the decision.
        """
        return self._df(
            "SELECT least(ka.record_id, kb.record_id) AS record_a, "
            "greatest(ka.record_id, kb.record_id) AS record_b, d.decision "
            "FROM dedup_decisions d "
            "JOIN dedup_keys ka ON ka.source = d.source_a AND ka.identity = d.identity_a "
            "JOIN dedup_keys kb ON kb.source = d.source_b AND kb.identity = d.identity_b "
            "JOIN records ra ON ra.record_id = ka.record_id AND NOT ra.deleted "
            "JOIN records rb ON rb.record_id = kb.record_id AND NOT rb.deleted "
            "WHERE ka.record_id <> kb.record_id ORDER BY 1, 2"
        )

    def dedup_clusters_frame(self) -> Any:
        """Stored multi-record cluster membership (record_id, cluster_id, is_primary)."""
        return self._df(
            "SELECT record_id, cluster_id, is_primary FROM dedup_clusters ORDER BY 1"
        )

    # -- writing a run -----------------------------------------------------------------
    def dedup_unindex(self, dropped: Sequence[int], rekeyed: Sequence[int]) -> None:
        """Take records out of the dedup index before a run matches: links, queued pairs
        and cluster rows of ``dropped`` (deleted) and ``rekeyed`` (changed) records go,
        and the keys of ``dropped`` ones."""
        with self.transaction():
            gone = sorted(set(dropped) | set(rekeyed))
            if gone:
                self._with_ids(gone, self._forget)
            if dropped:
                self._with_ids(
                    sorted(dropped),
                    lambda v: self._exec(
                        f"DELETE FROM dedup_keys WHERE record_id IN (SELECT id FROM {v})"
                    ),
                )

    def _stage(self) -> str:
        """The run's key stage: a temporary table (of this connection, never in the file:
        writing every key to disk twice cost more than keying; the database spills it to
        its temp folder when it outgrows the memory cap)."""
        self._exec(f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} AS "
                   "SELECT * FROM dedup_keys LIMIT 0")
        return _STAGE

    def dedup_stage_keys(self, frame: Any) -> None:
        """Stage one batch of match keys (committed at once: memory stays flat) and their
        fingerprints; the run's transaction moves them into the index with
        :meth:`dedup_index_staged`.

        ``frame`` has the ``dedup_keys`` columns minus ``fingerprint`` and ``keyed_at``,
        with ``journal_keys`` and ``blocks`` as text joined by :data:`KEY_SEPARATOR` (plain
        strings convert to the database far faster than Python lists)."""
        keys = frame.loc[:, list(_KEY_COLUMNS)].copy()
        keys["keyed_at"] = _now()
        lists = {"journal_keys", "blocks"}
        select = ", ".join(
            f"CASE WHEN {c} = '' THEN []::TEXT[] ELSE string_split({c}, chr(31)) END"
            if c in lists else c
            for c in _KEY_COLUMNS
        )
        stage = self._stage()
        with self.transaction():
            self._bulk(
                keys,
                lambda v: self._exec(
                    f"INSERT INTO {stage} SELECT {select}, {_FINGERPRINT}, keyed_at FROM {v}"
                ),
            )

    def dedup_staged_changes(self) -> tuple[list[int], list[int], int]:
        """What the staged keys change: (records new to the index or whose keys changed,
        those of them that had keys before, how many were keyed again unchanged)."""
        rows = self._rows(
            "SELECT s.record_id, k.record_id IS NOT NULL, k.fingerprint = s.fingerprint "
            f"FROM {self._stage()} s LEFT JOIN dedup_keys k USING (record_id) ORDER BY 1"
        )
        fresh = [int(r) for r, _, same in rows if not same]
        rekeyed = [int(r) for r, had, same in rows if had and not same]
        return fresh, rekeyed, sum(1 for _, _, same in rows if same)

    def dedup_index_staged(self) -> None:
        """Move the staged keys into the index, replacing the records' earlier keys (one
        statement each: a bulk insert goes to disk rather than memory)."""
        stage = self._stage()
        with self.transaction():
            self._exec("DELETE FROM dedup_keys WHERE record_id IN "
                       f"(SELECT record_id FROM {stage})")
            self._exec(f"INSERT INTO dedup_keys SELECT * FROM {stage}")
            self._exec(f"DELETE FROM {stage}")

    def dedup_clear_staged(self) -> None:
        """Empty the key stage (what a failed run left behind)."""
        self._exec(f"DROP TABLE IF EXISTS {_STAGE}")

    def save_dedup(self, write: DedupWrite) -> None:
        """Save one dedup run's links, queued pairs, clusters and log (bulk inserts through
        registered frames); keys were saved batch by batch in the same transaction."""
        now = _now()
        with self.transaction():
            if write.links is not None and len(write.links):
                self._insert_frame("dedup_links", write.links, _LINK_COLUMNS, now)
            if write.pairs is not None and len(write.pairs):
                self._insert_frame("dedup_pairs", write.pairs, _PAIR_COLUMNS, now)
            if write.clusters is not None:
                self._save_clusters(write.clusters)
            if write.run is not None:
                run = dict(write.run)
                cols = list(run)
                self._exec(
                    f"INSERT INTO dedup_runs ({', '.join(cols)}) "
                    f"VALUES ({', '.join('?' for _ in cols)})",
                    [run[c] for c in cols],
                )

    def _insert_frame(
        self, table: str, frame: Any, columns: Sequence[str], now: dt.datetime
    ) -> None:
        """Insert ``columns`` of ``frame`` plus created_at into a links/pairs table."""
        rows = frame.loc[:, list(columns)].copy()
        rows["created_at"] = now
        self._bulk(
            rows,
            lambda v: self._exec(
                f"INSERT INTO {table} SELECT {', '.join(columns)}, created_at FROM {v} "
                "ON CONFLICT DO NOTHING"
            ),
        )

    def _save_clusters(self, clusters: Any) -> None:
        """Replace the whole cluster table."""
        self._exec("DELETE FROM dedup_clusters")
        if len(clusters):
            frame = clusters.loc[:, ["record_id", "cluster_id", "is_primary"]]
            self._bulk(
                frame,
                lambda v: self._exec(
                    f"INSERT INTO dedup_clusters SELECT record_id, cluster_id, is_primary "
                    f"FROM {v}"
                ),
            )

    def _forget(self, view: str) -> None:
        """Drop links and queued pairs touching the records listed in ``view``."""
        for table in ("dedup_links", "dedup_pairs"):
            self._exec(
                f"DELETE FROM {table} WHERE record_a IN (SELECT id FROM {view}) "
                f"OR record_b IN (SELECT id FROM {view})"
            )
        self._exec(f"DELETE FROM dedup_clusters WHERE record_id IN (SELECT id FROM {view})")

    def _with_ids(self, ids: Sequence[int], fn: Any) -> None:
        import pandas as pd

        self._bulk(pd.DataFrame({"id": pd.Series(list(ids), dtype="int64")}), fn)

    def _bulk(self, frame: Any, fn: Any) -> None:
        view = f"_dedup_batch_{next(_view_counter)}"
        self._register_df(view, frame)
        try:
            fn(view)
        finally:
            self._unregister(view)

    # -- decisions ---------------------------------------------------------------------
    def record_dedup_decisions(
        self, decisions: Sequence[tuple[int, int, str]], *, decided_by: str, note: str | None = None
    ) -> int:
        """Store verdicts on pairs of records (record_a, record_b, decision) under the
        records' stable identities; a later verdict on the same pair replaces the earlier.
        Returns how many were stored. Unknown records or decisions raise InputError and
        nothing is written."""
        for a, b, d in decisions:
            if d not in DECISIONS:
                raise InputError(f"decision {d!r} for records {a}/{b}: use one of {DECISIONS}")
            if a == b:
                raise InputError(f"a record cannot be a duplicate of itself (record {a})")
        ids = sorted({int(x) for a, b, _ in decisions for x in (a, b)})
        if not ids:
            return 0
        marks = ", ".join("?" for _ in ids)
        known = {
            int(r[0]): (r[1], r[2])
            for r in self._rows(
                f"SELECT record_id, source, identity FROM dedup_keys WHERE record_id IN ({marks})",
                ids,
            )
        }
        missing = [i for i in ids if i not in known]
        if missing:
            raise InputError(
                f"record(s) {missing} are not in the dedup index (unknown, deleted, or "
                "`registry dedup` has not run since they were imported)"
            )
        now = _now()
        rows = []
        for a, b, d in decisions:
            ia, ib = sorted([known[int(a)], known[int(b)]])
            rows.append((ia[0], ia[1], ib[0], ib[1], d, decided_by, now, note))
        with self.transaction():
            self._execmany(
                "INSERT OR REPLACE INTO dedup_decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows
            )
        return len(rows)

    def record_dedup_decisions_by_identity(
        self, rows: Sequence[tuple[str, str, str, str, str, str | None]], *, decided_by: str
    ) -> int:
        """Store verdicts given as (source_a, identity_a, source_b, identity_b, decision,
        note) — what an exported queue file carries. All or nothing."""
        now = _now()
        out = []
        for sa, ia, sb, ib, d, note in rows:
            if d not in DECISIONS:
                raise InputError(f"decision {d!r}: use one of {DECISIONS}")
            (sa, ia), (sb, ib) = sorted([(sa, ia), (sb, ib)])
            out.append((sa, ia, sb, ib, d, decided_by, now, note))
        with self.transaction():
            self._execmany(
                "INSERT OR REPLACE INTO dedup_decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?)", out
            )
        return len(out)

    def dedup_identities_known(self, pairs: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which (source, identity) pairs are in the dedup index."""
        if not pairs:
            return set()
        rows = self._rows("SELECT source, identity FROM dedup_keys")
        have = {(s, i) for s, i in rows}
        return {p for p in pairs if p in have}

    def dedup_decisions(self) -> list[dict[str, Any]]:
        """Every stored decision, oldest first."""
        return self._dicts("SELECT * FROM dedup_decisions ORDER BY decided_at, 1, 2, 3, 4")

    # -- the queue ---------------------------------------------------------------------
    def dedup_pending(
        self, limit: int | None = None, *, review: str | None = None
    ) -> list[dict[str, Any]]:
        """Uncertain pairs awaiting a person, highest score first, with both records'
        display fields (suffix ``_a`` / ``_b``) and their clusters (``cluster_a``/``_b``).
        One pair per two clusters: deciding it settles the others. ``review``: only pairs
        whose two records that review's runs brought in."""
        fields = (
            "record_id", "source", "source_id", "pmid", "doi", "pmcid", "title", "authors",
            "year", "journal", "volume", "pages", "publication_types",
        )
        sel = ", ".join(f"ra.{f} AS {f}_a, rb.{f} AS {f}_b" for f in fields)
        lim = "" if limit is None else f" LIMIT {int(limit)}"
        where, params = _pending_scope(review)
        return self._dicts(
            f"SELECT p.score, p.title_similarity, p.why, p.cluster_a, p.cluster_b, "
            f"ka.identity AS identity_a, "
            f"kb.identity AS identity_b, {sel} FROM v_dedup_pending p "
            "JOIN records ra ON ra.record_id = p.record_a "
            "JOIN records rb ON rb.record_id = p.record_b "
            "JOIN dedup_keys ka ON ka.record_id = p.record_a "
            "JOIN dedup_keys kb ON kb.record_id = p.record_b "
            f"{where} ORDER BY p.score DESC, p.record_a, p.record_b{lim}",
            params,
        )

    def dedup_pending_count(self, *, review: str | None = None) -> int:
        """How many uncertain pairs await a decision (in ``review``'s scope when given)."""
        where, params = _pending_scope(review)
        return int(self._scalar(f"SELECT count(*) FROM v_dedup_pending p {where}", params))

    def dedup_cluster_rows(self, batch: int = 50_000) -> Iterator[tuple[Any, ...]]:
        """Every record's (source, source_id, record_id, cluster_id, is_primary,
        cluster_size, deleted), in cluster order, fetched in bounded batches."""
        cur = self._con.cursor()
        try:
            cur.execute(
                "SELECT r.source, r.source_id, r.record_id, c.cluster_id, c.is_primary, "
                "count(*) OVER (PARTITION BY c.cluster_id) AS cluster_size, r.deleted "
                "FROM records r JOIN v_record_cluster c USING (record_id) "
                "ORDER BY c.cluster_id, NOT c.is_primary, r.record_id"
            )
            while rows := cur.fetchmany(batch):
                yield from rows
        finally:
            cur.close()

    def dedup_decisions_since_last_run(self) -> bool:
        """True when a decision was stored after the latest dedup run started (clusters
        must be rebuilt to apply it), or decisions exist and no run has been logged."""
        return bool(
            self._scalar(
                "SELECT EXISTS (SELECT 1 FROM dedup_decisions WHERE decided_at >= "
                "coalesce((SELECT max(started_at) FROM dedup_runs), TIMESTAMP '1900-01-01'))"
            )
        )

    def dedup_cluster_stats(self) -> tuple[int, int]:
        """(clusters of two or more records, records that are not their cluster's primary)."""
        n, dup = self._rows(
            "SELECT count(DISTINCT cluster_id), count(*) FILTER (WHERE NOT is_primary) "
            "FROM dedup_clusters"
        )[0]
        return int(n or 0), int(dup or 0)

    def dedup_last_run(self) -> dict[str, Any] | None:
        """The latest dedup run that changed something, or None."""
        rows = self._dicts("SELECT * FROM dedup_runs ORDER BY dedup_run_id DESC LIMIT 1")
        return rows[0] if rows else None

    def record_clusters(self, record_ids: Sequence[int]) -> dict[int, tuple[int, bool]]:
        """record_id -> (cluster_id, is_primary) from ``v_record_cluster``."""
        if not record_ids:
            return {}
        marks = ", ".join("?" for _ in record_ids)
        return {
            int(r): (int(c), bool(p))
            for r, c, p in self._rows(
                f"SELECT record_id, cluster_id, is_primary FROM v_record_cluster "
                f"WHERE record_id IN ({marks})",
                list(record_ids),
            )
        }

    # -- PRISMA ------------------------------------------------------------------------
    def prisma_identification(self, review: str | None = None) -> dict[str, Any]:
        """PRISMA 2020 identification box for ``review`` (None: every record).

        Records identified = distinct records linked through run_records to that review's
        search/import runs, per source database (``records.source``); deleted (NLM
        DeleteCitation) records are left out and counted apart. Records after duplicates
        removed = distinct dedup clusters among them; duplicates removed = the difference.
        Uncertain pairs pending = queued pairs with both records in scope.
        """
        scope_params: list[Any] = []
        if review is None:
            scope = "SELECT DISTINCT record_id FROM run_records"
        else:
            scope = (
                "SELECT DISTINCT rr.record_id FROM run_records rr "
                "JOIN search_runs s USING (run_id) WHERE s.review = ?"
            )
            scope_params = [review]
        per_source = {
            str(s): int(n)
            for s, n in self._rows(
                f"SELECT r.source, count(*) FROM records r WHERE NOT r.deleted "
                f"AND r.record_id IN ({scope}) GROUP BY 1 ORDER BY 1",
                scope_params,
            )
        }
        identified = sum(per_source.values())
        after, deleted, not_examined = self._rows(
            f"WITH s AS ({scope}) SELECT "
            "count(DISTINCT c.cluster_id) FILTER (WHERE NOT r.deleted), "
            "count(*) FILTER (WHERE r.deleted), "
            "count(*) FILTER (WHERE NOT r.deleted AND k.record_id IS NULL) "
            "FROM s JOIN records r USING (record_id) "
            "JOIN v_record_cluster c USING (record_id) "
            "LEFT JOIN dedup_keys k USING (record_id)",
            scope_params,
        )[0]
        pending = int(
            self._scalar(
                f"WITH s AS ({scope}) SELECT count(*) FROM v_dedup_pending p "
                "WHERE p.record_a IN (SELECT record_id FROM s) "
                "AND p.record_b IN (SELECT record_id FROM s)",
                scope_params,
            )
        )
        return {
            "review": review,
            "records_identified": per_source,
            "records_identified_total": identified,
            "duplicates_removed": identified - int(after or 0),
            "records_after_duplicates_removed": int(after or 0),
            "uncertain_pairs_pending": pending,
            "deleted_records_excluded": int(deleted or 0),
            "records_not_yet_deduplicated": int(not_examined or 0),
        }
