"""Compute everything a review's evidence summary shows, from the registry.

``build_report`` runs the protocol's analysis plan (every outcome × time point, every
subgroup set, the sensitivity analyses) through :mod:`registry.pooling`, suggests the GRADE
domains the data can speak to, compares with the previous report version and with the
published review, and hands finished view models (:mod:`reports.model`) and SVG figures to
the templates. Nothing downstream of this module computes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from registry import __version__
from registry.errors import RegistryError, StatsError
from registry.pooling import analyse, get_preset
from registry.pooling.api import Analysis
from registry.screening import screening_summary
from reports.figures import model as fig
from reports.figures.forest import cumulative_forest_svg, forest_svg, leave_one_out_svg
from reports.figures.funnel import funnel_svg
from reports.figures.prisma import prisma_svg
from reports.figures.rob import ROB1_DOMAINS, rob_summary_svg, rob_traffic_light_svg
from reports.model import (
    Effect,
    Figure,
    Headline,
    OutcomeSection,
    Pooled,
    ReviewReport,
    SensitivityRow,
    SubgroupView,
    Table,
    WhatsNew,
)
from reports.render import p_clause
from schemas.protocol import Outcome, Protocol, load_protocol

Z975 = 1.959963984540054  # standard normal 97.5% quantile, for per-study Wald CIs
MOVE_FRACTION = 0.10  # an estimate "moved" when it shifted by >10% of its previous CI width
RATIO = frozenset({"OR", "RR"})
ROB_KEY_DOMAINS = ("random_sequence", "allocation_concealment")  # Cochrane Handbook 8.7 (RoB 1)


@dataclass(frozen=True)
class BuiltReport:
    """A computed report plus what the store keeps of it."""

    report: ReviewReport
    results: list[dict[str, Any]]
    summary: dict[str, Any]
    study_ids: list[str]
    n_records: int
    preset: str
    unchanged_version: int | None = None  # set when the data equal the newest stored version


# ---------------------------------------------------------------------------- helpers
def _present(measure: str, x: float | None) -> float | None:
    """Presentation scale: ratios exponentiated."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return math.exp(x) if measure in RATIO else x


def _model_label(a: Analysis) -> str:
    method = {
        "FE": "fixed effect (inverse variance)",
        "MH": "fixed effect (Mantel-Haenszel)",
        "PETO": "fixed effect (Peto)",
        "DL": "random effects (DerSimonian-Laird)",
        "REML": "random effects (REML)",
        "PM": "random effects (Paule-Mandel)",
    }.get(a.method, a.method)
    ci = "Hartung-Knapp-Sidik-Jonkman CI" if a.hksj else "Wald CI"
    return f"{method}, {ci}"


def _revman_method_label(a: Analysis, mh_random: bool = False) -> str:
    kind = {"MH": "M-H", "PETO": "Peto"}.get(a.method, "M-H" if mh_random else "IV")
    model = "Fixed" if a.method in ("FE", "MH", "PETO") else "Random"
    return f"{kind}, {model}, 95% CI"


def _favours(measure: str, estimate: float, direction: str) -> str:
    """Which arm a (significant) estimate favours, given the outcome's direction."""
    lower_better = direction == "lower_is_better"
    below_null = estimate < 0.0  # analysis scale: MD/SMD/RD, and log OR / log RR
    return "experimental" if below_null == lower_better else "control"


def _n_participants(df: pd.DataFrame) -> int | None:
    """Participants of the pooled studies (n1 + n2), None when a size is missing."""
    cols = ("n1", "n2")
    if not all(c in df.columns for c in cols):
        return None
    vals = pd.to_numeric(df["n1"], errors="coerce") + pd.to_numeric(df["n2"], errors="coerce")
    total = vals.sum(min_count=1)
    return None if pd.isna(total) else int(total)


def _pooled(
    analysis_id: str, label: str, a: Analysis, df: pd.DataFrame, direction: str, show_pi: bool
) -> Pooled:
    r = a.result
    m = a.measure
    used = df[df["label"].isin(a.studies)] if "label" in df.columns else df
    sig = bool(r.pval < 0.05)
    pi = None
    if show_pi and r.pi_lb is not None and r.method not in ("FE", "MH", "PETO") and r.k >= 3:
        pi = (_present(m, r.pi_lb), _present(m, r.pi_ub))
    return Pooled(
        analysis_id=analysis_id,
        label=label,
        k=r.k,
        n_participants=_n_participants(used),
        effect=Effect(
            measure=_measure_name(m),
            estimate=_present(m, r.estimate),  # type: ignore[arg-type]
            ci_lb=_present(m, r.ci_lb),  # type: ignore[arg-type]
            ci_ub=_present(m, r.ci_ub),  # type: ignore[arg-type]
            pval=r.pval,
        ),
        model=_model_label(a),
        tau2=None if a.method in ("FE", "MH", "PETO") else r.tau2,
        i2=r.i2,
        q=r.q,
        df=r.df,
        q_pval=r.q_pval,
        stat_name="t" if r.test == "t" else "Z",
        stat=r.stat,
        pi=pi,  # type: ignore[arg-type]
        significant=sig,
        favours=_favours(m, r.estimate, direction) if sig else None,
    )


def _mh_random(a: Analysis, kind: str) -> bool:
    """RevMan 5 pools 2x2 tables by Mantel-Haenszel also under random effects."""
    return kind == "dichotomous" and a.preset is not None and \
        get_preset(a.preset).dichotomous == "MH"


def _year(v: Any) -> int | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else int(f)


def _measure_name(m: str) -> str:
    return {"SMD_REVMAN5": "SMD"}.get(m, m)


def _result_row(
    analysis_id: str,
    outcome: str,
    time_point: str | None,
    a: Analysis,
    n: int | None,
    *,
    subgroup_set: str | None = None,
    subgroup: str | None = None,
    sensitivity: str | None = None,
    result: Any = None,
) -> dict[str, Any]:
    r = result if result is not None else a.result
    return {
        "analysis_id": analysis_id,
        "outcome": outcome,
        "time_point": time_point,
        "subgroup_set": subgroup_set,
        "subgroup": subgroup,
        "sensitivity": sensitivity,
        "measure": a.measure,
        "model": a.method + ("+HKSJ" if a.hksj else ""),
        "k": r.k,
        "n_participants": n,
        "estimate": r.estimate,
        "ci_lb": r.ci_lb,
        "ci_ub": r.ci_ub,
        "pval": r.pval,
        "tau2": r.tau2,
        "i2": r.i2,
    }


