"""Figure inputs for the report: forest, leave-one-out, cumulative, funnel and risk-of-bias
plots built from fitted analyses, drawn by :mod:`reports.figures`."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from registry.evidence.plan import FIXED_METHODS
from registry.evidence.results import measure_name
from registry.pooling import get_preset
from registry.pooling.api import Analysis
from reports.figures import model as fig
from reports.figures.forest import cumulative_forest_svg, forest_svg, leave_one_out_svg
from reports.figures.funnel import funnel_svg
from reports.figures.rob import ROB1_DOMAINS, rob_summary_svg, rob_traffic_light_svg
from reports.model import Figure
from schemas.protocol import Outcome
from schemas.values import Z975, float_or_none


def model_label(a: Analysis) -> str:
    """'random effects (DerSimonian-Laird), Wald CI' for a fitted model."""
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


def _mh_random(a: Analysis, kind: str) -> bool:
    """RevMan 5 pools 2x2 tables by Mantel-Haenszel also under random effects."""
    return kind == "dichotomous" and a.preset is not None and \
        get_preset(a.preset).dichotomous == "MH"


def revman_method_label(a: Analysis, kind: str) -> str:
    """RevMan's method column: 'M-H, Random, 95% CI'."""
    mh_random = _mh_random(a, kind)
    name = {"MH": "M-H", "PETO": "Peto"}.get(a.method, "M-H" if mh_random else "IV")
    model = "Fixed" if a.method in FIXED_METHODS else "Random"
    return f"{name}, {model}, 95% CI"


def _arm(row: pd.Series, i: int, kind: str) -> fig.Arm:
    def num(c: str) -> float | None:
        return float_or_none(row.get(c))

    n = num(f"n{i}")
    if kind == "dichotomous":
        ev = num(f"events{i}")
        return fig.Arm(n=None if n is None else int(n), events=None if ev is None else int(ev))
    return fig.Arm(n=None if n is None else int(n), mean=num(f"mean{i}"), sd=num(f"sd{i}"))


def _study_rows(a: Analysis, df: pd.DataFrame, kind: str, idx: Sequence[int],
                flags: Mapping[str, str]) -> list[Any]:
    by_label = {str(r["label"]): r for _, r in df.iterrows()}
    w = a.result.weights_percent
    rows = []
    for i in idx:
        lab = a.studies[i]
        y, v = float(a.effect_sizes.yi[i]), float(a.effect_sizes.vi[i])
        half = Z975 * math.sqrt(v)  # per-study Wald CI
        src = by_label.get(lab)
        flag = flags.get(str(src["study_id"])) if src is not None and "study_id" in src \
            else None
        rows.append(
            fig.StudyRow(
                label=f"{lab} {flag}" if flag else lab,
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


def _groups(a: Analysis, df: pd.DataFrame, kind: str, flags: Mapping[str, str]
            ) -> tuple[list[Any], Any]:
    """Forest groups (one per subgroup, or one for all) and the subgroup test."""
    if a.subgroups is None:
        rows = _study_rows(a, df, kind, range(len(a.studies)), flags)
        return [fig.ForestGroup(studies=tuple(rows))], None
    groups = []
    for sg in a.subgroups.subgroups:
        labels = [a.studies[i] for i in sg.rows]
        groups.append(fig.ForestGroup(
            studies=tuple(_study_rows(a, df, kind, sg.rows, flags)),
            title=sg.label,
            subtotal=fig.PooledRow.from_meta(
                sg.result, label="Subtotal (95% CI)", **_totals(df, labels, kind)),
        ))
    st = a.subgroups
    return groups, fig.SubgroupTest(q=st.q, df=st.df, pval=st.pval, i2=st.i2)


def forest(
    a: Analysis, df: pd.DataFrame, outcome: Outcome, title: str, show_pi: bool,
    with_total: bool = True, flags: Mapping[str, str] | None = None,
) -> Figure:
    """RevMan-style forest plot of one analysis (subgroups when it has them); a study
    with an integrity flag (``flags``: study_id -> "[retracted]", ...) is labelled so."""
    kind = outcome.kind
    groups, sg_test = _groups(a, df, kind, flags or {})
    total = fig.PooledRow.from_meta(
        a.result, show_pi=show_pi and a.result.k >= 3, label="Total (95% CI)",
        weight_percent=100.0, **_totals(df, a.studies, kind),
    )
    plot = fig.ForestPlot(
        measure=measure_name(a.measure),
        groups=tuple(groups),
        kind="dichotomous" if kind == "dichotomous" else "continuous",
        direction=outcome.direction,  # type: ignore[arg-type]
        total=total if with_total else None,
        subgroup_test=sg_test,
        method_label=revman_method_label(a, kind),
        experimental_label="Experimental",
        control_label="Control",
        title=title,
        description=f"Forest plot of {title}: {len(a.studies)} studies.",
    )
    return Figure(title=title, svg=forest_svg(plot))


def sequential_figure(
    a: Analysis, outcome: Outcome, mode: str, title: str, years: dict[str, Any]
) -> Figure | None:
    """Leave-one-out or cumulative forest of a fitted analysis (None when not run)."""
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
        measure=measure_name(a.measure),
        rows=tuple(rows),
        mode=mode,  # type: ignore[arg-type]
        overall=fig.PooledRow.from_meta(a.result, label="All studies"),
        direction=outcome.direction,  # type: ignore[arg-type]
        method_label=revman_method_label(a, outcome.kind),
        title=title,
        description=title,
    )
    draw = leave_one_out_svg if mode == "leave_one_out" else cumulative_forest_svg
    return Figure(title=title, svg=draw(plot))


def funnel(a: Analysis, title: str) -> Figure | None:
    """Funnel plot with Egger's test and trim-and-fill (None below 10 studies)."""
    if a.egger is None:
        return None
    tf = a.trimfill
    plot = fig.FunnelPlot(
        measure=measure_name(a.measure),
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


def rob_figures(
    rob: pd.DataFrame, study_ids: Sequence[str]
) -> tuple[Figure | None, Figure | None, str]:
    """Traffic-light and summary plots of the recorded judgements, with a note."""
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
