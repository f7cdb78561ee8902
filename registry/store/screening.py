"""Store verbs for the screening area (see registry/store/core.py for the rules).

Data access only: which records belong to a review (grouped into dedup clusters), the
decisions made on them, and appending new decisions. What a set of decisions *means*
(final decision, conflicts, queue, PRISMA counts) lives in :mod:`registry.screening`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from registry.errors import InputError
from registry.store.core import StoreCore

# Columns of a decision a caller supplies to add_screening_decisions (decision_id and
# decided_at are filled here unless given).
_DECISION_COLUMNS = (
    "review",
    "stage",
    "record_id",
    "source",
    "source_id",
    "reviewer",
    "role",
    "decision",
    "reason",
    "reason_label",
    "note",
    "study_id",
    "via",
    "decided_at",
)

_TYPES = {"decided_at": "TIMESTAMP"}  # the other supplied columns are TEXT


def _given(d: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    """A supplied decision's column values, with the defaults (role, via, decided_at)."""
    values = {
        "role": "screen",
        "via": "api",
        "decided_at": now,
        **{k: d.get(k) for k in _DECISION_COLUMNS if d.get(k) is not None},
    }
    values["record_id"] = int(d["record_id"])
    return {k: values.get(k) for k in _DECISION_COLUMNS}


# Record fields screening shows, ranks and exports.
_RECORD_FIELDS = (
    "r.record_id, r.source, r.source_id, r.pmid, r.doi, r.title, r.abstract, r.authors, "
    "r.journal, "
    "r.year, r.publication_types, r.mesh_terms, r.keywords, r.registry_ids, r.retracted, "
    "r.deleted"
)


