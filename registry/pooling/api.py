"""High-level entry point: one analysis of a table of studies (``analyse``), and its outputs."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtri

from registry.errors import InputError, StatsError
from registry.pooling import around as _around
from registry.pooling.around import (
    EggerResult,
    Fit,
    Sequential,
    SubgroupAnalysis,
    TrimFillResult,
    subgroups_from_fit,
)
from registry.pooling.effects import CONTINUOUS, DICHOTOMOUS, MEASURES, EffectSizes, escalc
from registry.pooling.metareg import MetaRegression, metareg
from registry.pooling.models import MetaResult, rma, rma_mh, rma_mh_dl, rma_peto
from registry.pooling.presets import Preset, get_preset
from schemas.values import Z975, is_missing, is_ratio

ALL_METHODS: tuple[str, ...] = ("FE", "DL", "REML", "PM", "MH", "PETO")
INPUT_COLUMNS: dict[str, tuple[str, ...]] = {
    "continuous": ("n1", "mean1", "sd1", "n2", "mean2", "sd2"),
    "dichotomous": ("events1", "n1", "events2", "n2"),
    "generic": ("yi", "vi"),
}
SMALL_STUDY_MIN_K = 10  # Egger and trim-and-fill only from 10 studies (Handbook 13.3.5.4)


@dataclass(frozen=True)
class Analysis:
    """One meta-analysis of a table: the main model and whatever was asked around it.

    ``studies`` are the labels of the pooled studies (in input order), ``excluded`` the
    labels left out with the reason in ``notes``. OR and RR are on the log scale throughout.
    """

    measure: str
    method: str
    hksj: bool
    preset: str | None
    result: MetaResult
    effect_sizes: EffectSizes
    studies: tuple[str, ...]
    excluded: tuple[str, ...]
    notes: tuple[str, ...]
    subgroups: SubgroupAnalysis | None = None
    by: str | None = None
    leave_one_out: Sequential | None = None
    cumulative: Sequential | None = None
    cumulative_by: str | None = None
    egger: EggerResult | None = None
    trimfill: TrimFillResult | None = None
    metareg: MetaRegression | None = None

    @property
    def log_scale(self) -> bool:
        """True when estimates are log OR / log RR (exponentiate to present them)."""
        return is_ratio(self.measure)

    def to_json_dict(self) -> dict[str, object]:
        """The analysis with the reference files' field names (OR/RR on the log scale)."""
        out: dict[str, object] = {
            "measure": self.measure,
            "method": self.method,
            "hksj": self.hksj,
            "preset": self.preset,
            "scale": "log" if self.log_scale else "identity",
        }
        out.update(self.result.to_json_dict())
        out["method"] = self.method
        out["studies"] = list(self.studies)
        out["yi"] = [float(x) for x in self.effect_sizes.yi]
        out["vi"] = [float(x) for x in self.effect_sizes.vi]
        out["excluded"] = list(self.excluded)
        out["notes"] = list(self.notes)
        if self.subgroups is not None:
            out["subgroups"] = {"by": self.by, **self.subgroups.to_json_dict()}
        if self.leave_one_out is not None:
            d = self.leave_one_out.to_json_dict()
            d["study"] = [self.studies[i] for i in self.leave_one_out.order]
            out["leave_one_out"] = d
        if self.cumulative is not None:
            d = self.cumulative.to_json_dict()
            d["order_by"] = self.cumulative_by
            d["study"] = [self.studies[i] for i in self.cumulative.order]
            out["cumulative"] = d
        if self.egger is not None:
            out["egger"] = self.egger.to_json_dict()
        if self.trimfill is not None:
            out["trimfill"] = {"method": "FE", **self.trimfill.to_json_dict()}
        if self.metareg is not None:
            out["metareg"] = self.metareg.to_json_dict()
        return out


def _kind(measure: str) -> str:
    if measure in CONTINUOUS:
        return "continuous"
    if measure in DICHOTOMOUS:
        return "dichotomous"
    return "generic"


