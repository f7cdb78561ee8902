"""pandera schemas for the five extraction sheets and the published-results sheet.

Validation runs in two lazy passes per sheet so a curator sees every problem at once:

1. :func:`type_schema` — the header (required columns present, no unknown column) and the
   cell types (numbers parse, whole numbers are whole);
2. :func:`rule_schema` — the rules on the typed frame, including rules that look at other
   columns and other sheets (ids resolve, ``n_analysed <= n_randomised``, units known for the
   outcome, values inside the plausible range after unit conversion, every value sourced).

Every check carries its rule text as ``error`` so the failure case reads as the rule.
The column lists in :data:`SHEETS` are also what the store keeps and what export writes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from scipy.special import ndtri, stdtrit

from schemas.protocol import DESIGNS, Protocol
from schemas.sheet_format import (
    BOOL_TEXT,
    DERIVED_MARK,
    DOI_RE,
    ID_RE,
    INCLUDED_IN,
    KEYS,
    MEASURES,
    MODELS,
    NCT_RE,
    NOT_EMPTY,
    OUTCOMES,
    PMID_RE,
    REQUIRED,
    ROB_DOMAINS,
    ROB_JUDGEMENTS,
    ROLES,
    SOURCE_SUFFIXES,
    VALUE_TYPES,
    valid_source,
)
from schemas.values import is_missing, parse_p, printed_decimals


# --------------------------------------------------------------------------------------
# context shared by the rule checks (all sheets, typed)
# --------------------------------------------------------------------------------------
@dataclass
class Context:
    """Typed frames of every sheet plus the protocol, for cross-sheet rules."""

    protocol: Protocol
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    # ids already in the store for this review (add-trial may reference stored studies)
    stored_studies: set[str] = field(default_factory=set)
    stored_arms: set[tuple[str, str]] = field(default_factory=set)
    stored_arm_n: dict[tuple[str, str], float] = field(default_factory=dict)

    def frame(self, sheet: str) -> pd.DataFrame:
        """A sheet's typed frame (empty if the sheet was not given)."""
        return self.frames.get(sheet, pd.DataFrame())

    def col(self, sheet: str, column: str) -> pd.Series:
        """A column of a sheet, or an all-missing column if the sheet lacks it."""
        df = self.frame(sheet)
        if column in df.columns:
            return df[column]
        return pd.Series([None] * len(df), index=df.index, dtype=object)

    def study_ids(self) -> set[str]:
        """Study ids a row may refer to: the studies sheet's and the stored ones."""
        return set(self.col("studies", "study_id").dropna()) | self.stored_studies

    def arm_keys(self) -> set[tuple[str, str]]:
        """(study_id, arm_id) pairs a row may refer to: the arms sheet's and the stored ones."""
        keys = set(zip(self.col("arms", "study_id"), self.col("arms", "arm_id"), strict=True))
        return keys | self.stored_arms

    def arm_n(self) -> dict[tuple[str, str], float]:
        """n randomised per (study_id, arm_id), the sheet's overriding the stored."""
        out = dict(self.stored_arm_n)
        for s, a, n in zip(
            self.col("arms", "study_id"),
            self.col("arms", "arm_id"),
            self.col("arms", "n_randomised"),
            strict=True,
        ):
            if not is_missing(n):
                out[(s, a)] = float(n)
        return out


def _na(s: pd.Series) -> pd.Series:
    return s.isna()


def _num(ctx: Context, sheet: str, column: str) -> pd.Series:
    return pd.to_numeric(ctx.col(sheet, column), errors="coerce")


def _check(rule: str, fn: Callable[[pd.Series], pd.Series]) -> pa.Check:
    """A column check whose failure reads as ``rule``; missing cells handled by ``fn``."""

    def run(s: pd.Series) -> pd.Series:
        out = fn(s)
        return out.fillna(False).astype(bool)

    return pa.Check(run, error=rule, ignore_na=False, element_wise=False)


def _not_empty(s: pd.Series) -> pd.Series:
    return s.notna() & (s.astype(object).map(lambda v: str(v).strip() != ""))


