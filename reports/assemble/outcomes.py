"""Outcome sections of the report: the pooled result, subgroup and sensitivity views and
the Summary-of-Findings row, from :mod:`registry.evidence.plan`'s computed evidence."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from registry.evidence import grade
from registry.evidence.plan import (
    FIXED_METHODS,
    OutcomeEvidence,
    SubgroupEvidence,
    TimeSubgroupEvidence,
)
from registry.evidence.results import NotComputed, fmt, measure_name, n_participants, present
from registry.pooling import get_preset
from registry.pooling.api import Analysis
from reports.assemble.figures import forest, funnel, model_label, sequential_figure
from reports.model import Effect, OutcomeSection, Pooled, SensitivityRow, SubgroupView
from reports.render import p_clause
from schemas.protocol import Protocol


def _favours(estimate: float, direction: str) -> str:
    """Which arm a (significant) estimate favours, given the outcome's direction."""
    lower_better = direction == "lower_is_better"
    below_null = estimate < 0.0  # analysis scale: MD/SMD/RD, and log OR / log RR
    return "experimental" if below_null == lower_better else "control"


def pooled_view(
    analysis_id: str, label: str, a: Analysis, df: pd.DataFrame, direction: str, show_pi: bool
) -> Pooled:
    """One fitted model on the presentation scale."""
    r = a.result
    m = a.measure
    used = df[df["label"].isin(a.studies)] if "label" in df.columns else df
    sig = bool(r.pval < 0.05)
    pi = None
    if show_pi and r.pi_lb is not None and r.method not in FIXED_METHODS and r.k >= 3:
        pi = (present(m, r.pi_lb), present(m, r.pi_ub))
    return Pooled(
        analysis_id=analysis_id,
        label=label,
        k=r.k,
        n_participants=n_participants(used),
        effect=Effect(
            measure=measure_name(m),
            estimate=present(m, r.estimate),  # type: ignore[arg-type]
            ci_lb=present(m, r.ci_lb),  # type: ignore[arg-type]
            ci_ub=present(m, r.ci_ub),  # type: ignore[arg-type]
            pval=r.pval,
        ),
        model=model_label(a),
        tau2=None if a.method in FIXED_METHODS else r.tau2,
        i2=r.i2,
        q=r.q,
        df=r.df,
        q_pval=r.q_pval,
        stat_name="t" if r.test == "t" else "Z",
        stat=r.stat,
        pi=pi,  # type: ignore[arg-type]
        significant=sig,
        favours=_favours(r.estimate, direction) if sig else None,
    )


def _subgroup_test(a: Analysis) -> str:
    st = a.subgroups
    assert st is not None
    return (f"Test for subgroup differences: Chi² = {st.q:.2f}, df = {st.df} "
            f"({p_clause(st.pval)}), I² = {st.i2:.0f}%")


def _subgroup_view(ev: SubgroupEvidence, oe: OutcomeEvidence, title: str, show_pi: bool,
                   flags: Mapping[str, str]) -> SubgroupView:
    label = ev.sset.label
    if ev.analysis is None:
        return SubgroupView(label=label, figure=None, test_text="", note=ev.note)
    return SubgroupView(
        label=label,
        figure=forest(ev.analysis, oe.df, oe.outcome, f"{title} — subgroups by {label}",
                      show_pi, flags=flags),
        test_text=_subgroup_test(ev.analysis),
    )


def _sensitivity_rows(oe: OutcomeEvidence, show_pi: bool) -> list[SensitivityRow]:
    direction = oe.outcome.direction
    rows = []
    for s in oe.sensitivity:
        pooled = None if s.analysis is None else pooled_view(
            f"{oe.base_id}/{s.key}", s.label, s.analysis, s.kept, direction, show_pi)
        rows.append(SensitivityRow(s.label, pooled, note=s.note))
    if isinstance(oe.fixed, NotComputed):
        rows.append(SensitivityRow("Fixed-effect model", None, note=oe.fixed.text()))
    elif oe.fixed is not None:
        rows.append(SensitivityRow(
            "Fixed-effect model",
            pooled_view(f"{oe.base_id}/fixed", "Fixed effect", oe.fixed, oe.df, direction,
                        False),
        ))
    return rows


def _small_study_note(main: Analysis) -> str:
    if main.egger is None:
        return (f"Funnel plot and Egger's test not shown: {main.result.k} studies "
                "(needs 10 or more).")
    e = main.egger
    small = (f"Egger's test: intercept {e.bias:.2f}, t = {e.stat:.2f}, df = {e.dfs}, "
             f"{p_clause(e.pval)}")
    if main.trimfill is not None:
        small += f"; trim-and-fill imputed {main.trimfill.k0} studies"
    return small