# ---------------------------------------------------------------------------- figures
def _arm(row: pd.Series, i: int, kind: str) -> fig.Arm:
    def num(c: str) -> float | None:
        v = row.get(c)
        return None if v is None or pd.isna(v) else float(v)

    n = num(f"n{i}")
    if kind == "dichotomous":
        ev = num(f"events{i}")
        return fig.Arm(n=None if n is None else int(n), events=None if ev is None else int(ev))
    return fig.Arm(n=None if n is None else int(n), mean=num(f"mean{i}"), sd=num(f"sd{i}"))


def _study_rows(a: Analysis, df: pd.DataFrame, kind: str, idx: Sequence[int]) -> list[Any]:
    by_label = {str(r["label"]): r for _, r in df.iterrows()}
    w = a.result.weights_percent
    rows = []
    for i in idx:
        lab = a.studies[i]
        y, v = float(a.effect_sizes.yi[i]), float(a.effect_sizes.vi[i])
        half = Z975 * math.sqrt(v)
        src = by_label.get(lab)
        rows.append(
            fig.StudyRow(
                label=lab,
                estimate=y,
                ci_lb=y - half,
                ci_ub=y + half,
                weight_percent=float(w[i]) if w and i < len(w) else None,
                experimental=_arm(src, 1, kind) if src is not None else None,
                control=_arm(src, 2, kind) if src is not None else None,
            )
        )
    return rows


def _totals(df: pd.DataFrame, labels: Sequence[str], kind: str) -> dict[str, Any]:
    sub = df[df["label"].isin(labels)]

    def s(c: str) -> int | None:
        if c not in sub.columns:
            return None
        t = pd.to_numeric(sub[c], errors="coerce").sum(min_count=1)
        return None if pd.isna(t) else int(t)

    out = {"n_experimental": s("n1"), "n_control": s("n2")}
    if kind == "dichotomous":
        out.update(events_experimental=s("events1"), events_control=s("events2"))
    return out


def _forest(
    a: Analysis,
    df: pd.DataFrame,
    outcome: Outcome,
    title: str,
    show_pi: bool,
    with_total: bool = True,
) -> Figure:
    kind = outcome.kind
    groups: list[Any] = []
    sg_test = None
    if a.subgroups is not None:
        for sg in a.subgroups.subgroups:
            labels = [a.studies[i] for i in sg.rows]
            groups.append(
                fig.ForestGroup(
                    studies=tuple(_study_rows(a, df, kind, sg.rows)),
                    title=sg.label,
                    subtotal=fig.PooledRow.from_meta(
                        sg.result, label="Subtotal (95% CI)", **_totals(df, labels, kind)
                    ),
                )
            )
        st = a.subgroups
        sg_test = fig.SubgroupTest(q=st.q, df=st.df, pval=st.pval, i2=st.i2)
    else:
        groups.append(
            fig.ForestGroup(studies=tuple(_study_rows(a, df, kind, range(len(a.studies)))))
        )
    total = fig.PooledRow.from_meta(
        a.result, show_pi=show_pi and a.result.k >= 3, label="Total (95% CI)",
        weight_percent=100.0, **_totals(df, a.studies, kind),
    )
    plot = fig.ForestPlot(
        measure=_measure_name(a.measure),
        groups=tuple(groups),
        kind="dichotomous" if kind == "dichotomous" else "continuous",
        direction=outcome.direction,  # type: ignore[arg-type]
        total=total if with_total else None,
        subgroup_test=sg_test,
        method_label=_revman_method_label(a, _mh_random(a, kind)),
        experimental_label="Experimental",
        control_label="Control",
        title=title,
        description=f"Forest plot of {title}: {len(a.studies)} studies.",
    )
    return Figure(title=title, svg=forest_svg(plot))


def _sequential_figure(
    a: Analysis, outcome: Outcome, mode: str, title: str, years: dict[str, Any]
) -> Figure | None:
    seq = a.leave_one_out if mode == "leave_one_out" else a.cumulative
    if seq is None:
        return None
    rows = []
    for step, res in zip(seq.order, seq.results, strict=True):
        lab = a.studies[step]
        year = years.get(lab)
        rows.append(
            fig.SummaryRow(
                label=lab,
                estimate=res.estimate,
                ci_lb=res.ci_lb,
                ci_ub=res.ci_ub,
                year=None if year is None or str(year) in lab else year,  # "Smith 2010 2010"
                k=res.k,
                tau2=res.tau2,
                i2=res.i2,
                pval=res.pval,
            )
        )
    plot = fig.SummaryForest(
        measure=_measure_name(a.measure),
        rows=tuple(rows),
        mode=mode,  # type: ignore[arg-type]
        overall=fig.PooledRow.from_meta(a.result, label="All studies"),
        direction=outcome.direction,  # type: ignore[arg-type]
        method_label=_revman_method_label(a, _mh_random(a, outcome.kind)),
        title=title,
        description=title,
    )
    draw = leave_one_out_svg if mode == "leave_one_out" else cumulative_forest_svg
    return Figure(title=title, svg=draw(plot))


def _funnel(a: Analysis, title: str) -> Figure | None:
    if a.egger is None:
        return None
    tf = a.trimfill
    plot = fig.FunnelPlot(
        measure=_measure_name(a.measure),
        yi=tuple(float(x) for x in a.effect_sizes.yi),
        sei=tuple(float(math.sqrt(v)) for v in a.effect_sizes.vi),
        estimate=a.result.estimate,
        labels=a.studies,
        filled_yi=tuple(tf.filled_yi) if tf else (),
        filled_sei=tuple(math.sqrt(v) for v in tf.filled_vi) if tf else (),
        adjusted_estimate=tf.estimate if tf and tf.k0 else None,
        egger=fig.EggerTest(stat=a.egger.stat, pval=a.egger.pval, df=a.egger.dfs,
                            intercept=a.egger.bias),
        title=title,
        description=title,
    )
    return Figure(title=title, svg=funnel_svg(plot))


# ---------------------------------------------------------------------------- per outcome
def _band(value: Any, bands: Sequence[Any]) -> str | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    if math.isnan(x):
        return None
    for b in bands:
        if (b.min is None or x >= b.min) and (b.max is None or x < b.max):
            return str(b.label)
    return None


def _subgroup_column(df: pd.DataFrame, sset: Any) -> pd.Series | None:
    if sset.by not in df.columns:
        return None
    col = df[sset.by].astype(object)
    if sset.bands:
        col = col.map(lambda v: _band(v, sset.bands))
    # pandas 3 string columns give NaN (not None) for empty cells: normalise to None
    values = [None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)
              for v in col]
    return pd.Series(values, index=df.index, dtype=object)