def _isin(values: tuple[str, ...] | list[str], what: str) -> pa.Check:
    allowed = set(values)
    return _check(f"{what} must be one of: {', '.join(values)}", lambda s: _na(s) | s.isin(allowed))


# --------------------------------------------------------------------------------------
# pass 1: header and cell types
# --------------------------------------------------------------------------------------
def type_schema(sheet: str, cols: dict[str, str]) -> pa.DataFrameSchema:
    """Header and cell-type schema of a sheet with columns ``cols`` (from
    :func:`schemas.sheet_format.columns_for`): required columns, no unknown columns, numbers
    parse. It depends on the protocol only, so a review builds it once."""
    spec: dict[str, pa.Column] = {}
    for name, kind in cols.items():
        required = name in REQUIRED.get(sheet, ())
        if kind in ("num", "int"):
            checks = [_check("must be a whole number", lambda s: _na(s) | (s == np.floor(s)))]
            spec[name] = pa.Column(float, nullable=True, coerce=True, required=required,
                                   checks=checks if kind == "int" else [])  # fmt: skip
        elif kind == "bool":
            is_bool = _check(
                "must be true or false (or empty)",
                lambda s: s.map(lambda v: pd.isna(v) or str(v).strip().lower() in BOOL_TEXT),
            )
            spec[name] = pa.Column(nullable=True, required=required, checks=[is_bool])
        else:
            spec[name] = pa.Column(nullable=True, required=required)
    # companion provenance columns X_source / X_location for any column X of the sheet
    bases = "|".join(re.escape(c) for c in cols)
    suffixes = "|".join(re.escape(x) for x in SOURCE_SUFFIXES)
    spec[f"^({bases})({suffixes})$"] = pa.Column(nullable=True, required=False, regex=True)
    return pa.DataFrameSchema(spec, strict=True, name=sheet)


# --------------------------------------------------------------------------------------
# pass 2: rules
# --------------------------------------------------------------------------------------
def _sourced(ctx: Context, sheet: str, column: str) -> Callable[[pd.Series], pd.Series]:
    """A filled value needs the row's source or its own ``column_source``."""
    row_src = _not_empty(ctx.col(sheet, "source"))
    own = _not_empty(ctx.col(sheet, f"{column}_source"))
    return lambda s: _na(s) | row_src | own


def _common(sheet: str, ctx: Context, cols: dict[str, str]) -> dict[str, list[pa.Check]]:
    """Rules every sheet shares: filled keys, id form, sources, sourced numbers."""
    checks: dict[str, list[pa.Check]] = {c: [] for c in cols}
    for c in NOT_EMPTY.get(sheet, ()):
        checks[c].append(_check("required value is empty", _not_empty))
    for c in ("study_id", "arm_id", "result_id"):
        if c in checks:
            checks[c].append(
                _check(
                    "id may hold only letters, digits, '_', '.' and '-'",
                    lambda s: _na(s) | s.astype(object).map(lambda v: bool(ID_RE.match(str(v)))),
                )
            )
    checks["source"].append(
        _check(
            "source must be a DOI (10.xxxx/...) or an http(s) URL; several separated by ';'",
            lambda s: s.map(valid_source),
        )
    )
    df = ctx.frame(sheet)
    for c in df.columns:
        if c.endswith("_source") and c != "source" and c not in checks:
            checks[c] = [
                _check(
                    "source must be a DOI (10.xxxx/...) or an http(s) URL",
                    lambda s: s.map(valid_source),
                )
            ]
    # text rows without any source: rows with any filled non-key text and no row source
    text_cols = [
        c
        for c, k in cols.items()
        if k in ("str", "bool")
        and c not in KEYS.get(sheet, ())
        and c not in ("source", "location", "notes", "derivation")
    ]
    if text_cols and len(df):
        unsourced = pd.Series(False, index=df.index)
        for c in text_cols:
            if c in df.columns:
                unsourced |= _not_empty(df[c]) & ~_not_empty(ctx.col(sheet, f"{c}_source"))
        has_src = _not_empty(ctx.col(sheet, "source"))
        checks["source"].append(
            _check(
                "row has values but no source (fill source, or X_source for each value)",
                lambda s: has_src | ~unsourced,
            )
        )
    for c, kind in cols.items():
        if kind in ("num", "int"):
            checks[c].append(
                _check(f"value has no source (fill source or {c}_source)", _sourced(ctx, sheet, c))
            )
    return checks