def outcome_section(oe: OutcomeEvidence, protocol: Protocol,
                    flags: Mapping[str, str] | None = None) -> OutcomeSection:
    """Everything the report shows for one outcome at one time point (``flags``: study_id
    -> integrity flag, shown beside the study in the forest plots)."""
    flags = flags or {}
    outcome = oe.outcome
    anchor = f"o-{outcome.id}-{oe.tp_id}".replace(" ", "-")
    head = dict(anchor=anchor, outcome=outcome.name, time_point=oe.tp_label,
                kind=outcome.kind, direction=outcome.direction)
    main = oe.main
    if main is None:
        return OutcomeSection(**head, main=None, forest=None, note=oe.note)  # type: ignore[arg-type]
    show_pi = get_preset(protocol.analysis.preset).prediction_interval
    title = f"{outcome.name}, {oe.tp_label}"
    return OutcomeSection(
        **head,  # type: ignore[arg-type]
        main=pooled_view(oe.base_id, "Overall", main, oe.df, outcome.direction, show_pi),
        forest=forest(main, oe.df, outcome, title, show_pi, flags=flags),
        subgroups=tuple(_subgroup_view(s, oe, title, show_pi, flags) for s in oe.subgroups),
        sensitivity=tuple(_sensitivity_rows(oe, show_pi)),
        leave_one_out=sequential_figure(main, outcome, "leave_one_out",
                                        f"{title} — leave-one-out", oe.years),
        cumulative=sequential_figure(main, outcome, "cumulative",
                                     f"{title} — cumulative by publication year", oe.years),
        funnel=funnel(main, f"{title} — funnel plot"),
        small_study_note=_small_study_note(main),
        note=oe.note,
    )


def time_subgroup_section(ev: TimeSubgroupEvidence,
                          flags: Mapping[str, str] | None = None) -> OutcomeSection:
    """One forest with a subgroup per time point (as Lu 2023 and RevMan lay them out).

    No overall diamond: the same participants appear at several time points, so pooling
    across them would count them twice; only the subgroup estimates and the test for
    subgroup differences are shown. A fit that failed is shown as "Not computed: reason".
    """
    outcome, sset = ev.outcome, ev.sset
    title = f"{outcome.name} — subgroups by {sset.label}"
    if isinstance(ev.analysis, NotComputed):
        view = SubgroupView(label=sset.label, figure=None, test_text="",
                            note=ev.analysis.text())
    else:
        view = SubgroupView(
            label=sset.label,
            figure=forest(ev.analysis, ev.df, outcome, title, False, with_total=False,
                          flags=flags),
            test_text=_subgroup_test(ev.analysis),
            note="No overall estimate across time points: the same participants are "
                 "measured at several of them.",
        )
    return OutcomeSection(
        anchor=f"o-{outcome.id}-by-time",
        outcome=outcome.name,
        time_point="all time points",
        kind=outcome.kind,
        direction=outcome.direction,
        main=None,
        forest=None,
        subgroups=(view,),
    )


def _absolute_text(oe: OutcomeEvidence, p: Pooled) -> str:
    """'150 per 1,000 → 74 per 1,000 (76 fewer; 95% CI 99 fewer to 45 fewer)' or a dash."""
    e = p.effect
    ab = grade.absolute_effect(e.measure, e.estimate, e.ci_lb, e.ci_ub,
                               grade.control_risk(oe.df))
    if ab is None:
        return "—"

    def diff(x: int) -> str:
        return f"{abs(x)} fewer" if x < 0 else f"{x} more" if x > 0 else "no difference"

    c = ab.control_per_1000
    return (f"{c} per 1,000 → {ab.risk_per_1000} per 1,000 ({diff(ab.difference)}; 95% CI "
            f"{diff(ab.lb_per_1000 - c)} to {diff(ab.ub_per_1000 - c)})")


def sof_row(oe: OutcomeEvidence, sec: OutcomeSection, protocol: Protocol) -> tuple[str, ...]:
    """One Summary-of-Findings row with the suggested GRADE domains."""
    p = sec.main
    assert p is not None
    g = grade.suggest(oe.outcome, oe.df, i2=p.i2, significant=p.significant,
                      n_participants=p.n_participants,
                      curated=dict(protocol.grade.get(oe.outcome.id, {})))
    return (
        oe.outcome.name,
        sec.time_point,
        str(p.k),
        str(p.n_participants or "—"),
        f"{p.effect.measure} {fmt(p.effect.estimate)} [{fmt(p.effect.ci_lb)}, "
        f"{fmt(p.effect.ci_ub)}]",
        _absolute_text(oe, p),
        g.shown["risk_of_bias"],
        g.shown["inconsistency"],
        g.shown["indirectness"],
        g.shown["imprecision"],
        g.shown["publication_bias"],
        g.certainty,
        "; ".join(g.reasons) or "—",
    )