def _subgroup_rows(
    a: Analysis, df: pd.DataFrame, outcome: Outcome, tp_id: str | None, base_id: str,
    set_id: str,
) -> list[dict[str, Any]]:
    """One stored result per subgroup of a subgroup analysis."""
    assert a.subgroups is not None
    rows = []
    for sg in a.subgroups.subgroups:
        labels = [a.studies[i] for i in sg.rows]
        n = _n_participants(df[df["label"].isin(labels)])
        rows.append(_result_row(f"{base_id}/{set_id}={sg.label}", outcome.id, tp_id, a, n,
                                subgroup_set=set_id, subgroup=sg.label, result=sg.result))
    return rows


def _unique_labels(labels: list[str]) -> list[str]:
    """Two studies sharing 'Author Year' become 'Author Year a' / 'b', as Review Manager does."""
    counts = {x: labels.count(x) for x in labels}
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        if counts[lab] > 1:
            seen[lab] = seen.get(lab, 0) + 1
            out.append(f"{lab}{chr(ord('a') + seen[lab] - 1) if seen[lab] <= 26 else seen[lab]}")
        else:
            out.append(lab)
    return out


def _fit(table: pd.DataFrame, measure: str, preset: str, **kw: Any) -> Analysis:
    return analyse(table, measure=measure, preset=preset, study_col="label", **kw)


def _outcome_section(
    inp: Any, protocol: Protocol, preset_name: str, results: list[dict[str, Any]],
    sof_rows: list[tuple[str, ...]] | None = None,
) -> OutcomeSection:
    outcome: Outcome = inp.outcome
    tp = inp.time_point
    tp_label = getattr(tp, "label", str(tp))
    tp_id = getattr(tp, "id", str(tp))
    anchor = f"o-{outcome.id}-{tp_id}".replace(" ", "-")
    df = inp.data.copy().reset_index(drop=True)
    if "label" not in df.columns:
        df["label"] = df["study_id"]
    df["label"] = _unique_labels(df["label"].astype(str).tolist())
    preset = get_preset(preset_name)
    show_pi = preset.prediction_interval
    measure = outcome.measure
    base_id = f"{outcome.id}/{tp_id}"
    title = f"{outcome.name}, {tp_label}"
    k_avail = len(df)
    if k_avail < 2:
        only = ", ".join(df["label"].astype(str)) or "none"
        return OutcomeSection(
            anchor=anchor, outcome=outcome.name, time_point=tp_label, kind=outcome.kind,
            direction=outcome.direction, main=None, forest=None,
            note=f"{k_avail} study with data ({only}): nothing to pool yet.",
        )
    years = dict(zip(df["label"].astype(str),
                     (_year(v) for v in df.get("year", pd.Series([None] * k_avail))),
                     strict=True))
    has_year = "year" in df.columns and pd.to_numeric(df["year"], errors="coerce").notna().any()
    try:
        main = _fit(df, measure, preset_name, leave_one_out=k_avail >= 3,
                    cumulative="year" if has_year else None)
    except (StatsError, RegistryError) as exc:
        return OutcomeSection(
            anchor=anchor, outcome=outcome.name, time_point=tp_label, kind=outcome.kind,
            direction=outcome.direction, main=None, forest=None,
            note=f"Not pooled: {exc}",
        )
    # from here on only the studies the model pooled (a double-zero study left out of an
    # RR must not reappear in subgroups, sensitivity notes or GRADE counts)
    df = df[df["label"].isin(main.studies)].reset_index(drop=True)
    n_all = _n_participants(df)
    results.append(_result_row(base_id, outcome.id, tp_id, main, n_all))
    pooled = _pooled(base_id, "Overall", main, df, outcome.direction, show_pi)
    notes = list(main.notes)

    subgroups: list[SubgroupView] = []
    for sset in protocol.subgroups:
        if sset.by in ("time_point", "time"):
            continue  # each time point is its own analysis here
        col = _subgroup_column(df, sset)
        if col is None:
            continue
        levels = sorted({v for v in col if isinstance(v, str)})
        if len(levels) < 2:
            subgroups.append(SubgroupView(
                label=sset.label, figure=None, test_text="",
                note=f"Not analysed: {len(levels)} level(s) with data "
                     f"({', '.join(levels) or 'none'}).",
            ))
            continue
        t = df.copy()
        t["_sg"] = col.fillna("not reported")
        try:
            a = _fit(t, measure, preset_name, by="_sg")
        except (StatsError, RegistryError) as exc:
            subgroups.append(SubgroupView(sset.label, None, "", note=f"Not analysed: {exc}"))
            continue
        results.extend(_subgroup_rows(a, df, outcome, tp_id, base_id, sset.id))
        st = a.subgroups
        test = (f"Test for subgroup differences: Chi² = {st.q:.2f}, df = {st.df} "
                f"({p_clause(st.pval)}), I² = {st.i2:.0f}%")
        subgroups.append(SubgroupView(
            label=sset.label,
            figure=_forest(a, df, outcome, f"{title} — subgroups by {sset.label}", show_pi),
            test_text=test,
        ))

    sens: list[SensitivityRow] = []
    for label, key, mask in _sensitivity_masks(df, protocol):
        kept = df[mask]
        if len(kept) == len(df):
            sens.append(SensitivityRow(label, None, note="same studies as the main analysis"))
            continue
        if len(kept) < 2:
            sens.append(SensitivityRow(label, None, note=f"{len(kept)} study left: not pooled"))
            continue
        try:
            a = _fit(kept.reset_index(drop=True), measure, preset_name)
        except (StatsError, RegistryError) as exc:
            sens.append(SensitivityRow(label, None, note=str(exc)))
            continue
        n = _n_participants(kept)
        results.append(_result_row(f"{base_id}/{key}", outcome.id, tp_id, a, n, sensitivity=key))
        sens.append(SensitivityRow(
            label, _pooled(f"{base_id}/{key}", label, a, kept, outcome.direction, show_pi),
            note=f"left out: {', '.join(sorted(set(df['label']) - set(kept['label'])))}",
        ))
    if main.method not in ("FE", "MH", "PETO"):
        try:
            fe = _fit(df, measure, preset_name, method="MH" if outcome.kind == "dichotomous"
                      and preset.dichotomous == "MH" else "FE", hksj=False)
            sens.append(SensitivityRow(
                "Fixed-effect model",
                _pooled(f"{base_id}/fixed", "Fixed effect", fe, df, outcome.direction, False),
            ))
        except (StatsError, RegistryError):
            pass

    small = ""
    if main.egger is not None:
        e = main.egger
        small = (f"Egger's test: intercept {e.bias:.2f}, t = {e.stat:.2f}, df = {e.dfs}, "
                 f"{p_clause(e.pval)}")
        if main.trimfill is not None:
            small += f"; trim-and-fill imputed {main.trimfill.k0} studies"
    else:
        small = (f"Funnel plot and Egger's test not shown: {main.result.k} studies "
                 "(needs 10 or more).")
    section = OutcomeSection(
        anchor=anchor,
        outcome=outcome.name,
        time_point=tp_label,
        kind=outcome.kind,
        direction=outcome.direction,
        main=pooled,
        forest=_forest(main, df, outcome, title, show_pi),
        subgroups=tuple(subgroups),
        sensitivity=tuple(sens),
        leave_one_out=_sequential_figure(main, outcome, "leave_one_out",
                                         f"{title} — leave-one-out", years),
        cumulative=_sequential_figure(main, outcome, "cumulative",
                                      f"{title} — cumulative by publication year", years),
        funnel=_funnel(main, f"{title} — funnel plot"),
        small_study_note=small,
        note="; ".join(notes),
    )
    if sof_rows is not None:
        sof_rows.append(_grade_row(outcome, section, df, protocol))
    return section


