"""Store verbs for trial-registry records, the live sources' request log and the
retraction/correction findings of included studies.

Trials are keyed by NCT id: a trial seen again is updated in place (status, results
posted) and linked to the new run with ``is_new = false``, so nothing is stored twice.
Every write verb is one transaction (see registry/store/core.py); the runners in
``registry/sources`` wrap a page's trials/records, its request-log row and the run's state
in one outer transaction so a kill between pages loses nothing and repeats nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ingest.ctgov import Trial
from registry.store.core import StoreCore
from registry.store.records import RUN_OUTCOMES, _now

_LIST_COLS = ("phases", "conditions", "interventions", "linked_pmids", "secondary_ids")
_JSON_COLS = ("arms", "primary_outcomes", "secondary_outcomes", "references")
_SCALARS = (
    "title", "official_title", "status", "why_stopped", "study_type", "allocation",
    "enrollment", "enrollment_type", "has_results", "sponsor", "start_date",
    "primary_completion_date", "completion_date", "first_posted", "last_update_posted",
    "results_first_posted", "version",
)
_COLS = ("nct_id",) + _SCALARS + _LIST_COLS + _JSON_COLS


@dataclass(frozen=True, slots=True)
class TrialsAdded:
    """What one ``add_trials`` call did."""

    new: int
    updated: int
    unchanged: int


def _trial_row(t: Trial) -> list[Any]:
    row: dict[str, Any] = {c: getattr(t, c) for c in ("nct_id",) + _SCALARS}
    for c in _LIST_COLS:
        row[c] = list(getattr(t, c))
    for c in _JSON_COLS:
        row[c] = json.dumps(list(getattr(t, c)), ensure_ascii=False)
    return [row[c] for c in _COLS]


def _quoted(cols: Iterable[str]) -> list[str]:
    return [f'"{c}"' for c in cols]


class TrialsMixin(StoreCore):
    """Verbs for trials, source request logs and integrity findings."""

    # -- trials ----------------------------------------------------------------------
    def add_trials(
        self, trials: Sequence[Trial], *, run_id: int | None, state: dict[str, Any] | None = None
    ) -> TrialsAdded:
        """Insert new trials, update changed ones, link all to ``run_id``; with ``state``
        the run's resumable state is committed in the same transaction."""
        by_id = {t.nct_id: t for t in trials}
        rows = [_trial_row(t) for t in by_id.values()]
        now = _now()
        cols = _quoted(_COLS)
        marks = ", ".join("?" for _ in _COLS)
        with self.transaction():
            if state is not None and run_id is not None:
                self._exec("UPDATE search_runs SET state = ?::JSON WHERE run_id = ?",
                           [json.dumps(state), run_id])
            if not rows:
                return TrialsAdded(0, 0, 0)
            ids = list(by_id)
            old = {
                r[0]: r[1:]
                for r in self._rows(
                    f"SELECT nct_id, {', '.join(cols[1:])} FROM trials "
                    "WHERE nct_id IN (SELECT unnest(?::TEXT[]))", [ids])
            }
            fresh = [r for r in rows if r[0] not in old]
            changed = [r for r in rows if r[0] in old and not _same(old[r[0]], r[1:])]
            self._execmany(
                f"INSERT INTO trials ({', '.join(cols)}, first_run_id, added_at, updated_at) "
                f"VALUES ({marks}, ?, ?, ?)", [r + [run_id, now, now] for r in fresh])
            sets = ", ".join(f"{c} = ?" for c in cols[1:])
            self._execmany(f"UPDATE trials SET {sets}, updated_at = ? WHERE nct_id = ?",
                           [r[1:] + [now, r[0]] for r in changed])
            if run_id is not None:
                self._execmany(
                    "INSERT INTO run_trials VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    [(run_id, n, n not in old) for n in ids])
        return TrialsAdded(len(fresh), len(changed), len(rows) - len(fresh) - len(changed))

    def finish_trial_run(
        self, run_id: int, *, outcome: str, error: str | None = None, hits: int | None = None
    ) -> dict[str, Any]:
        """Close a ClinicalTrials.gov run: outcome, end time, new/known counts of its trials."""
        if outcome not in RUN_OUTCOMES or outcome == "running":
            raise ValueError(f"a run finishes as ok, failed or interrupted, not {outcome!r}")
        with self.transaction():
            new, dup = self._rows(
                "SELECT count(*) FILTER (is_new), count(*) FILTER (NOT is_new) "
                "FROM run_trials WHERE run_id = ?", [run_id])[0]
            self._exec(
                "UPDATE search_runs SET outcome = ?, error = ?, finished_at = ?, "
                "new_records = ?, duplicate_records = ?, hits = coalesce(?, hits) "
                "WHERE run_id = ?",
                [outcome, error, _now(), int(new), int(dup), hits, run_id])
        rows = self._dicts("SELECT * FROM search_runs WHERE run_id = ?", [run_id])
        return rows[0]

    def trials(self, review: str | None = None) -> list[dict[str, Any]]:
        """Stored trials (those a review's runs found, if ``review``), by NCT id."""
        where, params = "", []
        if review is not None:
            where = ("WHERE nct_id IN (SELECT rt.nct_id FROM run_trials rt "
                     "JOIN search_runs s USING (run_id) WHERE s.review = ?)")
            params = [review]
        rows = self._dicts(f"SELECT * FROM trials {where} ORDER BY nct_id", params)
        for r in rows:
            for c in _JSON_COLS:
                if isinstance(r.get(c), str):
                    r[c] = json.loads(r[c])
        return rows

    def trial_publication_links(self, nct_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Bibliographic records that are publications of the given trials: records whose
        registry ids (PubMed DataBankList / SecondaryId) or abstract name the NCT id, and
        records whose PMID the registry lists as a RESULT/DERIVED reference."""
        if not nct_ids:
            return []
        return self._dicts(
            "WITH t AS (SELECT nct_id, linked_pmids FROM trials "
            "           WHERE nct_id IN (SELECT unnest(?::TEXT[]))), "
            "ids AS (SELECT r.record_id, upper(replace(unnest(r.registry_ids), ' ', '')) AS nct "
            "        FROM records r WHERE NOT r.deleted), "
            "ab AS (SELECT r.record_id, upper(replace(unnest(regexp_extract_all(r.abstract, "
            "       '(?i)NCT\\s?\\d{8}')), ' ', '')) AS nct FROM records r "
            "       WHERE NOT r.deleted AND r.abstract ILIKE '%NCT%') "
            "SELECT DISTINCT t.nct_id, r.record_id, r.source, r.pmid, r.doi, 'registry id' AS via "
            "FROM t JOIN ids ON ids.nct = t.nct_id JOIN records r USING (record_id) "
            "UNION SELECT DISTINCT t.nct_id, r.record_id, r.source, r.pmid, r.doi, 'abstract' "
            "FROM t JOIN ab ON ab.nct = t.nct_id JOIN records r USING (record_id) "
            "UNION SELECT DISTINCT t.nct_id, r.record_id, r.source, r.pmid, r.doi, "
            "'registry reference' FROM t JOIN records r "
            "ON list_contains(t.linked_pmids, r.pmid) AND NOT r.deleted "
            "ORDER BY 1, 2, 6",
            [list(nct_ids)],
        )

    # -- request log -------------------------------------------------------------------
    def log_source_request(
        self,
        run_id: int,
        *,
        seq: int,
        source: str,
        endpoint: str,
        cursor_in: str | None,
        cursor_out: str | None,
        attempts: int,
        items: int,
        new_items: int,
        problems: int = 0,
    ) -> None:
        """Keep one page request of a live source with its counts."""
        with self.transaction():
            self._exec(
                "INSERT INTO source_requests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [run_id, seq, source, endpoint, cursor_in, cursor_out, attempts, items,
                 new_items, problems, _now()])

    def source_requests(self, run_id: int | None = None) -> list[dict[str, Any]]:
        """The request log (of one run if given), in order."""
        if run_id is None:
            return self._dicts("SELECT * FROM source_requests ORDER BY run_id, seq")
        return self._dicts(
            "SELECT * FROM source_requests WHERE run_id = ? ORDER BY seq", [run_id])

    # -- integrity watch ---------------------------------------------------------------
    def included_studies_for_watch(self, review: str) -> list[dict[str, Any]]:
        """Included (curated) studies with their PMID, DOI and a title to check by."""
        return self._dicts(
            "SELECT s.study_id, s.pmid, lower(s.doi) AS doi, s.citation, "
            "(SELECT r.title FROM records r WHERE (r.pmid = s.pmid AND s.pmid IS NOT NULL) "
            " OR (r.doi = lower(s.doi) AND s.doi IS NOT NULL) ORDER BY r.record_id LIMIT 1) "
            "AS title FROM cur_studies s WHERE s.review = ? ORDER BY s.study_id",
            [review])

    def pubmed_integrity(self, pmids: Sequence[str]) -> list[dict[str, Any]]:
        """PubMed's retraction/correction state of the given PMIDs (records of any source
        carrying the PMID: flags and CommentsCorrections links)."""
        if not pmids:
            return []
        rows = self._dicts(
            "SELECT pmid, source, retracted, corrected, comments, publication_types FROM records "
            "WHERE pmid IN (SELECT unnest(?::TEXT[])) AND NOT deleted ORDER BY record_id",
            [list(pmids)])
        for r in rows:
            if isinstance(r.get("comments"), str):
                r["comments"] = json.loads(r["comments"])
        return rows

    def save_integrity_findings(self, review: str, findings: Iterable[dict[str, Any]]) -> set[
        tuple[str, str, str, str]
    ]:
        """Keep findings not seen before; return the keys (study, kind, source, notice) that
        are new."""
        items = list(findings)
        now = _now()
        with self.transaction():
            known = {
                tuple(r) for r in self._rows(
                    "SELECT study_id, kind, source, notice FROM integrity_findings "
                    "WHERE review = ?", [review])
            }
            fresh = [f for f in items
                     if (f["study_id"], f["kind"], f["source"], f["notice"]) not in known]
            self._execmany(
                "INSERT INTO integrity_findings VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                [(review, f["study_id"], f["kind"], f["source"], f["notice"], f.get("work"),
                  f.get("date"), now) for f in fresh])
        return {(f["study_id"], f["kind"], f["source"], f["notice"]) for f in fresh}

    def integrity_findings(self, review: str) -> list[dict[str, Any]]:
        """Every finding kept for ``review``, oldest first."""
        return self._dicts(
            "SELECT * FROM integrity_findings WHERE review = ? ORDER BY first_seen, study_id",
            [review])


def _same(old: Sequence[Any], new: Sequence[Any]) -> bool:
    """Stored row equals the new one (JSON columns compared decoded)."""
    for col, a, b in zip(_COLS[1:], old, new, strict=True):
        if col in _JSON_COLS:
            a = json.loads(a) if isinstance(a, str) else a
            b = json.loads(b) if isinstance(b, str) else b
        if (list(a) if isinstance(a, tuple) else a) != (list(b) if isinstance(b, tuple) else b):
            return False
    return True