def _column(table: pd.DataFrame, name: str) -> np.ndarray:
    return pd.to_numeric(table[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _bad_numbers(table: pd.DataFrame, cols: Sequence[str], labels: Sequence[str]) -> None:
    """Text in a numeric column is an error, not a silently missing value."""
    for c in cols:
        raw = table[c]
        num = pd.to_numeric(raw, errors="coerce")
        bad = num.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
        for i in np.flatnonzero(bad.to_numpy()):
            raise InputError(
                f"study {labels[i]!r} (row {i + 2}): column {c!r} is not a number: {raw.iloc[i]!r}"
            )


def _order_key(table: pd.DataFrame, col: str) -> np.ndarray:
    """Numbers to sort a cumulative analysis by: numeric values (a year) or dates."""
    raw = table[col]
    num = pd.to_numeric(raw, errors="coerce")
    given = raw.notna() & (raw.astype(str).str.strip() != "")
    if not (num.isna() & given).any():
        return num.to_numpy(dtype=float, na_value=np.nan)
    dates = pd.to_datetime(raw, errors="coerce", format="mixed")
    bad = dates.isna() & given
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"row {i + 2}: {col!r} = {raw.iloc[i]!r} is neither a number nor a date")
    return np.array([d.timestamp() if not pd.isna(d) else np.nan for d in dates], dtype=float)


@dataclass(frozen=True)
class _Plan:
    """What :func:`analyse` was asked for, resolved against the preset."""

    measure: str
    kind: str
    method: str
    hksj: bool
    preset: Preset | None
    revman_dich: bool  # Review Manager's 2x2 models (MH fixed effect, DL from the MH Q)
    level: float


@dataclass(frozen=True)
class _Pooled:
    """The studies that enter the model and the main fit."""

    idx: np.ndarray  # rows of the table pooled
    labels: list[str]
    sub: dict[str, np.ndarray]
    es: EffectSizes
    main: MetaResult
    fit: Fit | None  # per-subset refit for MH/Peto/RevMan DL; None: inverse variance


def analyse(
    table: pd.DataFrame,
    *,
    measure: str,
    method: str | None = None,
    hksj: bool | None = None,
    preset: str | None = None,
    by: str | None = None,
    leave_one_out: bool = False,
    cumulative: str | None = None,
    study_col: str = "study",
    moderator: str | None = None,
    missing: str = "drop",
    level: float = 0.95,
) -> Analysis:
    """Meta-analyse one table of studies (one row per study).

    Columns: ``n1, mean1, sd1, n2, mean2, sd2`` (MD, SMD, SMD_REVMAN5) | ``events1, n1,
    events2, n2`` (OR, RR, RD) | ``yi, vi`` or ``yi, sei`` or ``yi, ci_lb, ci_ub`` (GEN, on
    the analysis scale, e.g. log HR), optional ``study_col`` label.
    ``method``: FE, DL, REML, PM, MH, PETO (default: the preset's, else REML as metafor).
    ``preset``: "revman5" or "cochrane2025" (see :mod:`registry.pooling.presets`); explicit
    ``method``/``hksj`` override it. ``by``: column for subgroups; ``cumulative``: column to
    order a cumulative meta-analysis by; ``moderator``: column for a meta-regression.
    Egger's test and trim-and-fill (FE, L0) are added when 10 or more studies are pooled.
    ``missing="drop"`` leaves out studies with missing numbers, naming each in ``notes`` (as
    metafor's na.omit); ``"error"`` raises StatsError naming the first one instead.
    Repeated study labels are allowed (rows stay distinct) and numbered in the output as
    metafor does ("Rosenthal.1", "Rosenthal.2").
    """
    plan = _plan(measure, method, hksj, preset, missing, level)
    if not isinstance(table, pd.DataFrame) or len(table) == 0:
        raise StatsError("the table has no studies")
    labels_all = _study_labels(table, study_col)
    cols, notes = _input_columns(table, plan, labels_all)
    for c in (by, cumulative, moderator):
        if c and c not in table.columns:
            raise InputError(f"column {c!r} not found; columns are {', '.join(table.columns)}")
    keep, excluded = _rows_to_pool(cols, labels_all, plan, missing, notes)
    pooled = _pool(cols, keep, labels_all, plan, notes)
    y, v = pooled.es.yi, pooled.es.vi
    eg, tf = _small_study_tests(y, v, plan, pooled.labels, notes)
    return Analysis(
        measure=plan.measure, method=plan.method, hksj=plan.hksj,
        preset=plan.preset.name if plan.preset else None, result=pooled.main,
        effect_sizes=pooled.es, studies=tuple(pooled.labels), excluded=tuple(excluded),
        subgroups=_subgroups(table, by, pooled, plan, notes) if by else None, by=by,
        leave_one_out=(_around.leave_one_out(y, v, method=plan.method, hksj=plan.hksj,
                                             level=level, measure=plan.measure,
                                             labels=pooled.labels, fit=pooled.fit)
                       if leave_one_out else None),
        cumulative=_cumulative(table, cumulative, pooled, plan) if cumulative else None,
        cumulative_by=cumulative, egger=eg, trimfill=tf,
        metareg=_metareg(table, moderator, pooled, plan) if moderator else None,
        notes=tuple(notes),
    )


def _plan(measure: str, method: str | None, hksj: bool | None, preset: str | None,
          missing: str, level: float) -> _Plan:
    """Check the options and resolve them against the preset (explicit options win)."""
    measure = measure.upper()
    if measure not in MEASURES:
        raise StatsError(f"unknown measure {measure!r}; use one of {', '.join(MEASURES)}")
    if missing not in ("drop", "error"):
        raise StatsError(f"missing must be 'drop' or 'error', not {missing!r}")
    pre: Preset | None = get_preset(preset) if preset else None
    if pre is not None and pre.smd and measure == "SMD":
        measure = pre.smd
    kind = _kind(measure)
    meth = (method or (pre.method if pre else "REML")).upper()
    if meth not in ALL_METHODS:
        raise StatsError(f"unknown method {meth!r}; use one of {', '.join(ALL_METHODS)}")
    if meth in ("MH", "PETO") and kind != "dichotomous":
        raise StatsError(f"method {meth} needs events (OR, RR, RD), not measure {measure}")
    if meth == "PETO" and measure != "OR":
        raise StatsError("Peto's method pools odds ratios only (use --measure OR)")
    use_hksj = bool(hksj if hksj is not None else (pre.hksj if pre else False))
    if use_hksj and meth in ("MH", "PETO"):
        raise StatsError(f"the HKSJ adjustment applies to inverse-variance models, not {meth}")
    revman_dich = pre is not None and pre.dichotomous == "MH" and kind == "dichotomous"
    if revman_dich and meth == "FE":
        meth = "MH"  # Review Manager's fixed effect for dichotomous data is Mantel-Haenszel
    return _Plan(measure, kind, meth, use_hksj, pre, revman_dich, level)


def _study_labels(table: pd.DataFrame, study_col: str) -> list[str]:
    """Row labels; repeated ones numbered ".1", ".2" as metafor's ``.make.unique`` does."""
    labels = ([str(x) for x in table[study_col].tolist()] if study_col in table.columns
              else [str(i + 1) for i in range(len(table))])
    counts = Counter(labels)
    seen: Counter[str] = Counter()
    out = []
    for lab in labels:
        if counts[lab] > 1:
            seen[lab] += 1
            lab = f"{lab}.{seen[lab]}"
        out.append(lab)
    return out


def _input_columns(table: pd.DataFrame, plan: _Plan,
                   labels: list[str]) -> tuple[dict[str, np.ndarray], list[str]]:
    """The numeric input columns of the measure (GEN: yi with vi, sei or a CI) and notes."""
    need = list(INPUT_COLUMNS[plan.kind])
    if plan.kind == "generic" and "vi" not in table.columns:
        if "sei" in table.columns:
            need = ["yi", "sei"]
        elif {"ci_lb", "ci_ub"} <= set(table.columns):
            need = ["yi", "ci_lb", "ci_ub"]
    absent = [c for c in need if c not in table.columns]
    if absent:
        raise InputError(f"measure {plan.measure} needs columns {', '.join(need)}; "
                         f"missing: {', '.join(absent)}")
    _bad_numbers(table, need, labels)
    cols = {c: _column(table, c) for c in need}
    notes: list[str] = []
    if "sei" in cols:
        cols = {"yi": cols["yi"], "vi": cols["sei"] ** 2}
    elif "ci_lb" in cols:
        # SE from a CI on the analysis scale (Cochrane Handbook 6.3.1): (ub - lb) / (2 z)
        se = (cols["ci_ub"] - cols["ci_lb"]) / (2 * float(ndtri(1 - (1 - plan.level) / 2)))
        notes.append(f"vi derived from ci_lb/ci_ub as ((ci_ub - ci_lb) / (2 z_{plan.level:g}))^2")
        cols = {"yi": cols["yi"], "vi": se**2}
    return cols, notes


def _rows_to_pool(cols: dict[str, np.ndarray], labels: list[str], plan: _Plan, missing: str,
                  notes: list[str]) -> tuple[np.ndarray, list[str]]:
    """Rows with every number (as metafor's na.omit) and, for Review Manager, without double
    zero tables; the labels left out (each with a note)."""
    excluded: list[str] = []
    miss = np.zeros(len(labels), dtype=bool)
    for c in cols.values():
        miss |= np.isnan(c)
    for i in np.flatnonzero(miss):
        names = [c for c, a in cols.items() if np.isnan(a[i])]
        msg = f"study {labels[i]!r} (row {i + 2}): missing {', '.join(names)}"
        if missing == "error":
            raise StatsError(msg)
        notes.append(msg + "; left out")
        excluded.append(labels[i])
    keep = ~miss
    pre = plan.preset
    if plan.kind == "dichotomous" and pre is not None and pre.drop00 and is_ratio(plan.measure):
        e1, e2 = cols["events1"], cols["events2"]
        both0 = keep & (((e1 == 0) & (e2 == 0)) | ((e1 == cols["n1"]) & (e2 == cols["n2"])))
        for i in np.flatnonzero(both0):
            what = "no events" if e1[i] == 0 else "only events"
            notes.append(f"study {labels[i]!r}: {what} in both arms; left out of the "
                         f"{plan.measure} (Review Manager)")
            excluded.append(labels[i])
        keep &= ~both0
    return keep, excluded


def _pool(cols: dict[str, np.ndarray], keep: np.ndarray, labels_all: list[str], plan: _Plan,
          notes: list[str]) -> _Pooled:
    """Effect sizes of the pooled rows and the main model."""
    idx = np.flatnonzero(keep)
    if idx.size == 0:
        raise StatsError("no study has the numbers this analysis needs")
    labels = [labels_all[i] for i in idx]
    sub = {c: a[idx] for c, a in cols.items()}
    es = escalc(plan.measure, labels=labels, **sub)
    notes.extend(es.notes)
    fit = _two_by_two_fit(sub, es, labels, plan)
    if fit is not None:
        main = fit(np.arange(idx.size))
    else:  # inverse variance: the around-functions fit it themselves (vectorised)
        main = rma(es.yi, es.vi, method=plan.method, hksj=plan.hksj, level=plan.level,
                   measure=plan.measure, labels=labels)
    return _Pooled(idx, labels, sub, es, main, fit)


def _two_by_two_fit(sub: dict[str, np.ndarray], es: EffectSizes, labels: list[str],
                    plan: _Plan) -> Fit | None:
    """Refit on a subset of studies for MH, Peto and Review Manager's DL (None otherwise)."""
    meth, measure, level = plan.method, plan.measure, plan.level
    if not (meth in ("MH", "PETO") or (plan.revman_dich and meth == "DL")):
        return None
    e1, t1, e2, t2 = sub["events1"], sub["n1"], sub["events2"], sub["n2"]
    y, v = es.yi, es.vi

    def fit(ix: np.ndarray) -> MetaResult:
        labs = [labels[i] for i in ix]
        if meth == "MH":
            return rma_mh(e1[ix], t1[ix], e2[ix], t2[ix], measure, level=level, labels=labs)
        if meth == "PETO":
            return rma_peto(e1[ix], t1[ix], e2[ix], t2[ix], level=level, labels=labs)
        if ix.size == 1:
            return rma(y[ix], v[ix], method="FE", level=level, measure=measure, labels=labs,
                       tau2_ci=False)
        return rma_mh_dl(e1[ix], t1[ix], e2[ix], t2[ix], measure, level=level, labels=labs)

    return fit


def _subgroups(table: pd.DataFrame, by: str, pooled: _Pooled, plan: _Plan,
               notes: list[str]) -> SubgroupAnalysis:
    """The model within each level of ``by``; an empty cell is the subgroup "missing"."""
    groups = []
    for lab, g in zip(pooled.labels, table[by].iloc[pooled.idx].tolist(), strict=True):
        if is_missing(g) or str(g).strip() == "":
            notes.append(f"study {lab!r}: no value in {by!r}; subgroup 'missing'")
            groups.append("missing")
        else:
            groups.append(str(g))
    if pooled.fit is not None:
        return subgroups_from_fit(groups, pooled.fit)
    return _around.subgroups(pooled.es.yi, pooled.es.vi, groups, method=plan.method,
                             hksj=plan.hksj, level=plan.level, measure=plan.measure,
                             labels=pooled.labels)


def _cumulative(table: pd.DataFrame, col: str, pooled: _Pooled, plan: _Plan) -> Sequential:
    """Cumulative meta-analysis in ascending order of ``col`` (numbers or dates)."""
    key = _order_key(table, col)[pooled.idx]
    return _around.cumulative(pooled.es.yi, pooled.es.vi, order=key, method=plan.method,
                              hksj=plan.hksj, level=plan.level, measure=plan.measure,
                              labels=pooled.labels, fit=pooled.fit)


def _small_study_tests(y: np.ndarray, v: np.ndarray, plan: _Plan, labels: list[str],
                       notes: list[str]) -> tuple[EggerResult | None, TrimFillResult | None]:
    """Egger's test and trim-and-fill from 10 studies; a failure is a note, never fatal."""
    if y.size < SMALL_STUDY_MIN_K:
        return None, None
    eg = tf = None
    try:
        eg = _around.egger(y, v, labels=labels)
    except StatsError as exc:
        notes.append(f"Egger's test not computed: {exc}")
    try:
        tf = _around.trimfill(y, v, method="FE", measure=plan.measure, labels=labels)
    except StatsError as exc:
        notes.append(f"trim-and-fill not computed: {exc}")
    return eg, tf


def _metareg(table: pd.DataFrame, moderator: str, pooled: _Pooled,
             plan: _Plan) -> MetaRegression:
    """Meta-regression on one column (REML where the main model is MH or Peto)."""
    meth = plan.method if plan.method in ("FE", "DL", "REML", "PM") else "REML"
    return metareg(pooled.es.yi, pooled.es.vi, _column(table, moderator)[pooled.idx],
                           method=meth, hksj=plan.hksj, level=plan.level,
                           labels=pooled.labels)


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV of studies (InputError naming the file when it cannot be read)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: file not found")
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, na_values=["", "NA", "NaN"])
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{p}: cannot read as CSV ({exc})") from None
    df.columns = [str(c).strip() for c in df.columns]
    return df