def _time_subgroup_section(
    outcome: Outcome, inputs: Sequence[Any], sset: Any, preset_name: str,
    results: list[dict[str, Any]],
) -> OutcomeSection | None:
    """One forest with a subgroup per time point (as Lu 2023 and RevMan lay them out).

    No overall diamond: the same participants appear at several time points, so pooling
    across them would count them twice; only the subgroup estimates and the test for
    subgroup differences are shown.
    """
    frames = []
    for inp in inputs:
        if len(inp.data) == 0:
            continue
        tp = inp.time_point
        d = inp.data.copy()
        if "label" not in d.columns:
            d["label"] = d["study_id"]
        d["label"] = [f"{lab} ({tp.label})" for lab in d["label"].astype(str)]
        d["_tp"] = tp.label
        frames.append(d)
    if len(frames) < 2 or sum(len(f) for f in frames) < 3:
        return None
    df = pd.concat(frames, ignore_index=True)
    df["label"] = _unique_labels(df["label"].astype(str).tolist())
    try:
        a = _fit(df, outcome.measure, preset_name, by="_tp")
    except (StatsError, RegistryError):
        return None
    results.extend(_subgroup_rows(a, df, outcome, None, outcome.id, sset.id))
    st = a.subgroups
    title = f"{outcome.name} — subgroups by {sset.label}"
    return OutcomeSection(
        anchor=f"o-{outcome.id}-by-time",
        outcome=outcome.name,
        time_point="all time points",
        kind=outcome.kind,
        direction=outcome.direction,
        main=None,
        forest=None,
        subgroups=(SubgroupView(
            label=sset.label,
            figure=_forest(a, df, outcome, title, False, with_total=False),
            test_text=(f"Test for subgroup differences: Chi² = {st.q:.2f}, df = {st.df} "
                       f"({p_clause(st.pval)}), I² = {st.i2:.0f}%"),
            note="No overall estimate across time points: the same participants are "
                 "measured at several of them.",
        ),),
    )


def _sensitivity_masks(df: pd.DataFrame, protocol: Protocol) -> list[tuple[str, str, pd.Series]]:
    out = []
    if protocol.analysis.rct_only_sensitivity and "is_rct" in df.columns:
        out.append(("RCTs only (as assessed)", "rct_only",
                    df["is_rct"].map(lambda v: bool(v) if v is not None and v == v else False)))
    if protocol.analysis.low_rob_sensitivity and "rob_overall" in df.columns:
        out.append(("Low risk of bias only", "low_rob", df["rob_overall"].astype(str) == "low"))
    return out




def _fmt(x: float | None, d: int = 2) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{d}f}"


# ---------------------------------------------------------------------------- GRADE
_LEVELS = ("High", "Moderate", "Low", "Very low")


_DOWN = {"serious": 1, "very serious": 2, "strongly suspected": 1}


def _grade_row(
    outcome: Outcome, sec: OutcomeSection, df: pd.DataFrame | None, protocol: Protocol
) -> tuple[str, ...]:
    """Suggest risk of bias, inconsistency and imprecision from the data (GRADE handbook 5.2);
    a rating the curators set in the protocol's ``grade:`` overrides the suggestion."""
    p = sec.main
    assert p is not None
    curated = {k: v.replace("_", " ") for k, v in protocol.grade.get(outcome.id, {}).items()}
    reasons: list[str] = []
    # Risk of bias: serious when more than half the studies are not at low overall risk.
    rob = "not assessed"
    if df is not None and "rob_overall" in df.columns:
        judged = df["rob_overall"].astype(str)
        known = judged.isin(["low", "unclear", "some_concerns", "high"])
        if known.any():
            share = float((judged[known] != "low").mean())
            rob = "serious" if share > 0.5 else "not serious"
            of = "" if known.all() else f" ({int(known.sum())} of {len(known)} judged)"
            if share > 0.5:
                reasons.append(f"{share:.0%} of judged studies not at low risk of bias{of}")
            elif of:
                reasons.append(f"risk of bias judged for {of.strip(' ()')} studies")
        else:
            rob = "serious"
            reasons.append("no risk-of-bias judgements")
    # Inconsistency: I² > 50% serious, > 75% very serious (Handbook 10.10.2 thresholds).
    i2 = p.i2 or 0.0
    inc = "very serious" if i2 > 75 else "serious" if i2 > 50 else "not serious"
    if inc != "not serious":
        reasons.append(f"I² = {i2:.0f}%")
    # Imprecision: CI crossing no effect, and/or below the optimal information size rule of
    # thumb: 400 participants (continuous) or 300 events (dichotomous) (GRADE handbook 5.2.4.1).
    crosses = not p.significant
    events = None
    if outcome.kind == "dichotomous" and df is not None and {"events1", "events2"} <= set(df):
        total = pd.to_numeric(df["events1"], errors="coerce").sum() + pd.to_numeric(
            df["events2"], errors="coerce").sum()
        events = int(total)
    small = events < 300 if events is not None else (p.n_participants or 0) < 400
    imp = "very serious" if crosses and small else "serious" if crosses or small else "not serious"
    if crosses:
        reasons.append("95% CI includes no effect")
    if small:
        reasons.append(f"{events} events (< 300)" if events is not None else
                       f"{p.n_participants or 'unknown'} participants (< 400)")
    rated = {"risk_of_bias": rob, "inconsistency": inc, "imprecision": imp,
             "indirectness": "not assessed", "publication_bias": "not assessed"}
    shown = {}
    for domain, suggested in rated.items():
        if domain in curated:
            shown[domain] = curated[domain] + (" (curators)" if domain in
                                               ("risk_of_bias", "inconsistency", "imprecision")
                                               else "")
            rated[domain] = curated[domain]
        else:
            shown[domain] = suggested
    down = sum(_DOWN.get(v, 0) for v in rated.values())
    return (
        outcome.name,
        sec.time_point,
        str(p.k),
        str(p.n_participants or "—"),
        f"{p.effect.measure} {_fmt(p.effect.estimate)} [{_fmt(p.effect.ci_lb)}, "
        f"{_fmt(p.effect.ci_ub)}]",
        shown["risk_of_bias"],
        shown["inconsistency"],
        shown["indirectness"],
        shown["imprecision"],
        shown["publication_bias"],
        _LEVELS[min(down, 3)] + " (suggested)",
        "; ".join(reasons) or "—",
    )