class ScreeningMixin(StoreCore):
    """Verbs for screening."""

    # -- clusters --------------------------------------------------------------------
    def _cluster_relation(self) -> str:
        """SQL for (record_id, cluster_id, is_primary) over every record.

        The dedup area provides ``v_record_cluster``; without it (a registry where dedup
        has not been installed) every record is its own cluster. Detected per query, so a
        store opened before the dedup migration still works after it lands.
        """
        has_view = self._scalar(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'main' AND table_name = 'v_record_cluster'"
        )
        if has_view:
            return "SELECT record_id, cluster_id, is_primary FROM v_record_cluster"
        return "SELECT record_id, record_id AS cluster_id, NOT deleted AS is_primary FROM records"

    def screening_records(self, review: str) -> list[dict[str, Any]]:
        """Every record of every cluster that one of ``review``'s search runs touched.

        A cluster is in the review when any member was returned by a search or import
        run whose ``search_runs.review`` is ``review``; all its members are listed (with
        ``cluster_id`` and ``is_primary``) so decisions made on any of them apply to it.
        ``first_found_at`` is when a run of the review first returned the record (None for
        a member only another review's runs found): it tells the update rounds apart.
        """
        rel = self._cluster_relation()
        return self._dicts(
            f"""
            WITH rc AS ({rel}),
            in_review AS (
                SELECT rr.record_id, min(sr.started_at) AS first_found_at
                FROM run_records rr JOIN search_runs sr ON sr.run_id = rr.run_id
                WHERE sr.review = ?
                GROUP BY rr.record_id
            ),
            clusters AS (
                SELECT DISTINCT rc.cluster_id FROM in_review JOIN rc USING (record_id)
            )
            SELECT {_RECORD_FIELDS}, rc.cluster_id, rc.is_primary,
                   ir.record_id IS NOT NULL AS found_by_review, ir.first_found_at
            FROM records r
            JOIN rc ON rc.record_id = r.record_id
            LEFT JOIN in_review ir ON ir.record_id = r.record_id
            WHERE rc.cluster_id IN (SELECT cluster_id FROM clusters)
            ORDER BY rc.cluster_id, r.record_id
            """,
            [review],
        )

    def screening_reviews(self) -> list[str]:
        """Reviews that have search runs or screening decisions, sorted."""
        return [
            r[0]
            for r in self._rows(
                "SELECT review FROM search_runs WHERE review IS NOT NULL "
                "UNION SELECT review FROM screening_decisions ORDER BY 1"
            )
        ]

    def records_by_id(self, record_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """Records (screening fields plus cluster) keyed by record_id; missing ids absent."""
        if not record_ids:
            return {}
        rel = self._cluster_relation()
        rows = self._dicts(
            f"SELECT {_RECORD_FIELDS}, rc.cluster_id, rc.is_primary FROM records r "
            f"JOIN ({rel}) rc ON rc.record_id = r.record_id "
            "WHERE r.record_id IN (SELECT unnest(?::BIGINT[]))",
            [list(record_ids)],
        )
        return {row["record_id"]: row for row in rows}

    def record_ids_by_identity(
        self, identities: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], int]:
        """record_id for each (source, source_id) pair that exists."""
        if not identities:
            return {}
        rows = self._rows(
            "SELECT r.source, r.source_id, r.record_id FROM records r JOIN "
            "(SELECT unnest(?::VARCHAR[]) AS s, unnest(?::VARCHAR[]) AS i) q "
            "ON r.source = q.s AND r.source_id = q.i",
            [[s for s, _ in identities], [i for _, i in identities]],
        )
        return {(s, i): rid for s, i, rid in rows}

    # -- decisions -------------------------------------------------------------------
    def screening_decisions(self, review: str, stage: str | None = None) -> list[dict[str, Any]]:
        """Every decision of ``review`` (optionally one stage), oldest first.

        ``record_id`` is the record's *current* id: found again through the stable identity
        (source, source_id) when the record was re-imported under a new number, else the id
        stored with the decision. ``cluster_id`` is its current dedup cluster (NULL when the
        record is gone altogether). Decisions taken back with :meth:`undo_screening_decision`
        are left out.
        """
        rel = self._cluster_relation()
        params: list[Any] = [review]
        where = "d.review = ? AND d.undone_at IS NULL"
        if stage is not None:
            where += " AND d.stage = ?"
            params.append(stage)
        return self._dicts(
            f"""
            WITH rc AS ({rel})
            SELECT d.decision_id, d.review, d.stage,
                   coalesce(by_identity.record_id, by_id.record_id) AS record_id,
                   d.record_id AS decided_record_id, d.source, d.source_id, d.reviewer,
                   d.role, d.decision, d.reason, d.reason_label, d.note, d.study_id, d.via,
                   d.decided_at, rc.cluster_id
            FROM screening_decisions d
            LEFT JOIN records by_identity
                   ON d.source_id IS NOT NULL
                  AND by_identity.source = d.source AND by_identity.source_id = d.source_id
            LEFT JOIN records by_id
                   ON by_id.record_id = d.record_id AND by_id.source = d.source
                  AND (d.source_id IS NULL OR by_id.source_id IS NOT DISTINCT FROM d.source_id)
            LEFT JOIN rc ON rc.record_id = coalesce(by_identity.record_id, by_id.record_id)
            WHERE {where}
            ORDER BY d.decided_at, d.decision_id
            """,
            params,
        )

    def add_screening_decisions(self, decisions: Sequence[Mapping[str, Any]]) -> list[int]:
        """Append decisions (all or none); returns their decision ids in input order.

        Each mapping needs review, stage, record_id, reviewer and decision; the record's
        identity (source, source_id) is taken from the records table so a decision can
        always be found again after a re-import. Values are validated by the caller
        (:mod:`registry.screening`); the table's CHECK constraints are the last guard.
        """
        if not decisions:
            return []
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        if len(decisions) == 1:
            return [self._add_one_decision(decisions[0], now)]
        ids = sorted({int(d["record_id"]) for d in decisions})
        with self.transaction():
            known = {
                rid: (src, sid)
                for rid, src, sid in self._rows(
                    "SELECT record_id, source, source_id FROM records "
                    "WHERE record_id IN (SELECT unnest(?::BIGINT[]))",
                    [ids],
                )
            }
            new_ids = [
                int(r[0])
                for r in self._rows(
                    "SELECT nextval('screening_decision_id_seq') FROM range(?)", [len(decisions)]
                )
            ]
            rows = []
            for decision_id, d in zip(new_ids, decisions, strict=True):
                rid = int(d["record_id"])
                if rid not in known:
                    raise InputError(f"no record {rid} in the registry")
                src, sid = known[rid]
                values = {**_given(d, now), "source": src, "source_id": sid}
                rows.append([decision_id, *(values.get(k) for k in _DECISION_COLUMNS)])
            cols = ", ".join(("decision_id", *_DECISION_COLUMNS))
            marks = ", ".join("?" for _ in range(len(_DECISION_COLUMNS) + 1))
            self._execmany(f"INSERT INTO screening_decisions ({cols}) VALUES ({marks})", rows)
        return new_ids

    def _add_one_decision(self, d: Mapping[str, Any], now: dt.datetime) -> int:
        """One decision in one statement (a screener's click in the workspace): the record's
        identity and the new id are taken inside the INSERT, not by separate queries."""
        values = _given(d, now)
        own = [k for k in _DECISION_COLUMNS if k not in ("source", "source_id", "record_id")]
        marks = ", ".join(f"?::{_TYPES.get(k, 'TEXT')}" for k in own)
        with self.transaction():
            found = self._rows(
                f"INSERT INTO screening_decisions "
                f"(decision_id, record_id, source, source_id, {', '.join(own)}) "
                f"SELECT nextval('screening_decision_id_seq'), record_id, source, source_id, "
                f"{marks} FROM records WHERE record_id = ? RETURNING decision_id",
                [*(values[k] for k in own), values["record_id"]],
            )
        if not found:
            raise InputError(f"no record {values['record_id']} in the registry")
        return int(found[0][0])

    def undo_screening_decision(self, decision_id: int, by: str) -> None:
        """Take back one decision: it stays in the history, marked undone, and stops counting."""
        with self.transaction():
            self._exec(
                "UPDATE screening_decisions SET undone_at = ?, undone_by = ? "
                "WHERE decision_id = ? AND undone_at IS NULL",
                [dt.datetime.now(dt.UTC).replace(tzinfo=None), by, int(decision_id)],
            )