def _dup(frame: pd.DataFrame, keys: tuple[str, ...]) -> pd.Series:
    cols = [k for k in keys if k in frame.columns]
    if not cols:
        return pd.Series(False, index=frame.index)
    sub = frame[cols].astype(object).where(frame[cols].notna(), "")
    return sub.duplicated(keep=False)


def _studies_rules(ctx: Context, cols: dict[str, str]) -> dict[str, list[pa.Check]]:
    checks = _common("studies", ctx, cols)
    df = ctx.frame("studies")
    checks["study_id"].append(_check("study_id must be unique", lambda s: ~_dup(df, ("study_id",))))
    checks["year"].append(
        _check("year must lie in 1900-2100", lambda s: _na(s) | ((s >= 1900) & (s <= 2100)))
    )
    checks["pmid"].append(
        _check(
            "PMID must be digits only (e.g. 21989829)",
            lambda s: _na(s) | s.astype(object).map(lambda v: bool(PMID_RE.match(str(v)))),
        )
    )
    checks["doi"].append(
        _check(
            "DOI must look like 10.xxxx/suffix (no https://doi.org/ prefix)",
            lambda s: _na(s) | s.astype(object).map(lambda v: bool(DOI_RE.match(str(v)))),
        )
    )
    checks["registration"].append(
        _check(
            "an NCT registration must be NCT followed by 8 digits",
            lambda s: (
                _na(s)
                | s.astype(object).map(
                    lambda v: not str(v).upper().startswith("NCT") or bool(NCT_RE.match(str(v)))
                )
            ),
        )
    )
    checks["design_assessed"].append(_isin(DESIGNS, "design_assessed"))
    checks["included_in"].append(_isin(INCLUDED_IN, "included_in"))
    for ch in ctx.protocol.characteristics:
        if ch.type == "category":
            checks[ch.id].append(_isin(ch.levels, ch.id))
        elif ch.type == "number":
            checks[ch.id].append(_check(f"{ch.id} must be >= 0", lambda s: _na(s) | (s >= 0)))
            if ch.plausible_range is not None:
                lo, hi = ch.plausible_range
                checks[ch.id].append(
                    _check(
                        f"{ch.id} outside the protocol's plausible range [{lo:g}, {hi:g}] "
                        "(check the unit and the power of ten)",
                        lambda s, lo=lo, hi=hi: _na(s) | ((s >= lo) & (s <= hi)),
                    )
                )
    # every study with arms needs an experimental and a control arm
    roles: dict[str, set[str]] = {}
    for sid, role in zip(ctx.col("arms", "study_id"), ctx.col("arms", "role"), strict=True):
        roles.setdefault(sid, set()).add(role)
    checks["study_id"].append(
        _check(
            "study has arms but not both an experimental and a control arm",
            lambda s: s.map(lambda v: v not in roles or set(ROLES) <= roles[v]),
        )
    )
    return checks


def _ref_study(ctx: Context) -> pa.Check:
    ids = ctx.study_ids()
    return _check(
        "study_id is not in the studies sheet (or the registry)", lambda s: _na(s) | s.isin(ids)
    )


def _ref_arm(ctx: Context, sheet: str, optional: bool) -> pa.Check:
    keys = ctx.arm_keys()
    sids = ctx.col(sheet, "study_id")

    def ok(s: pd.Series) -> pd.Series:
        pairs = pd.Series(list(zip(sids, s, strict=True)), index=s.index)
        res = pairs.map(lambda p: p in keys)
        return (_na(s) | res) if optional else res

    return _check("arm_id is not an arm of this study in the arms sheet", ok)


