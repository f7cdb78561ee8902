"""Store verbs for report versions and the analysis results each version presented."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from registry.store.core import StoreCore

_RESULT_COLUMNS = (
    "analysis_id",
    "outcome",
    "time_point",
    "subgroup_set",
    "subgroup",
    "sensitivity",
    "measure",
    "model",
    "k",
    "n_participants",
    "estimate",
    "ci_lb",
    "ci_ub",
    "pval",
    "tau2",
    "i2",
)


class AnalysesMixin(StoreCore):
    """Verbs for report versions."""

    def save_report_version(
        self,
        *,
        review: str,
        label: str,
        data_hash: str,
        tool_version: str,
        preset: str | None,
        n_records: int,
        study_ids: Sequence[str],
        summary: dict[str, Any],
        results: Sequence[dict[str, Any]],
    ) -> int:
        """Store one report version and its analysis results atomically; returns its id."""
        with self.transaction():
            version_id = int(self._scalar("SELECT nextval('report_version_seq')"))
            self._exec(
                "INSERT INTO report_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    version_id,
                    review,
                    label,
                    dt.datetime.now(dt.UTC).replace(tzinfo=None),
                    data_hash,
                    tool_version,
                    preset,
                    n_records,
                    len(study_ids),
                    list(study_ids),
                    json.dumps(summary, default=str),
                ],
            )
            placeholders = ", ".join("?" for _ in range(len(_RESULT_COLUMNS) + 1))
            self._execmany(
                f"INSERT INTO analysis_results (version_id, {', '.join(_RESULT_COLUMNS)}) "
                f"VALUES ({placeholders})",
                [[version_id, *(r.get(c) for c in _RESULT_COLUMNS)] for r in results],
            )
        return version_id

    def report_versions(self, review: str | None = None) -> list[dict[str, Any]]:
        """Report versions, newest first (all reviews when ``review`` is None)."""
        sql = (
            "SELECT version_id, review, label, created_at, data_hash, tool_version, preset,"
            " n_records, n_studies, study_ids, summary FROM report_versions"
        )
        params: list[Any] = []
        if review is not None:
            sql += " WHERE review = ?"
            params.append(review)
        rows = self._dicts(sql + " ORDER BY version_id DESC", params)
        for r in rows:
            r["summary"] = json.loads(r["summary"]) if r["summary"] else {}
            r["study_ids"] = list(r["study_ids"] or [])
        return rows

    def latest_report_version(self, review: str) -> dict[str, Any] | None:
        """The newest stored version of a review's report, or None."""
        rows = self.report_versions(review)
        return rows[0] if rows else None

    def analysis_results(self, version_id: int) -> list[dict[str, Any]]:
        """The analysis results stored with a report version."""
        return self._dicts(
            f"SELECT {', '.join(_RESULT_COLUMNS)} FROM analysis_results WHERE version_id = ?"
            " ORDER BY analysis_id",
            [version_id],
        )