# Fields a CSV column can be mapped to (``--map col=field``): the input columns of
# :func:`analyse`, the study label, and the non-events of a 2x2 table (metafor's bi/di:
# n = events + non-events), as data sets such as metadat's dat.bcg give them.
MAP_FIELDS: tuple[str, ...] = (
    "study", "n1", "mean1", "sd1", "n2", "mean2", "sd2", "events1", "events2", "nonevents1",
    "nonevents2", "yi", "vi", "sei", "ci_lb", "ci_ub",
)


def parse_mapping(items: Sequence[str]) -> dict[str, str]:
    """``["n1i=n1", "m1i=mean1"]`` -> {column: field}; InputError naming a bad item."""
    out: dict[str, str] = {}
    for item in items:
        col, sep, fld = (x.strip() for x in item.partition("="))
        if not sep or not col or not fld:
            raise InputError(f"--map {item!r}: write COLUMN=FIELD, e.g. n1i=n1")
        if fld not in MAP_FIELDS:
            raise InputError(f"--map {item!r}: unknown field {fld!r}; fields are "
                             f"{', '.join(MAP_FIELDS)}")
        if fld in out.values():
            raise InputError(f"--map {item!r}: field {fld!r} is mapped twice")
        if col in out:
            raise InputError(f"--map {item!r}: column {col!r} is mapped twice")
        out[col] = fld
    return out


