"""Store verbs for the curation area (see registry/store/core.py for the rules).

Extracted rows live in one table per sheet (``cur_studies``, ``cur_arms``, ``cur_outcomes``,
``cur_risk_of_bias``, ``cur_adverse_events``, ``cur_published_results``); columns that are
not part of the fixed format (protocol characteristics, ``X_source``/``X_location``) are kept
in the ``extra`` JSON column. Every change is written together with its audit rows in one
transaction, so the data and its history never disagree.

The store's column lists are its own tables (migration 0020, read back from DuckDB's
catalogue): the store imports nothing from the validation layer above it, and a test checks
that the tables and ``schemas.extraction``'s sheet format agree. pandas is imported inside
the verbs that build frames, so opening the store stays cheap (``registry status``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from registry.store.core import StoreCore

if TYPE_CHECKING:
    import pandas as pd

CURATION_TABLES = {
    "studies": "cur_studies",
    "arms": "cur_arms",
    "outcomes": "cur_outcomes",
    "risk_of_bias": "cur_risk_of_bias",
    "adverse_events": "cur_adverse_events",
    "published_results": "cur_published_results",
}
AUDIT_COLUMNS = (
    "batch_id",
    "review",
    "study_id",
    "table_name",
    "row_key",
    "column_name",
    "action",
    "old_value",
    "new_value",
    "curator",
    "changed_at",
    "origin",
)
# columns every curation table has besides the sheet's own
_BOOKKEEPING = ("review", "extra", "updated_at")
_NUMERIC_TYPES = ("DOUBLE", "BIGINT", "INTEGER", "FLOAT", "DECIMAL", "HUGEINT")


@dataclass(frozen=True)
class SheetWrite:
    """Replace a review's rows of one sheet: all of them (``study_ids`` None) or a study set."""

    sheet: str
    rows: pd.DataFrame  # fixed columns plus any extra columns
    study_ids: tuple[str, ...] | None = None


def _jsonable(v: Any) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