def _arms_rules(ctx: Context, cols: dict[str, str]) -> dict[str, list[pa.Check]]:
    checks = _common("arms", ctx, cols)
    df = ctx.frame("arms")
    checks["study_id"].append(_ref_study(ctx))
    checks["arm_id"].append(
        _check("arm_id must be unique within its study", lambda s: ~_dup(df, KEYS["arms"]))
    )
    checks["role"].append(_isin(ROLES, "role"))
    nr = _num(ctx, "arms", "n_randomised")
    checks["n_randomised"].append(_check("n must be > 0", lambda s: _na(s) | (s > 0)))
    checks["n_analysed"].append(_check("n must be > 0", lambda s: _na(s) | (s > 0)))
    checks["n_analysed"].append(
        _check("n_analysed must be <= n_randomised", lambda s: _na(s) | nr.isna() | (s <= nr))
    )
    return checks


def _outcome_of(ctx: Context) -> pd.Series:
    by_id = {o.id: o for o in ctx.protocol.outcomes}
    return ctx.col("outcomes", "outcome").map(lambda v: by_id.get(v))


@dataclass(frozen=True)
class _OutcomeRows:
    """The outcomes sheet as the rules read it: typed numbers, each row's protocol outcome."""

    df: pd.DataFrame
    outcome: pd.Series  # protocol Outcome per row (None if unknown)
    num: dict[str, pd.Series]
    unit: pd.Series
    vtype: pd.Series  # value_type, empty = final
    rand: pd.Series  # the arm's n_randomised


def _outcomes_rules(ctx: Context, cols: dict[str, str]) -> dict[str, list[pa.Check]]:
    checks = _common("outcomes", ctx, cols)
    rows = _OutcomeRows(
        df=ctx.frame("outcomes"),
        outcome=_outcome_of(ctx),
        num={c: _num(ctx, "outcomes", c) for c, k in OUTCOMES.items() if k in ("num", "int")},
        unit=ctx.col("outcomes", "unit"),
        vtype=ctx.col("outcomes", "value_type").map(lambda v: "final" if v is None else v),
        rand=_randomised(ctx, "outcomes"),
    )
    _outcome_identity(ctx, rows, checks)
    _outcome_numbers(rows, checks)
    _outcome_dispersion(ctx, rows, checks)
    _outcome_plausible(rows, checks)
    return checks


def _outcome_identity(ctx: Context, rows: _OutcomeRows, checks: dict[str, list[pa.Check]]) -> None:
    """References, keys and units: what a row is about."""
    df, outc, vtype, proto = rows.df, rows.outcome, rows.vtype, ctx.protocol
    checks["study_id"].append(_ref_study(ctx))
    checks["arm_id"].append(_ref_arm(ctx, "outcomes", optional=False))
    checks["outcome"].append(_isin([o.id for o in proto.outcomes], "outcome (protocol outcomes)"))
    checks["time_point"].append(
        _check(
            "duplicate row: same study, arm, outcome, time point and value type",
            lambda s: ~_dup(df.assign(value_type=vtype), KEYS["outcomes"]),
        )
    )
    checks["time_weeks"].append(_check("time_weeks must be >= 0", lambda s: _na(s) | (s >= 0)))
    checks["value_type"].append(_isin(VALUE_TYPES, "value_type"))

    def unit_ok(s: pd.Series) -> pd.Series:
        return pd.Series(
            [
                o is None or o.kind == "dichotomous" or o.knows_unit(u)
                for o, u in zip(outc, s, strict=True)
            ],
            index=s.index,
        )

    known = {o.id: ", ".join(o.units) for o in proto.outcomes if o.kind == "continuous"}
    checks["unit"].append(
        _check(
            "unit not accepted for this outcome by the protocol ("
            + "; ".join(f"{k}: {v}" for k, v in known.items())
            + ")",
            unit_ok,
        )
    )