def map_columns(table: pd.DataFrame, mapping: dict[str, str], source: str) -> pd.DataFrame:
    """Rename the table's columns to analysis fields (the file itself is not changed).

    ``nonevents1``/``nonevents2`` become ``n1 = events1 + nonevents1`` (and arm 2 alike).
    A column mapped to ``study`` replaces a ``study`` column the file already has.
    """
    absent = [c for c in mapping if c not in table.columns]
    if absent:
        raise InputError(f"{source}: --map names column(s) {', '.join(map(repr, absent))} "
                         f"that the file lacks; its columns are {', '.join(table.columns)}")
    clash = [f for c, f in mapping.items() if f in table.columns and f not in mapping]
    if "study" in clash:
        # the user named the label column: the file's own "study" column is not used
        table = table.drop(columns="study")
        clash.remove("study")
    if clash:
        raise InputError(f"{source}: --map would give two columns the name "
                         f"{', '.join(map(repr, clash))}; the file already has a column of "
                         "that name")
    out = table.rename(columns=mapping)
    for arm in ("1", "2"):
        non = f"nonevents{arm}"
        if non not in out.columns:
            continue
        if f"events{arm}" not in out.columns or f"n{arm}" in out.columns:
            raise InputError(f"{source}: --map ...={non} needs events{arm} mapped and no "
                             f"n{arm} (n{arm} is events{arm} + {non})")
        labels = _study_labels(out, "study")
        _bad_numbers(out, [f"events{arm}", non], labels)
        out[f"n{arm}"] = _column(out, f"events{arm}") + _column(out, non)
    return out