class CurationMixin(StoreCore):
    """Verbs for curation: extracted rows, published results, protocol snapshots, audit."""

    # sheet -> {column: numeric}, read from the catalogue once per open store
    _cur_columns: dict[str, dict[str, bool]] | None = None

    # -- reads -----------------------------------------------------------------------
    def curation_rows(
        self, review: str, sheet: str, study_ids: Iterable[str] | None = None
    ) -> pd.DataFrame:
        """Stored rows of a sheet as a DataFrame (extra columns expanded, NaN for missing)."""
        import pandas as pd  # lazy: opening the store must not import pandas (start-up)

        table = CURATION_TABLES[sheet]
        spec = self._sheet_columns(sheet)
        cols = ", ".join(f'"{c}"' for c in spec)
        sql = f"SELECT {cols}, extra FROM {table} WHERE review = ?"
        params: list[Any] = [review]
        if study_ids is not None:
            ids = list(study_ids)
            if not ids:
                return pd.DataFrame(columns=list(spec))
            sql += " AND study_id IN (SELECT unnest(?::TEXT[]))"
            params.append(ids)
        rows = self._dicts(sql + " ORDER BY rowid", params)
        out = []
        for r in rows:
            extra = r.pop("extra")
            rec = {c: r[c] for c in spec}
            if extra:
                rec.update(json.loads(extra))
            out.append(rec)
        df = pd.DataFrame(out, columns=None if out else list(spec))
        for c, numeric in spec.items():
            if c in df.columns and numeric:
                df[c] = pd.to_numeric(df[c]).astype(float)
        return df.astype({c: object for c in df.columns if not spec.get(c, False)})

    def _sheet_columns(self, sheet: str) -> dict[str, bool]:
        """The sheet's fixed columns in table order -> True when numeric (read from DuckDB).

        A BOOLEAN column counts as not numeric: it comes back as True/False/None objects.
        """
        if self._cur_columns is None:
            self._cur_columns = {}
        cache = self._cur_columns
        if sheet not in cache:
            rows = self._rows(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
                [CURATION_TABLES[sheet]],
            )
            cache[sheet] = {
                name: str(kind).upper().startswith(_NUMERIC_TYPES)
                for name, kind in rows
                if name not in _BOOKKEEPING
            }
        return cache[sheet]

    def curated_reviews(self) -> list[str]:
        """Reviews with curated data or a stored protocol snapshot."""
        return [
            r[0]
            for r in self._rows(
                "SELECT review FROM cur_reviews UNION SELECT DISTINCT review FROM cur_studies "
                "ORDER BY 1"
            )
        ]

    def stored_protocol(self, review: str) -> tuple[str, str] | None:
        """(protocol_yaml, sha256) snapshot of the review's protocol, if one was stored."""
        row = self._rows(
            "SELECT protocol_yaml, protocol_sha256 FROM cur_reviews WHERE review = ?", [review]
        )
        return (row[0][0], row[0][1]) if row else None

    def study_origins(self, review: str) -> dict[str, str]:
        """study_id -> the file or folder its latest audited change came from."""
        return {
            str(sid): str(origin)
            for sid, origin in self._rows(
                "SELECT study_id, arg_max(origin, change_id) FROM cur_audit "
                "WHERE review = ? AND study_id IS NOT NULL GROUP BY study_id",
                [review],
            )
        }

    def curation_history(self, study_id: str, review: str | None = None) -> list[dict[str, Any]]:
        """Every audited change to a study's rows, oldest first."""
        sql = "SELECT * FROM cur_audit WHERE study_id = ?"
        params: list[Any] = [study_id]
        if review:
            sql += " AND review = ?"
            params.append(review)
        return self._dicts(sql + " ORDER BY change_id", params)

    def audit_count(self) -> int:
        """Number of audit rows (tests and summaries)."""
        return int(self._scalar("SELECT count(*) FROM cur_audit"))

    # -- writes ----------------------------------------------------------------------
    def save_curation(
        self,
        review: str,
        writes: Sequence[SheetWrite],
        audit: Sequence[dict[str, Any]],
        *,
        protocol: tuple[str, str] | None = None,
        who: str = "unknown",
    ) -> None:
        """Apply sheet replacements, audit rows and the protocol snapshot all or nothing."""
        import pandas as pd  # lazy: see curation_rows

        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        with self.transaction():
            if protocol is not None:
                self._exec("DELETE FROM cur_reviews WHERE review = ?", [review])
                self._exec(
                    "INSERT INTO cur_reviews VALUES (?, ?, ?, ?, ?)",
                    [review, protocol[0], protocol[1], now, who],
                )
            for w in writes:
                self._replace_sheet(review, w, now)
            if audit:
                df = pd.DataFrame(
                    [{c: a.get(c) for c in AUDIT_COLUMNS} for a in audit], columns=AUDIT_COLUMNS
                ).astype(object)
                df["changed_at"] = now
                self._register_df("_cur_audit_in", df)
                try:
                    self._exec(
                        f"INSERT INTO cur_audit ({', '.join(AUDIT_COLUMNS)}) "
                        f"SELECT {', '.join(AUDIT_COLUMNS)} FROM _cur_audit_in"
                    )
                finally:
                    self._unregister("_cur_audit_in")

    def _replace_sheet(self, review: str, w: SheetWrite, now: dt.datetime) -> None:
        import pandas as pd  # lazy: see curation_rows

        table = CURATION_TABLES[w.sheet]
        spec = self._sheet_columns(w.sheet)
        if w.study_ids is None:
            self._exec(f"DELETE FROM {table} WHERE review = ?", [review])
        elif w.study_ids:
            self._exec(
                f"DELETE FROM {table} WHERE review = ? AND study_id IN (SELECT unnest(?::TEXT[]))",
                [review, list(w.study_ids)],
            )
        if w.rows.empty:
            return
        records = []
        for rec in w.rows.to_dict("records"):
            row: dict[str, Any] = {"review": review}
            extra: dict[str, Any] = {}
            for c, v in rec.items():
                v = _jsonable(v)
                if c in spec:
                    row[c] = v
                elif v is not None:
                    extra[c] = v
            row["extra"] = json.dumps(extra, sort_keys=True) if extra else None
            row["updated_at"] = now
            records.append(row)
        cols = ["review", *spec, "extra", "updated_at"]
        df = pd.DataFrame(records, columns=cols).astype(object)
        for c, numeric in spec.items():
            if numeric:
                df[c] = pd.to_numeric(df[c]).astype(float)
        self._register_df("_cur_in", df)
        try:
            quoted = ", ".join(f'"{c}"' for c in cols)
            self._exec(f"INSERT INTO {table} ({quoted}) SELECT {quoted} FROM _cur_in")
        finally:
            self._unregister("_cur_in")
