"""High-level entry point: one analysis of a table of studies (``analyse``), and its outputs."""

from __future__ import annotations

import math
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
    MetaRegression,
    Sequential,
    SubgroupAnalysis,
    TrimFillResult,
    subgroups_from_fit,
)
from registry.pooling.effects import CONTINUOUS, DICHOTOMOUS, MEASURES, RATIO, EffectSizes, escalc
from registry.pooling.models import MetaResult, rma, rma_mh, rma_mh_dl, rma_peto
from registry.pooling.presets import Preset, get_preset

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
        return self.measure in RATIO

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
    """
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

    if not isinstance(table, pd.DataFrame) or len(table) == 0:
        raise StatsError("the table has no studies")
    labels_all = (
        [str(x) for x in table[study_col].tolist()] if study_col in table.columns
        else [str(i + 1) for i in range(len(table))]
    )
    if len(set(labels_all)) != len(labels_all):
        dup = sorted({x for x in labels_all if labels_all.count(x) > 1})
        raise InputError(f"study labels must be unique; repeated: {', '.join(dup)}")

    need = list(INPUT_COLUMNS[kind])
    if kind == "generic" and "vi" not in table.columns:
        if "sei" in table.columns:
            need = ["yi", "sei"]
        elif {"ci_lb", "ci_ub"} <= set(table.columns):
            need = ["yi", "ci_lb", "ci_ub"]
    absent = [c for c in need if c not in table.columns]
    if absent:
        raise InputError(
            f"measure {measure} needs columns {', '.join(need)}; missing: {', '.join(absent)}"
        )
    _bad_numbers(table, need, labels_all)
    cols = {c: _column(table, c) for c in need}
    notes: list[str] = []
    if "sei" in cols:
        cols = {"yi": cols["yi"], "vi": cols["sei"] ** 2}
    elif "ci_lb" in cols:
        # SE from a CI on the analysis scale (Cochrane Handbook 6.3.1): (ub - lb) / (2 z)
        se = (cols["ci_ub"] - cols["ci_lb"]) / (2 * float(ndtri(1 - (1 - level) / 2)))
        notes.append(f"vi derived from ci_lb/ci_ub as ((ci_ub - ci_lb) / (2 z_{level:g}))^2")
        cols = {"yi": cols["yi"], "vi": se**2}

    excluded: list[str] = []
    miss = np.zeros(len(table), dtype=bool)
    for c in cols.values():
        miss |= np.isnan(c)
    extra_cols = [c for c in (by, cumulative, moderator) if c]
    for c in extra_cols:
        if c not in table.columns:
            raise InputError(f"column {c!r} not found; columns are {', '.join(table.columns)}")
    for i in np.flatnonzero(miss):
        names = [c for c, a in cols.items() if np.isnan(a[i])]
        msg = f"study {labels_all[i]!r} (row {i + 2}): missing {', '.join(names)}"
        if missing == "error":
            raise StatsError(msg)
        notes.append(msg + "; left out")
        excluded.append(labels_all[i])
    keep = ~miss
    if kind == "dichotomous":
        drop00 = pre.drop00 and measure in RATIO if pre else False
        e1, e2 = cols["events1"], cols["events2"]
        both0 = keep & (((e1 == 0) & (e2 == 0)) | ((e1 == cols["n1"]) & (e2 == cols["n2"])))
        if drop00:
            for i in np.flatnonzero(both0):
                what = "no events" if e1[i] == 0 else "only events"
                notes.append(f"study {labels_all[i]!r}: {what} in both arms; left out of the "
                              f"{measure} (Review Manager)")
                excluded.append(labels_all[i])
            keep &= ~both0
    idx = np.flatnonzero(keep)
    if idx.size == 0:
        raise StatsError("no study has the numbers this analysis needs")
    labels = [labels_all[i] for i in idx]
    sub = {c: a[idx] for c, a in cols.items()}
    es = escalc(measure, labels=labels, **sub)
    notes.extend(es.notes)
    y, v = es.yi, es.vi

    fit: Fit | None
    if meth in ("MH", "PETO") or (revman_dich and meth == "DL"):
        e1, t1, e2, t2 = sub["events1"], sub["n1"], sub["events2"], sub["n2"]
        if meth == "MH":
            def fit(ix: np.ndarray) -> MetaResult:
                return rma_mh(e1[ix], t1[ix], e2[ix], t2[ix], measure, level=level,
                              labels=[labels[i] for i in ix])
        elif meth == "PETO":
            def fit(ix: np.ndarray) -> MetaResult:
                return rma_peto(e1[ix], t1[ix], e2[ix], t2[ix], level=level,
                                labels=[labels[i] for i in ix])
        else:
            def fit(ix: np.ndarray) -> MetaResult:
                if ix.size == 1:
                    return rma(y[ix], v[ix], method="FE", level=level, measure=measure,
                               labels=[labels[i] for i in ix], tau2_ci=False)
                return rma_mh_dl(e1[ix], t1[ix], e2[ix], t2[ix], measure, level=level,
                                 labels=[labels[i] for i in ix])
        main = fit(np.arange(idx.size))
    else:
        main = rma(y, v, method=meth, hksj=use_hksj, level=level, measure=measure,
                   labels=labels)
        fit = None  # inverse variance: the around-functions fit it themselves (vectorised)

    sg = None
    if by:
        raw = table[by].iloc[idx]
        groups = []
        for lab, g in zip(labels, raw.tolist(), strict=True):
            if g is None or pd.isna(g) or str(g).strip() == "":
                notes.append(f"study {lab!r}: no value in {by!r}; subgroup 'missing'")
                groups.append("missing")
            else:
                groups.append(str(g))
        sg = (subgroups_from_fit(groups, fit) if fit is not None else
              _around.subgroups(y, v, groups, method=meth, hksj=use_hksj, level=level,
                                measure=measure, labels=labels))
    loo = (_around.leave_one_out(y, v, method=meth, hksj=use_hksj, level=level,
                                 measure=measure, labels=labels, fit=fit)
           if leave_one_out else None)
    cum = None
    if cumulative:
        key = _order_key(table, cumulative)[idx]
        cum = _around.cumulative(y, v, order=key, method=meth, hksj=use_hksj, level=level,
                                 measure=measure, labels=labels, fit=fit)
    eg = tf = None
    if y.size >= SMALL_STUDY_MIN_K:
        # optional extras: a failure is reported in the notes, never fatal to the analysis
        try:
            eg = _around.egger(y, v, labels=labels)
        except StatsError as exc:
            notes.append(f"Egger's test not computed: {exc}")
        try:
            tf = _around.trimfill(y, v, method="FE", measure=measure, labels=labels)
        except StatsError as exc:
            notes.append(f"trim-and-fill not computed: {exc}")
    mr = None
    if moderator:
        mr = _around.metareg(y, v, _column(table, moderator)[idx],
                      method=meth if meth in ("FE", "DL", "REML", "PM") else "REML",
                      hksj=use_hksj, level=level, labels=labels)
    method_label = meth
    return Analysis(
        measure=measure, method=method_label, hksj=use_hksj,
        preset=pre.name if pre else None, result=main, effect_sizes=es,
        studies=tuple(labels), excluded=tuple(excluded), notes=tuple(notes), subgroups=sg,
        by=by, leave_one_out=loo, cumulative=cum, cumulative_by=cumulative, egger=eg,
        trimfill=tf, metareg=mr,
    )


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
) -> Analysis:
    """``registry meta INPUT.csv``: read the CSV and :func:`analyse` it.

    Without ``measure``, a table with ``yi`` is analysed as GEN; otherwise the measure is
    required (MD vs SMD, OR vs RR is a choice the user makes).
    """
    table = read_table(path)
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
    crit = 1.959963984540054
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