def _outcome_numbers(rows: _OutcomeRows, checks: dict[str, list[pa.Check]]) -> None:
    """Signs, pairs and orders of the numbers of one row."""
    num, rand = rows.num, rows.rand
    for c in ("n", "total"):
        checks[c].append(_check(f"{c} must be > 0", lambda s: _na(s) | (s > 0)))
    checks["n"].append(
        _check("n must be <= the arm's n_randomised", lambda s: _na(s) | rand.isna() | (s <= rand))
    )
    for c in ("sd", "se"):
        checks[c].append(_check(f"{c.upper()} must be > 0", lambda s: _na(s) | (s > 0)))
    checks["events"].append(_check("events must be >= 0", lambda s: _na(s) | (s >= 0)))
    denom = num["total"].fillna(num["n"])
    checks["events"].append(
        _check("events must be <= total (or n)", lambda s: _na(s) | denom.isna() | (s <= denom))
    )
    checks["ci_level"].append(
        _check(
            "ci_level must lie strictly between 0 and 1 (e.g. 0.95)",
            lambda s: _na(s) | ((s > 0) & (s < 1)),
        )
    )
    lo, hi = num["ci_lower"], num["ci_upper"]
    checks["ci_upper"].append(
        _check("ci_upper must be > ci_lower", lambda s: _na(s) | lo.isna() | (s > lo))
    )
    checks["ci_lower"].append(
        _check("ci_lower and ci_upper come as a pair", lambda s: _na(s) == hi.isna())
    )
    checks["mean"].append(
        _check(
            "mean must lie inside its CI",
            lambda s: _na(s) | lo.isna() | hi.isna() | ((s >= lo) & (s <= hi)),
        )
    )
    q1, q3, mn, mx = num["q1"], num["q3"], num["min"], num["max"]
    checks["q1"].append(_check("q1 and q3 come as a pair", lambda s: _na(s) == q3.isna()))
    checks["min"].append(_check("min and max come as a pair", lambda s: _na(s) == mx.isna()))
    checks["median"].append(
        _check(
            "median must lie between q1 and q3",
            lambda s: _na(s) | q1.isna() | q3.isna() | ((q1 <= s) & (s <= q3)),
        )
    )
    checks["median"].append(
        _check(
            "median must lie between min and max",
            lambda s: _na(s) | mn.isna() | mx.isna() | ((mn <= s) & (s <= mx)),
        )
    )
    checks["q3"].append(_check("q3 must be >= q1", lambda s: _na(s) | q1.isna() | (s >= q1)))
    checks["max"].append(_check("max must be >= min", lambda s: _na(s) | mn.isna() | (s >= mn)))


def _outcome_dispersion(
    ctx: Context, rows: _OutcomeRows, checks: dict[str, list[pa.Check]]
) -> None:
    """An SD agreeing with the SE / CI given beside it, and a value pooling can use."""
    num, df = rows.num, rows.df
    kind = rows.outcome.map(lambda o: None if o is None else o.kind)
    sd_ok = _sd_agrees(num, ctx.col("outcomes", "derivation"), num["n"].fillna(rows.rand))
    checks["sd"].append(
        _check(
            "SD contradicts the SE or the CI given for the same arm (SD = SE x sqrt(n), or "
            "sqrt(n) x CI width / (2 x t or z); Cochrane Handbook 6.5.2.2), beyond rounding "
            "and 10 %: is one of them an SE, or a CI of something else?",
            lambda s: sd_ok,
        )
    )

    # a usable dispersion: what pooling (after derivation) can use
    has = {c: num[c].notna() for c in num}
    cont_ok = (has["mean"] & (has["sd"] | has["se"] | (has["ci_lower"] & has["ci_upper"]))) | (
        has["median"] & ((has["q1"] & has["q3"]) | (has["min"] & has["max"]))
    )
    dich_ok = has["events"] & (has["total"] | has["n"])
    usable = pd.Series(
        [
            k is None or (k == "continuous" and c) or (k == "dichotomous" and d)
            for k, c, d in zip(kind, cont_ok, dich_ok, strict=True)
        ],
        index=df.index,
    )
    blame = "sd" if "sd" in df.columns else ("events" if "events" in df.columns else "source")
    checks[blame].append(
        _check(
            "no usable value: continuous needs mean with SD, SE or CI, or median with IQR or "
            "range; dichotomous needs events with total or n",
            lambda s: usable,
        )
    )