def meta_csv(
    path: str | Path,
    *,
    measure: str | None = None,
    method: str | None = None,
    hksj: bool | None = None,
    preset: str | None = None,
    by: str | None = None,
    leave_one_out: bool = False,
    cumulative: str | None = None,
    mapping: Sequence[str] = (),
) -> Analysis:
    """``registry meta INPUT.csv``: read the CSV and :func:`analyse` it.

    ``mapping``: ``COLUMN=FIELD`` items naming which CSV column holds which input field
    (see :data:`MAP_FIELDS`), so a published data set is read as it is. Without
    ``measure``, a table with ``yi`` is analysed as GEN; otherwise the measure is required
    (MD vs SMD, OR vs RR is a choice the user makes).
    """
    table = read_table(path)
    if mapping:
        table = map_columns(table, parse_mapping(mapping), str(path))
    if measure is None:
        if "yi" in table.columns:
            measure = "GEN"
        else:
            raise InputError(f"{path}: give --measure (one of {', '.join(MEASURES)})")
    try:
        return analyse(table, measure=measure, method=method, hksj=hksj, preset=preset, by=by,
                       leave_one_out=leave_one_out, cumulative=cumulative)
    except StatsError as exc:
        raise StatsError(f"{path}: {exc}") from None


# ----------------------------------------------------------------------------- presentation