# ---------------------------------------------------------------------------- tables
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        if abs(v) >= 1e5:  # cell doses and the like: 1.6 × 10⁷ rather than 1.6e+07
            exp = int(math.floor(math.log10(abs(v))))
            return f"{v / 10**exp:g} × 10{str(exp).translate(_SUPERSCRIPT)}"
        return f"{v:g}"
    return str(v)


def _studies_table(studies: pd.DataFrame, arms: pd.DataFrame, protocol: Protocol) -> Table:
    chars = [c.id for c in protocol.characteristics]
    cols = ["Study", "Country", "Design (reported)", "Randomised (exp / ctrl)",
            "Analysed (exp / ctrl)",
            *[c.label or c.id.replace("_", " ") for c in protocol.characteristics],
            "Follow-up", "Source"]
    rows = []
    for _, s in studies.iterrows():
        sid = s["study_id"]
        a = arms[arms["study_id"] == sid] if len(arms) else arms

        def n(role: str, column: str, a: pd.DataFrame = a) -> str:
            if not len(a) or column not in a.columns:
                return "?"
            vals = pd.to_numeric(a[a["role"] == role][column], errors="coerce")
            return "?" if vals.isna().all() else str(int(vals.sum()))

        randomised = f"{n('experimental', 'n_randomised')} / {n('control', 'n_randomised')}"
        analysed = f"{n('experimental', 'n_analysed')} / {n('control', 'n_analysed')}"
        rows.append((
            _cell(sid),
            _cell(s.get("country")),
            _cell(s.get("design_reported")),
            randomised,
            analysed,
            *[_cell(s.get(c)) for c in chars],
            _cell(s.get("follow_up")),
            _cell(s.get("source")),
        ))
    return Table(tuple(cols), tuple(rows), empty_text="No included studies yet.")


def _design_table(studies: pd.DataFrame, protocol: Protocol) -> Table:
    from registry.curation.validate import is_rct

    rows = []
    for _, s in studies.iterrows():
        rep, ass = s.get("design_reported"), s.get("design_assessed")
        rct = is_rct(ass, rep)
        flag = "" if rct else "flagged: not randomised as assessed; left out of RCT-only analyses"
        if ass is None or (isinstance(ass, float) and math.isnan(ass)):
            flag = "design not independently assessed"
        rows.append((_cell(s["study_id"]), _cell(rep), _cell(ass),
                     _cell(s.get("design_assessed_source")), flag))
    return Table(("Study", "As reported", "As assessed", "Assessment source", "Check"),
                 tuple(rows), empty_text="No included studies yet.")


def _rob_figures(rob: pd.DataFrame, study_ids: Sequence[str]) -> tuple[Any, Any, str]:
    if rob is None or not len(rob):
        return None, None, "No risk-of-bias judgements are recorded yet."
    tools = sorted(set(rob["tool"].dropna().astype(str)))
    tool = "RoB2" if tools == ["RoB2"] else "RoB1"
    rob = rob[rob["tool"].astype(str) == tool]
    rows = []
    for sid in study_ids:
        sub = rob[rob["study_id"] == sid]
        judg = {str(d): (None if pd.isna(j) else str(j))
                for d, j in zip(sub["domain"], sub["judgement"], strict=True)}
        rows.append(fig.RobRow(study=str(sid), judgements=judg))
    recorded = list(dict.fromkeys(str(d) for d in rob["domain"]))
    known = [d for d in ROB1_DOMAINS if d in recorded] if tool == "RoB1" else []
    domains = tuple(known + [d for d in recorded if d not in known])
    table = fig.RobTable(tool=tool, rows=tuple(rows), domains=domains,  # type: ignore[arg-type]
                         show_overall=False,
                         title="Risk of bias per study and domain",
                         description="Traffic-light plot of risk-of-bias judgements.")
    n_missing = sum(1 for r in rows for v in r.judgements.values() if v is None)
    note = (f"Tool: {tool}. Judgements as recorded in the registry with their sources; "
            f"blank cells are judgements no source states ({n_missing} recorded as missing).")
    return (Figure("Risk of bias: traffic-light plot", rob_traffic_light_svg(table)),
            Figure("Risk of bias: summary (unweighted)", rob_summary_svg(table)), note)


def _ae_table(ae: pd.DataFrame) -> Table:
    rows = []
    for _, r in ae.iterrows():
        rows.append((_cell(r.get("study_id")), _cell(r.get("arm_id")) or "all",
                     _cell(r.get("event")), _cell(r.get("count")) or "not reported",
                     _cell(r.get("serious")), _cell(r.get("reported_text")),
                     _cell(r.get("source"))))
    return Table(("Study", "Arm", "Event", "Count", "Serious", "As reported", "Source"),
                 tuple(rows), empty_text="No adverse-event data recorded.")


def _gaps_table(
    gaps: Any, screened: dict[str, list[str]] | None = None, study_ids: Sequence[str] = ()
) -> Table:
    df = gaps if isinstance(gaps, pd.DataFrame) else pd.DataFrame(gaps)
    # studies included at full text with no extracted data yet: the whole study is a gap
    pending = [(sid, reps) for sid, reps in (screened or {}).items() if sid not in study_ids]
    if not len(df) and not pending:
        return Table(("Study", "Outcome", "Time point", "Missing"), (),
                     empty_text="Nothing is missing.")
    cols = tuple(str(c) for c in df.columns) if len(df.columns) else (
        "study_id", "outcome", "time_point", "status", "detail")
    rows = [tuple(_cell(v) for v in r) for r in df.itertuples(index=False)]
    for sid, reps in pending:
        extra = (sid, "(study)", "(any)", "not extracted",
                 f"included at full text ({', '.join(reps)}); no extraction sheet yet")
        rows.insert(0, extra[: len(cols)] + ("",) * max(0, len(cols) - len(extra)))
    return Table(cols, tuple(rows))


