"""A review's validation in one pass: its schema set is built once, a sheet set checked in one call.

:class:`ReviewSchemas` holds, per sheet, the columns (the format's plus the protocol's
characteristics) and the header/cell-type schema, all fixed by the protocol and built once.
:meth:`ReviewSchemas.check` runs the two lazy pandera passes of :mod:`schemas.extraction`
over every sheet of a set and turns pandera's failure cases into :class:`Problem` s that
name the file/sheet, the row as the curator sees it (header = row 1), the column, the value
and the rule, so a curator sees every problem at once. A missing required column stops
before the rules: they would repeat its consequence row after row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from pandera.errors import SchemaErrors

from ingest.errors import ValidationFailed
from schemas.extraction import Context, rule_schema, type_schema
from schemas.protocol import Protocol
from schemas.sheet_format import ALL_SHEETS, columns_for, parse_bool
from schemas.values import is_missing

MISSING_COLUMN = "required column is missing (the rules are checked once every header is complete)"
UNKNOWN_COLUMN = ("unknown column (not in the format or the protocol's characteristics; "
                  "companions must be named X_source / X_location)")  # fmt: skip


@dataclass(frozen=True)
class Problem:
    """One validation problem, located as the curator sees it."""

    file: str
    sheet: str
    row: int | None  # spreadsheet row (header = 1); None = the header / the whole sheet
    column: str | None
    value: Any
    rule: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row is not None else "header"
        col = f", column {self.column}" if self.column else ""
        val = "" if self.value is None else f", value {self.value!r}"
        return f"{self.file}: {where}{col}{val}: {self.rule}"


@dataclass
class CheckResult:
    """Problems (errors), warnings and the typed frames of a checked sheet set."""

    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    typed: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def raise_if_failed(self, what: str) -> None:
        """ValidationFailed listing every problem, if there is any."""
        if self.problems:
            raise ValidationFailed(
                f"{what}: {len(self.problems)} problem(s); nothing was stored",
                [str(p) for p in self.problems],
            )


class ReviewSchemas:
    """The pandera schema set of one review, built once from its protocol."""

    def __init__(self, protocol: Protocol) -> None:
        self.protocol = protocol
        self.columns = {s: columns_for(s, protocol) for s in ALL_SHEETS}
        self.types = {s: type_schema(s, self.columns[s]) for s in ALL_SHEETS}

    def typed(self, sheet: str, raw: pd.DataFrame) -> pd.DataFrame:
        """Numbers as floats (unparseable -> NaN, reported by the type pass), booleans as bool."""
        cols = self.columns[sheet]
        out = raw.copy()
        for c in out.columns:
            kind = cols.get(c)
            if kind in ("num", "int"):
                out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
            elif kind == "bool":
                out[c] = out[c].map(_bool_or_none).astype(object)
        return out

    def check(
        self,
        frames: Mapping[str, pd.DataFrame],
        labels: Mapping[str, str],
        names: tuple[str, ...],
        *,
        stored_studies: set[str] | None = None,
        stored_arms: Mapping[tuple[str, str], float | None] | None = None,
    ) -> CheckResult:
        """Validate the sheets ``names`` of ``frames`` lazily: every problem at once.

        ``labels`` names each sheet's file in problems; ``stored_studies``/``stored_arms``
        let rows refer to studies and arms already in the registry (an add-trial carrying
        only new outcome rows).
        """
        result = CheckResult()
        arms = stored_arms or {}
        ctx = Context(
            protocol=self.protocol,
            stored_studies=set(stored_studies or ()),
            stored_arms=set(arms),
            stored_arm_n={k: float(v) for k, v in arms.items() if v is not None},
        )
        # pass 1: header and types
        for sheet in names:
            raw = frames.get(sheet)
            if raw is None:
                result.typed[sheet] = pd.DataFrame()
                continue
            label = labels.get(sheet, f"{sheet}.csv")
            try:
                self.types[sheet].validate(raw.copy(), lazy=True)
            except SchemaErrors as exc:
                result.problems.extend(_problems(exc, sheet, label, raw))
            result.typed[sheet] = self.typed(sheet, raw)
        ctx.frames = result.typed
        # pass 2: rules on typed frames, every sheet in view; not with a column missing
        if not any(p.rule == MISSING_COLUMN for p in result.problems):
            for sheet in names:
                raw = frames.get(sheet)
                if raw is None or raw.empty:
                    continue
                try:
                    rule_schema(sheet, ctx, self.columns[sheet]).validate(
                        result.typed[sheet], lazy=True
                    )
                except SchemaErrors as exc:
                    label = labels.get(sheet, f"{sheet}.csv")
                    result.problems.extend(_problems(exc, sheet, label, raw))
        result.problems.sort(key=lambda p: (names.index(p.sheet), p.row or 0, p.column or ""))
        return result


def _bool_or_none(v: Any) -> bool | None:
    try:
        return parse_bool(v)
    except ValueError:
        return None  # reported by the type pass


def _problems(exc: SchemaErrors, sheet: str, label: str, raw: pd.DataFrame) -> list[Problem]:
    """pandera failure cases -> Problems, one per (row, column, rule)."""
    out: list[Problem] = []
    seen: set[tuple] = set()
    records = exc.failure_cases.to_dict("records")
    # a column with a cell that is not a number also fails its column-wide dtype check;
    # the cell-level message is the useful one, so the column-level echo is dropped
    coerced = {
        str(r.get("column")) for r in records
        if str(r.get("check")).startswith("coerce_dtype") and not is_missing(r.get("index"))
    }  # fmt: skip
    for rec in records:
        p = _problem(rec, sheet, label, raw, coerced)
        if p is None:
            continue
        key = (p.sheet, p.row, p.column, p.rule)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def _problem(
    rec: dict[str, Any], sheet: str, label: str, raw: pd.DataFrame, coerced: set[str]
) -> Problem | None:
    check = str(rec.get("check"))
    col = None if is_missing(rec.get("column")) else str(rec.get("column"))
    idx = rec.get("index")
    no_row = is_missing(idx)
    if check == "column_in_dataframe":
        return Problem(label, sheet, None, str(rec["failure_case"]), None, MISSING_COLUMN)
    if check == "column_in_schema":
        return Problem(label, sheet, None, str(rec["failure_case"]), None, UNKNOWN_COLUMN)
    if no_row and col in coerced:
        return None
    if check.startswith("dtype(") and idx is not None:
        return None  # the coerce failure already reports this cell
    if check.startswith("coerce_dtype"):
        check = "must be a number"
    row = None if no_row else int(idx)
    value = raw.at[row, col] if row is not None and col in raw.columns else None
    return Problem(label, sheet, None if row is None else row + 2, col, value, check)