def _fmt(x: float | None, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if x != 0 and (abs(x) < 1e-4 or abs(x) >= 1e6):
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}f}"


def _p(x: float) -> str:
    return "<0.0001" if x < 1e-4 else f"{x:.4f}"


def format_table(analysis: Analysis) -> str:
    """A readable text summary; OR and RR are exponentiated here (not in JSON)."""
    a = analysis
    r = a.result
    tr = math.exp if a.log_scale else (lambda x: x)
    scale = f"{a.measure} (exponentiated)" if a.log_scale else a.measure
    model = {"FE": "fixed effect (inverse variance)", "MH": "fixed effect (Mantel-Haenszel)",
             "PETO": "fixed effect (Peto)"}.get(a.method, f"random effects ({a.method})")
    ci = "t (HKSJ)" if r.test == "t" else "z (Wald)"
    lines = [
        f"Meta-analysis: {scale}, {model}, CI: {ci}" + (f", preset {a.preset}" if a.preset else ""),
        f"Studies: k = {r.k}" + (f" ({len(a.excluded)} left out)" if a.excluded else ""),
        "",
        f"{'study':<24}{'estimate':>12}{'95% CI':>26}{'weight %':>10}",
    ]
    crit = Z975
    for lab, yy, vv, w in zip(a.studies, a.effect_sizes.yi, a.effect_sizes.vi,
                              _weights_for_rows(a), strict=True):
        se = math.sqrt(vv)
        lines.append(f"{lab[:23]:<24}{_fmt(tr(yy)):>12}"
                     f"{'[' + _fmt(tr(yy - crit * se)) + ', ' + _fmt(tr(yy + crit * se)) + ']':>26}"
                     f"{_fmt(w, 2) if w is not None else '-':>10}")
    lines += [
        "",
        f"Pooled estimate   {_fmt(tr(r.estimate))}  [{_fmt(tr(r.ci_lb))}, {_fmt(tr(r.ci_ub))}]",
        f"{r.test} = {_fmt(r.stat)}, p = {_p(r.pval)}"
        + (f", df = {r.df}" if r.test == "t" else ""),
    ]
    if r.pi_lb is not None and r.method not in ("FE",):
        lines.append(f"95% prediction interval  [{_fmt(tr(r.pi_lb))}, {_fmt(tr(r.pi_ub))}]")
    t2ci = f" [{_fmt(r.tau2_ci[0])}, {_fmt(r.tau2_ci[1])}]" if r.tau2_ci else ""
    lines.append(f"Heterogeneity: tau2 = {_fmt(r.tau2)}{t2ci}, I2 = {r.i2:.1f}%, "
                 f"H2 = {_fmt(r.h2)}, Q = {_fmt(r.q)} (df = {r.df}, p = {_p(r.q_pval)})")
    if a.subgroups is not None:
        lines += ["", f"Subgroups by {a.by}:"]
        for s in a.subgroups.subgroups:
            sr = s.result
            lines.append(f"  {s.label[:22]:<22} k = {sr.k:<3} {_fmt(tr(sr.estimate)):>10} "
                         f"[{_fmt(tr(sr.ci_lb))}, {_fmt(tr(sr.ci_ub))}]  I2 = {sr.i2:.1f}%")
        t = a.subgroups
        lines.append(f"  Test for subgroup differences: Q = {_fmt(t.q)}, df = {t.df}, "
                     f"p = {_p(t.pval)}, I2 = {t.i2:.1f}%")
    for seq, title in ((a.leave_one_out, "Leave-one-out (omitting)"),
                       (a.cumulative, f"Cumulative (by {a.cumulative_by}, adding)")):
        if seq is None:
            continue
        lines += ["", f"{title}:"]
        for i, res in zip(seq.order, seq.results, strict=True):
            lines.append(f"  {a.studies[i][:22]:<22} {_fmt(tr(res.estimate)):>10} "
                         f"[{_fmt(tr(res.ci_lb))}, {_fmt(tr(res.ci_ub))}]  k = {res.k}")
    if a.egger is not None:
        e = a.egger
        lines += ["", f"Egger's test: bias = {_fmt(e.bias)}, t = {_fmt(e.stat)}, "
                      f"df = {e.dfs}, p = {_p(e.pval)}"]
    if a.trimfill is not None:
        t = a.trimfill
        lines.append(f"Trim-and-fill (FE, L0): {t.k0} studies filled on the {t.side}; adjusted "
                     f"{_fmt(tr(t.estimate))} [{_fmt(tr(t.ci_lb))}, {_fmt(tr(t.ci_ub))}]")
    if a.notes:
        lines += ["", "Notes:"] + [f"  - {n}" for n in a.notes]
    return "\n".join(lines)


def _weights_for_rows(a: Analysis) -> list[float | None]:
    w = a.result.weights_percent
    if len(w) == len(a.studies):
        return list(w)
    return [None] * len(a.studies)