def _published_table(pub: pd.DataFrame, results: list[dict[str, Any]], protocol: Protocol
                     ) -> Table:
    from registry.curation.published import check_published

    findings: dict[str, list[str]] = {}
    for f in check_published(pub):
        findings.setdefault(str(f.result_id), []).append(f.message)
    mine = {(r["outcome"], r["time_point"]): r for r in results
            if not r.get("subgroup_set") and not r.get("sensitivity")}
    tp_by_label = {t.label.lower(): t.id for t in protocol.time_points}
    rows = []
    for _, p in pub.iterrows():
        sub = p.get("subgroup")
        tp_raw = _cell(p.get("time_point"))
        key = (str(p.get("outcome")), tp_by_label.get(tp_raw.lower(), tp_raw))
        r = mine.get(key) if not _cell(sub) else None
        if r is not None:
            m = r["measure"]
            reg = (f"{_measure_name(m)} {_fmt(_present(m, r['estimate']))} "
                   f"[{_fmt(_present(m, r['ci_lb']))}, {_fmt(_present(m, r['ci_ub']))}], "
                   f"k = {r['k']}")
        else:
            reg = "not re-analysed (data not yet extracted)"
        published = (f"{_cell(p.get('measure'))} {_cell(p.get('estimate'))} "
                     f"[{_cell(p.get('ci_lower'))}, {_cell(p.get('ci_upper'))}]"
                     + (f", k = {_cell(p.get('k'))}" if _cell(p.get("k")) else ""))
        rows.append((_cell(p.get("outcome")), tp_raw, _cell(sub) or "overall", published,
                     _cell(p.get("p_value")), reg, _cell(p.get("location")),
                     "; ".join(findings.get(str(p.get("result_id")), [])) or "consistent"))
    return Table(("Outcome", "Time point", "Subgroup", "Published", "Published P",
                  "Registry re-analysis", "Where published", "Consistency check"),
                 tuple(rows), empty_text="No published results are stored for this review.")


def _methods(protocol: Protocol, preset_name: str, runs: list[dict[str, Any]]) -> str:
    pre = get_preset(preset_name)
    sources = ", ".join(sorted({s.source for s in protocol.searches})) or "none (example data)"
    live = [r for r in runs if r.get("kind") == "search" and r.get("outcome") == "ok"]
    last = max((str(r.get("finished_at"))[:10] for r in live), default=None)
    prev = protocol.previous_review
    p1 = (f"Sources named in the protocol: {sources}. "
          + (f"The last successful live search ran on {last}. " if last else
             "No live search has completed in this registry yet; the review rests on the "
             "curated data bundled with it. ")
          + (f"This is an update of {prev.citation} (searched up to {prev.search_date})."
             if prev else ""))
    smd = ("standardised mean differences use Hedges' g with Review Manager 5's approximate "
           "small-sample correction" if pre.smd == "SMD_REVMAN5" else
           "standardised mean differences use Hedges' g with the exact small-sample correction")
    p2 = (f"Analysis preset '{pre.name}': {pre.description}. Continuous outcomes are pooled as "
          f"mean differences in the protocol's canonical units after unit conversion; {smd}. "
          + ("Dichotomous outcomes use the Mantel-Haenszel method. " if pre.dichotomous == "MH"
             else "Dichotomous outcomes use inverse-variance weights. ")
          + f"Between-study variance is estimated by {pre.method}"
          + (" with Hartung-Knapp-Sidik-Jonkman confidence intervals" if pre.hksj else
             " with Wald-type (z) confidence intervals")
          + (" and 95% prediction intervals" if pre.prediction_interval else "")
          + ". Heterogeneity is reported as tau², Cochran's Q and I²; subgroup differences use "
            "Review Manager's fixed-effect test across subgroup estimates. Sensitivity analyses "
            "restrict to RCTs as assessed and to studies at low risk of bias; Egger's test and "
            "trim-and-fill are shown from 10 studies.")
    p3 = (f"Source of the method: {pre.source}. Certainty of evidence: GRADE; risk of bias, "
          "inconsistency and imprecision are suggested from the data (more than half the "
          "studies not at low risk; I² above 50% / 75%; 95% CI including no effect or fewer "
          "than 400 participants), indirectness and publication bias are set by the curators "
          "in the protocol.")
    return "\n\n".join([p1, p2, p3])


# ---------------------------------------------------------------------------- PRISMA
def _screened_studies(scr: dict[str, Any]) -> dict[str, list[str]]:
    """Studies included at full text -> the records (reports) that include them."""
    out: dict[str, list[str]] = {}
    for rep in scr.get("included") or []:
        sid = rep.get("study_id") or f"record {rep.get('record_id')}"
        ident = f"PMID {rep['pmid']}" if rep.get("pmid") else f"record {rep.get('record_id')}"
        out.setdefault(str(sid), []).append(ident)
    return out


def _prisma(
    store: Any, protocol: Protocol, study_ids: Sequence[str], scr: dict[str, Any]
) -> tuple[Figure, Table]:
    """The updated-review flow: previous review from the protocol, the rest from the store.

    Studies in this version = studies with curated data plus studies included at full text
    whose data are not extracted yet; new studies = that total minus the previous review's.
    """
    ident = store.prisma_identification(protocol.review)
    prev = protocol.previous_review
    pp = dict(prev.prisma) if prev else {}
    counted = {str(k): int(v) for k, v in ident["records_identified"].items()}
    for s in protocol.searches:  # sources the protocol names but that brought nothing yet
        counted.setdefault(s.source, 0)
    identified = tuple(counted.items())
    excl = scr.get("excluded_full_text") or {}
    if not isinstance(excl, dict):
        excl = {}
    screened = _screened_studies(scr)
    total = list(dict.fromkeys([*study_ids, *screened]))
    prev_n = (prev.studies_included or 0) if prev else 0
    new_studies = max(0, len(total) - prev_n)
    new_reports = int(scr.get("reports_included", 0) or 0)
    flow = fig.PrismaFlow(
        previous_studies=prev.studies_included if prev else None,
        previous_reports=prev.reports_included if prev else None,
        identified=identified,
        duplicates_removed=ident["duplicates_removed"],
        screened=scr.get("records_screened", 0),
        screened_excluded=scr.get("excluded_title_abstract", 0),
        sought=scr.get("reports_sought", 0),
        not_retrieved=scr.get("reports_not_retrieved", 0),
        assessed=scr.get("reports_assessed", 0),
        excluded_reasons=tuple((str(k), int(v)) for k, v in excl.items()),
        new_studies=new_studies,
        new_reports=new_reports,
        total_studies=len(total),
        total_reports=(prev.reports_included or 0) + new_reports if prev else None,
        previous_label=prev.citation if prev else None,
        title="PRISMA 2020 flow diagram (updated review)",
        description="Flow of records and studies: previous review, new identification, "
                    "screening, eligibility and inclusion.",
    )
    rows = []
    if prev:
        rows.append(("Previous review", "Studies included", _cell(prev.studies_included),
                     prev.prisma_source or ""))
        for k, v in pp.items():
            rows.append(("Previous review", str(k).replace("_", " "), _cell(v)
                         if not isinstance(v, dict) else "; ".join(f"{a}: {b}" for a, b in
                                                                  v.items()),
                         prev.prisma_source or ""))
    for src, n in identified:
        rows.append(("Identification", f"Records from {src}", str(n), "registry"))
    rows.append(("Identification", "Duplicates removed", str(ident["duplicates_removed"]),
                 "registry"))
    rows.append(("Identification", "Uncertain duplicate pairs awaiting review",
                 str(ident.get("uncertain_pairs_pending", 0)), "registry"))
    rows.append(("Screening", "Records screened", str(flow.screened), "registry"))
    rows.append(("Screening", "Records awaiting screening",
                 str(scr.get("awaiting_screening", 0)), "registry"))
    rows.append(("Screening", "Excluded at title/abstract", str(flow.screened_excluded),
                 "registry"))
    rows.append(("Eligibility", "Reports sought for retrieval", str(flow.sought), "registry"))
    rows.append(("Eligibility", "Reports not retrieved", str(flow.not_retrieved), "registry"))
    rows.append(("Eligibility", "Reports assessed for eligibility", str(flow.assessed),
                 "registry"))
    rows.append(("Eligibility", "Reports awaiting full-text assessment",
                 str(scr.get("awaiting_full_text", 0)), "registry"))
    for reason, n in flow.excluded_reasons:
        rows.append(("Eligibility", f"Excluded at full text: {reason}", str(n), "registry"))
    rows.append(("Included", "New reports included (screening)", str(new_reports), "registry"))
    rows.append(("Included", "New studies included", str(new_studies), "registry"))
    missing = [s for s in screened if s not in set(study_ids)]
    if missing:
        rows.append(("Included", "of which not yet extracted", ", ".join(missing), "registry"))
    rows.append(("Included", "Studies in this version", str(len(total)), "registry"))
    table = Table(("Stage", "Count", "n", "Source"), tuple(rows))
    return Figure("PRISMA 2020 flow diagram", prisma_svg(flow)), table