def _outcome_plausible(rows: _OutcomeRows, checks: dict[str, list[pa.Check]]) -> None:
    """Means and medians inside the outcome's plausible range, in its canonical unit."""
    outc, unit, vtype = rows.outcome, rows.unit, rows.vtype

    # plausible range after unit conversion (final values; a change may span the range width)
    def in_range(col: str) -> Callable[[pd.Series], pd.Series]:
        def ok(s: pd.Series) -> pd.Series:
            res = []
            for o, u, v, vt in zip(outc, unit, s, vtype, strict=True):
                if o is None or o.plausible_range is None or pd.isna(v) or not o.knows_unit(u):
                    res.append(True)
                    continue
                x = o.to_canonical(float(v), u)
                lo_, hi_ = o.plausible_range
                res.append(lo_ <= x <= hi_ if vt == "final" else abs(x) <= hi_ - lo_)
            return pd.Series(res, index=s.index)

        return ok

    for c in ("mean", "median"):
        checks[c].append(
            _check(
                "value outside the outcome's plausible range after unit conversion "
                "(check the unit and the decimal point)",
                in_range(c),
            )
        )


def _randomised(ctx: Context, sheet: str) -> pd.Series:
    """Per row of ``sheet``: its arm's n_randomised (sheet or registry; NaN if unknown)."""
    arm_n = ctx.arm_n()
    sid, aid = ctx.col(sheet, "study_id"), ctx.col(sheet, "arm_id")
    return pd.Series(
        [arm_n.get((a, b), np.nan) for a, b in zip(sid, aid, strict=True)],
        index=ctx.frame(sheet).index, dtype=float,
    )  # fmt: skip


def _half_unit(x: float) -> float:
    """Half a unit of the last printed digit of ``x`` (its rounding error)."""
    return 0.5 * 10.0 ** -printed_decimals(x)


def _sd_agrees(num: dict[str, pd.Series], derivation: pd.Series, n: pd.Series) -> pd.Series:
    """Per row: False when a curator's SD contradicts the SE or CI of the same arm mean.

    Implied SD (Cochrane Handbook 6.5.2.2): SE x sqrt(n); sqrt(n) x (upper - lower) /
    (2 x c), c the t quantile with n - 1 df below n = 60, else the normal quantile, at
    the row's ci_level (0.95 if empty). Each side is an interval over the rounding of the
    printed numbers; they contradict when those intervals lie more than 10 % apart (the n
    behind a printed SE may differ a little from the n the sheet gives). An SD the registry
    derived itself (derivation 'registry derived ...') is computed from them and skipped.
    """
    ok = []
    derived = derivation.map(lambda d: isinstance(d, str) and d.startswith(DERIVED_MARK))
    for i in num["sd"].index:
        sd, size = num["sd"][i], n[i]
        if pd.isna(sd) or pd.isna(size) or size < 2 or derived[i]:
            ok.append(True)
            continue
        lo_sd, hi_sd = sd - _half_unit(sd), sd + _half_unit(sd)
        implied = []
        se = num["se"][i]
        if not pd.isna(se):
            h = _half_unit(se)
            implied.append(((se - h) * math.sqrt(size), (se + h) * math.sqrt(size)))
        lo, hi = num["ci_lower"][i], num["ci_upper"][i]
        if not pd.isna(lo) and not pd.isna(hi) and hi > lo and not pd.isna(num["mean"][i]):
            level = num["ci_level"][i] if not pd.isna(num["ci_level"][i]) else 0.95
            p = 1 - (1 - level) / 2
            crit = float(stdtrit(size - 1, p)) if size < 60 else float(ndtri(p))
            w, h = hi - lo, _half_unit(lo) + _half_unit(hi)
            f = math.sqrt(size) / (2 * crit)
            implied.append((max(w - h, 0.0) * f, (w + h) * f))
        ok.append(all(hi_sd * 1.1 >= a and lo_sd <= b * 1.1 for a, b in implied))
    return pd.Series(ok, index=num["sd"].index, dtype=bool)


