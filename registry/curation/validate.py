"""Validation of extraction sheets against the protocol: every problem of every sheet at once.

:func:`check_sheets` runs the two lazy pandera passes of :mod:`schemas.extraction` over every
sheet and turns pandera's failure cases into :class:`Problem` s that name the file/sheet, the
row as the curator sees it (header = row 1), the column, the value and the rule. Design
warnings (a non-randomised study in an RCT-only review) are collected separately: such a
study is kept, flagged, and left out of RCT-only analyses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from pandera.errors import SchemaErrors

from registry.errors import ValidationFailed
from schemas.extraction import Context, rule_schema, type_schema
from schemas.protocol import Protocol
from schemas.sheet_format import columns_for, parse_bool
from schemas.values import is_missing

from .sheets import SheetSet

MISSING_COLUMN = "required column is missing (the rules are checked once every header is complete)"


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
        return not self.problems

    def raise_if_failed(self, what: str) -> None:
        """ValidationFailed listing every problem, if there is any."""
        if self.problems:
            raise ValidationFailed(
                f"{what}: {len(self.problems)} problem(s); nothing was stored",
                [str(p) for p in self.problems],
            )


def typed_frame(df: pd.DataFrame, sheet: str, protocol: Protocol | None) -> pd.DataFrame:
    """Numbers as floats (unparseable -> NaN, reported by the type pass), booleans as bool."""
    cols = columns_for(sheet, protocol)
    out = df.copy()
    for c in out.columns:
        kind = cols.get(c)
        if kind in ("num", "int"):
            out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
        elif kind == "bool":

            def b(v: Any) -> Any:
                try:
                    return parse_bool(v)
                except ValueError:
                    return None

            out[c] = out[c].map(b).astype(object)
    return out


def _problems(exc: SchemaErrors, sheet: str, label: str, raw: pd.DataFrame) -> list[Problem]:
    out: list[Problem] = []
    seen: set[tuple] = set()
    fc = exc.failure_cases
    records = fc.to_dict("records")
    # a column with a cell that is not a number also fails its column-wide dtype check;
    # the cell-level message is the useful one, so the column-level echo is dropped
    coerced = {
        str(r.get("column")) for r in records
        if str(r.get("check")).startswith("coerce_dtype") and r.get("index") is not None
        and not is_missing(r.get("index"))
    }
    for rec in records:
        check = str(rec.get("check"))
        col = rec.get("column")
        col = None if is_missing(col) else str(col)
        idx = rec.get("index")
        no_row = is_missing(idx)
        if no_row and col in coerced and not check.startswith("column_in_"):
            continue
        if check == "column_in_dataframe":
            p = Problem(
                label, sheet, None, str(rec["failure_case"]), None, MISSING_COLUMN
            )
        elif check == "column_in_schema":
            p = Problem(
                label,
                sheet,
                None,
                str(rec["failure_case"]),
                None,
                "unknown column (not in the format or the protocol's characteristics; "
                "companions must be named X_source / X_location)",
            )
        elif check.startswith("dtype(") and idx is not None:
            continue  # the coerce failure already reports this cell
        else:
            if check.startswith("coerce_dtype"):
                check = "must be a number"
            row = None if no_row else int(idx)
            value = raw.at[row, col] if row is not None and col in raw.columns else None
            p = Problem(label, sheet, None if row is None else row + 2, col, value, check)
        key = (p.sheet, p.row, p.column, p.rule)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def check_sheets(
    sheets: SheetSet,
    protocol: Protocol,
    *,
    stored_studies: set[str] | None = None,
    stored_arms: dict[tuple[str, str], float | None] | None = None,
    names: tuple[str, ...] | None = None,
) -> CheckResult:
    """Validate every sheet lazily; return problems (errors), warnings and typed frames.

    ``stored_studies``/``stored_arms`` let a sheet refer to studies and arms already in the
    registry (an add-trial carrying only new outcome rows).
    """
    result = CheckResult()
    names = names or tuple(sheets.frames)
    ctx = Context(protocol=protocol)
    ctx.stored_studies = set(stored_studies or ())
    arms = stored_arms or {}
    ctx.stored_arms = set(arms)
    ctx.stored_arm_n = {k: float(v) for k, v in arms.items() if v is not None}
    # pass 1: header and types
    for sheet in names:
        if sheet not in sheets.frames:
            result.typed[sheet] = pd.DataFrame()
            continue
        raw = sheets.frame(sheet)
        label = sheets.label(sheet)
        try:
            type_schema(sheet, protocol, list(raw.columns)).validate(raw.copy(), lazy=True)
        except SchemaErrors as exc:
            result.problems.extend(_problems(exc, sheet, label, raw))
        result.typed[sheet] = typed_frame(raw, sheet, protocol)
    ctx.frames = result.typed
    if any(p.rule == MISSING_COLUMN for p in result.problems):
        # every rule reads the columns; with one missing, they would echo the same fault
        # row after row (a missing arm_id fails every outcome row's arm reference)
        return _finish(result, names, sheets, protocol)
    # pass 2: rules (on typed frames, with every sheet in view)
    for sheet in names:
        raw = sheets.frame(sheet)
        if raw.empty:
            continue
        try:
            rule_schema(sheet, ctx).validate(result.typed[sheet], lazy=True)
        except SchemaErrors as exc:
            result.problems.extend(_problems(exc, sheet, sheets.label(sheet), raw))
    return _finish(result, names, sheets, protocol)


def _finish(
    result: CheckResult, names: tuple[str, ...], sheets: SheetSet, protocol: Protocol
) -> CheckResult:
    """Problems in sheet, row, column order; reading and design warnings appended."""
    result.problems.sort(key=lambda p: (names.index(p.sheet), p.row or 0, p.column or ""))
    result.warnings.extend(sheets.warnings)
    result.warnings.extend(design_warnings(result.typed.get("studies"), protocol))
    return result


def is_rct(design_assessed: Any, design_reported: Any) -> bool:
    """The team's assessment decides; without one, what the paper reports."""
    if isinstance(design_assessed, str) and design_assessed:
        return design_assessed == "RCT"
    return isinstance(design_reported, str) and design_reported.strip().upper() == "RCT"


def design_warnings(studies: pd.DataFrame | None, protocol: Protocol) -> list[str]:
    """A warning per study whose design does not meet an RCT-only protocol (kept, flagged)."""
    if studies is None or studies.empty or not protocol.question.rct_only:
        return []
    out = []
    for rec in studies.to_dict("records"):
        da, dr = rec.get("design_assessed"), rec.get("design_reported")
        if not is_rct(da, dr):
            shown = da or dr or "not stated"
            out.append(
                f"study {rec.get('study_id')}: design {shown!r} (reported {dr or '-'}) does not "
                f"meet the protocol's '{protocol.question.study_designs}'; kept, flagged as "
                f"non-randomised and left out of RCT-only analyses"
            )
    return out