def _queue_table(store: Any, review: str, limit: int = 10) -> Table:
    """The best-ranked records still awaiting title/abstract screening."""
    from registry.screening.state import screening_queue

    items = screening_queue(store, review)
    rows = []
    for it in items[:limit]:
        r = it.record
        ident = f"PMID {r['pmid']}" if r.get("pmid") else f"{r.get('source')} {r.get('source_id')}"
        rows.append((_cell(r.get("title")), _cell(r.get("year")), _cell(r.get("journal")),
                     ident, f"{it.score.total:g}"))
    caption = (f"{len(items)} records await title/abstract screening"
               + (f"; the {limit} best-ranked are shown" if len(items) > limit else "")
               + " (registry screen next).")
    return Table(("Title", "Year", "Journal", "Identifier", "Score"), tuple(rows),
                 caption=caption, empty_text="No record awaits screening.")


# ---------------------------------------------------------------------------- what's new
_SENSITIVITY_LABELS = {"rct_only": "RCTs only", "low_rob": "low risk of bias only"}


def _what(r: dict[str, Any], names: dict[str, str], tp_labels: dict[str, str]) -> str:
    """'Serum albumin (6 months) [route = hepatic artery]' for one stored result."""
    out = names.get(r["outcome"], r["outcome"])
    if r.get("time_point"):
        out += f" ({tp_labels.get(r['time_point'], r['time_point'])})"
    if r.get("subgroup_set"):
        out += f" [{r['subgroup_set']} = {r['subgroup']}]"
    if r.get("sensitivity"):
        out += f" [{_SENSITIVITY_LABELS.get(r['sensitivity'], r['sensitivity'])}]"
    return out


def _whats_new(
    prev: dict[str, Any] | None,
    prev_results: list[dict[str, Any]],
    results: list[dict[str, Any]],
    study_ids: Sequence[str],
    n_records: int,
    names: dict[str, str],
    tp_labels: dict[str, str] | None = None,
) -> WhatsNew:
    if prev is None:
        return WhatsNew(True, None, n_records, tuple(study_ids), (), ())
    tp_labels = tp_labels or {}
    old = {r["analysis_id"]: r for r in prev_results}
    now = {r["analysis_id"] for r in results}
    moved, changed = [], []
    for r in results:
        o = old.get(r["analysis_id"])
        if o is None or o["estimate"] is None or r["estimate"] is None:
            continue
        width = abs((o["ci_ub"] or 0) - (o["ci_lb"] or 0))
        shift = abs(r["estimate"] - o["estimate"])
        m = r["measure"]
        what = _what(r, names, tp_labels)
        if width > 0 and shift > MOVE_FRACTION * width:
            moved.append(
                f"{what}: {_fmt(_present(m, o['estimate']))} → {_fmt(_present(m, r['estimate']))}"
                f" (k {o['k']} → {r['k']})")
        sig_old = o["pval"] is not None and o["pval"] < 0.05
        sig_new = r["pval"] is not None and r["pval"] < 0.05
        flipped = sig_old and sig_new and np.sign(o["estimate"]) != np.sign(r["estimate"])
        if sig_old != sig_new or flipped:
            changed.append(
                f"{what}: was {'significant' if sig_old else 'not significant'}, now "
                f"{'significant' if sig_new else 'not significant'}"
                + (" in the opposite direction" if flipped else ""))
    for aid, o in old.items():  # analyses the previous version had and this one cannot pool
        if aid in now or o.get("subgroup_set") or o.get("sensitivity"):
            continue
        what = _what(o, names, tp_labels)
        moved.append(f"{what}: no longer pooled (was k = {o['k']})")
        if o["pval"] is not None and o["pval"] < 0.05:
            changed.append(f"{what}: was significant, now no pooled estimate")
    before = list(prev.get("study_ids") or [])
    new_studies = tuple(s for s in study_ids if s not in set(before))
    removed = tuple(s for s in before if s not in set(study_ids))
    return WhatsNew(
        first_version=False,
        previous_label=prev["label"],
        new_records=max(0, n_records - int(prev.get("n_records") or 0)),
        new_studies=new_studies,
        moved=tuple(moved),
        changed_conclusions=tuple(changed),
        removed_studies=removed,
    )


# ---------------------------------------------------------------------------- entry point
def _frame_digest(h: Any, name: str, df: pd.DataFrame | None) -> None:
    h.update(name.encode())
    if df is not None and len(df):
        h.update(df.to_csv(index=False).encode())