def _rob_rules(ctx: Context, cols: dict[str, str]) -> dict[str, list[pa.Check]]:
    checks = _common("risk_of_bias", ctx, cols)
    df = ctx.frame("risk_of_bias")
    tool = ctx.col("risk_of_bias", "tool")
    checks["study_id"].append(_ref_study(ctx))
    checks["tool"].append(_isin(tuple(ROB_DOMAINS), "tool"))

    def per_tool(table: dict[str, tuple[str, ...]]) -> Callable[[pd.Series], pd.Series]:
        return lambda s: pd.Series(
            [v is None or t not in table or v in table[t] for t, v in zip(tool, s, strict=True)],
            index=s.index,
        )

    checks["domain"].append(
        _check(
            "domain is not a domain of the tool ("
            + "; ".join(f"{t}: {', '.join(d)}" for t, d in ROB_DOMAINS.items())
            + ")",
            per_tool(ROB_DOMAINS),
        )
    )
    checks["judgement"].append(
        _check(
            "judgement not allowed for the tool ("
            + "; ".join(f"{t}: {', '.join(d)}" for t, d in ROB_JUDGEMENTS.items())
            + ")",
            per_tool(ROB_JUDGEMENTS),
        )
    )
    checks["domain"].append(
        _check(
            "duplicate judgement for study, tool and domain",
            lambda s: ~_dup(df, KEYS["risk_of_bias"]),
        )
    )
    return checks


def _ae_rules(ctx: Context, cols: dict[str, str]) -> dict[str, list[pa.Check]]:
    checks = _common("adverse_events", ctx, cols)
    df = ctx.frame("adverse_events")
    checks["study_id"].append(_ref_study(ctx))
    checks["arm_id"].append(_ref_arm(ctx, "adverse_events", optional=True))
    checks["count"].append(_check("count must be >= 0", lambda s: _na(s) | (s >= 0)))
    rand = _randomised(ctx, "adverse_events")
    checks["count"].append(
        _check(
            "count must be <= the arm's n_randomised", lambda s: _na(s) | rand.isna() | (s <= rand)
        )
    )
    checks["event"].append(
        _check(
            "duplicate row: same study, arm and event", lambda s: ~_dup(df, KEYS["adverse_events"])
        )
    )
    return checks


def _published_rules(ctx: Context, cols: dict[str, str]) -> dict[str, list[pa.Check]]:
    checks = _common("published_results", ctx, cols)
    df = ctx.frame("published_results")
    checks["result_id"].append(
        _check("result_id must be unique", lambda s: ~_dup(df, ("result_id",)))
    )
    checks["measure"].append(_isin(MEASURES, "measure"))
    checks["model"].append(_isin(MODELS, "model"))
    for c in ("k", "n_participants", "n_experimental", "n_control"):
        checks[c].append(_check(f"{c} must be > 0", lambda s: _na(s) | (s > 0)))
    checks["i2"].append(
        _check("I² must lie in 0-100 (%)", lambda s: _na(s) | ((s >= 0) & (s <= 100)))
    )
    checks["tau2"].append(_check("tau² must be >= 0", lambda s: _na(s) | (s >= 0)))

    def p_ok(s: pd.Series) -> pd.Series:

        def one(v: Any) -> bool:
            if v is None:
                return True
            try:
                parse_p(v)
            except ValueError:
                return False
            return True

        return s.map(one)

    checks["p_value"].append(
        _check("p_value must be a number in [0, 1], or '<x' / '>x' as printed", p_ok)
    )
    return checks


RULES: dict[str, Callable[[Context, dict[str, str]], dict[str, list[pa.Check]]]] = {
    "studies": _studies_rules,
    "arms": _arms_rules,
    "outcomes": _outcomes_rules,
    "risk_of_bias": _rob_rules,
    "adverse_events": _ae_rules,
    "published_results": _published_rules,
}


def rule_schema(sheet: str, ctx: Context, cols: dict[str, str]) -> pa.DataFrameSchema:
    """Rule schema for a typed sheet with columns ``cols`` (columns absent from the sheet
    are skipped). Rules read other sheets through ``ctx``, so it is built per sheet set."""
    checks = RULES[sheet](ctx, cols)
    present = set(ctx.frame(sheet).columns)
    spec = {
        c: pa.Column(nullable=True, required=False, checks=chk)
        for c, chk in checks.items()
        if chk and c in present
    }
    return pa.DataFrameSchema(spec, strict=False, name=sheet)