def build_report(store: Any, review: str, *, now: dt.datetime | None = None) -> BuiltReport:
    """Compute the review's full evidence summary from the registry (see module docstring)."""
    from registry.curation import gaps as curation_gaps
    from registry.curation import pooling_inputs, published_results

    protocol = load_protocol(review)
    preset_name = protocol.analysis.preset
    studies = store.curation_rows(review, "studies")
    arms = store.curation_rows(review, "arms")
    rob = store.curation_rows(review, "risk_of_bias")
    ae = store.curation_rows(review, "adverse_events")
    if len(studies) and "included_in" in studies.columns:
        studies = studies[studies["included_in"].fillna("main").astype(str) != "excluded"]
    study_ids = [str(s) for s in studies["study_id"]] if len(studies) else []
    inputs = pooling_inputs(store, review)

    results: list[dict[str, Any]] = []
    sections: list[OutcomeSection] = []
    sof_rows: list[tuple[str, ...]] = []
    headlines: list[Headline] = []
    warnings: list[str] = []
    h = hashlib.sha256()
    h.update((protocol.path.read_text(encoding="utf-8")).encode())
    for name, frame in (("studies", studies), ("arms", arms), ("rob", rob), ("ae", ae)):
        _frame_digest(h, name, frame)
    by_outcome: dict[str, list[tuple[OutcomeSection, Any]]] = {}
    for inp in inputs:
        _frame_digest(h, f"{inp.outcome.id}/{getattr(inp.time_point, 'id', '')}", inp.data)
        sec = _outcome_section(inp, protocol, preset_name, results, sof_rows)
        sections.append(sec)
        by_outcome.setdefault(inp.outcome.id, []).append((sec, inp))
    time_sets = [g for g in protocol.subgroups if g.by in ("time_point", "time")]
    if time_sets:
        for o in protocol.outcomes:
            ins = [i for s, i in by_outcome.get(o.id, [])]
            sec = _time_subgroup_section(o, ins, time_sets[0], preset_name, results)
            if sec is not None:
                sections.append(sec)
    for o in protocol.outcomes:
        if not o.primary:
            continue
        pooled = [(s, i) for s, i in by_outcome.get(o.id, []) if s.main is not None]
        if not pooled:
            why = [s.note for s, _ in by_outcome.get(o.id, []) if s.note.startswith("Not pooled")]
            headlines.append(Headline(o.name, "any time point", 0, None, why[0] + "." if why
                                      else "no time point has two or more studies with usable "
                                      "data yet; see Data gaps."))
            continue
        sec, _inp = max(pooled, key=lambda t: (t[0].main.k, t[0].main.n_participants or 0))
        p = sec.main
        assert p is not None
        arm = "experimental intervention" if p.favours == "experimental" else "control"
        verdict = f"favours the {arm}" if p.significant else "no significant difference"
        headlines.append(Headline(
            o.name, sec.time_point, p.k, p.n_participants,
            f"{p.effect.measure} {_fmt(p.effect.estimate)} (95% CI {_fmt(p.effect.ci_lb)} to "
            f"{_fmt(p.effect.ci_ub)}), {p.k} studies"
            + (f", {p.n_participants} participants" if p.n_participants else "")
            + f", I² = {_fmt(p.i2, 0)}%: {verdict}.",
            p,
        ))

    records = store.record_counts(review) if hasattr(store, "record_counts") else {}
    n_records = int(sum(v.get("records", 0) if isinstance(v, dict) else int(v)
                        for v in records.values())) if records else 0
    h.update(f"records={n_records}".encode())
    scr = screening_summary(store, review)
    # screening and dedup state belong to the data a report shows (PRISMA, queue)
    h.update(json.dumps(scr, sort_keys=True, default=str).encode())
    h.update(json.dumps(store.prisma_identification(review), sort_keys=True,
                        default=str).encode())
    data_hash = h.hexdigest()
    versions = store.report_versions(review)
    # the same data as the newest version: that version again, compared with the one before
    unchanged = bool(versions) and versions[0]["data_hash"] == data_hash
    prev = versions[1] if unchanged and len(versions) > 1 else (
        None if unchanged else (versions[0] if versions else None))
    prev_results = store.analysis_results(prev["version_id"]) if prev else []
    names = {o.id: o.name for o in protocol.outcomes}
    whats_new = _whats_new(prev, prev_results, results, study_ids, n_records, names,
                           {t.id: t.label for t in protocol.time_points})

    prisma_fig, prisma_table = _prisma(store, protocol, study_ids, scr)
    rob_t, rob_s, rob_note = _rob_figures(rob, study_ids)
    pub = published_results(store, review)
    runs = store.search_runs(review) if hasattr(store, "search_runs") else []
    now = now or dt.datetime.now(dt.UTC)
    if unchanged:
        label = versions[0]["label"]
    else:
        label = f"v{len(versions) + 1}-{now:%Y-%m-%d}-{data_hash[:8]}"
    from registry.curation.validate import design_warnings

    warnings.extend(design_warnings(studies, protocol) if len(studies) else [])
    q = protocol.question
    report = ReviewReport(
        review=review,
        title=protocol.title,
        example=protocol.example,
        registration=protocol.registration,
        question={k: v for k, v in (("population", q.population),
                                    ("intervention", q.intervention),
                                    ("comparison", q.comparison), ("outcomes", q.outcomes),
                                    ("study designs", q.study_designs)) if v},
        version_label=label,
        data_hash=data_hash,
        generated_at=f"{now:%Y-%m-%d %H:%M} UTC",
        tool_version=__version__,
        whats_new=whats_new,
        headlines=tuple(headlines),
        prisma=prisma_fig,
        prisma_table=prisma_table,
        studies=_studies_table(studies, arms, protocol),
        design_check=_design_table(studies, protocol),
        rob_traffic=rob_t,
        rob_summary=rob_s,
        rob_note=rob_note,
        outcomes=tuple(sections),
        adverse_events=_ae_table(ae),
        gaps=_gaps_table(curation_gaps(store, review), _screened_studies(scr), study_ids),
        sof=Table(("Outcome", "Time point", "Studies", "Participants", "Effect [95% CI]",
                   "Risk of bias", "Inconsistency", "Indirectness", "Imprecision",
                   "Publication bias", "Certainty", "Why"), tuple(sof_rows),
                  empty_text="No outcome pooled yet, so no certainty rating."),
        published_vs_registry=_published_table(pub, results, protocol),
        methods=_methods(protocol, preset_name, runs),
        screening_queue=_queue_table(store, review),
        warnings=tuple(warnings),
    )
    summary = {
        "headline": f"{len(study_ids)} studies, {sum(1 for s in sections if s.main)} pooled "
                    "analyses",
        "new_studies": list(whats_new.new_studies) if not whats_new.first_version else [],
        "new_records": whats_new.new_records,
        "moved": list(whats_new.moved),
        "changed_conclusions": list(whats_new.changed_conclusions),
    }
    return BuiltReport(report, results, summary, study_ids, n_records, preset_name,
                       unchanged_version=versions[0]["version_id"] if unchanged else None)
