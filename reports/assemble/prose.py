"""Report prose: the headline sentences of the primary outcomes and the methods paragraphs."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pandas as pd

from registry.evidence.results import fmt
from registry.pooling import get_preset
from reports.assemble import tables
from reports.model import Headline, OutcomeSection, ScreeningNote
from schemas.protocol import Outcome, Protocol


def _headline(o: Outcome, sections: Sequence[OutcomeSection]) -> Headline:
    pooled = [s for s in sections if s.main is not None]
    if not pooled:
        why = [s.note for s in sections if s.note.startswith("Not pooled")]
        return Headline(o.name, "any time point", 0, None, why[0] + "." if why
                        else "no time point has two or more studies with usable "
                        "data yet; see Data gaps.")
    sec = max(pooled, key=lambda s: (s.main.k, s.main.n_participants or 0))  # type: ignore[union-attr]
    p = sec.main
    assert p is not None
    arm = "experimental intervention" if p.favours == "experimental" else "control"
    verdict = f"favours the {arm}" if p.significant else "no significant difference"
    return Headline(
        o.name, sec.time_point, p.k, p.n_participants,
        f"{p.effect.measure} {fmt(p.effect.estimate)} (95% CI {fmt(p.effect.ci_lb)} to "
        f"{fmt(p.effect.ci_ub)}), {p.k} studies"
        + (f", {p.n_participants} participants" if p.n_participants else "")
        + f", I² = {fmt(p.i2, 0)}%: {verdict}.",
        p,
    )


def _published_lines(
    o: Outcome, pub: pd.DataFrame, results: list[dict[str, Any]], protocol: Protocol
) -> tuple[str, ...]:
    """The outcome's published overall results, labelled as published (and whether the
    registry has re-analysed them yet)."""
    if pub is None or not len(pub) or "outcome" not in pub.columns:
        return ()
    lines = []
    for _, p in pub[pub["outcome"].astype(str) == o.id].iterrows():
        if tables.cell(p.get("subgroup")):
            continue
        label = ("as published; re-analysed above" if tables.reanalysis_of(p, results, protocol)
                 else tables.PUBLISHED_ONLY)
        tp = tables.cell(p.get("time_point"))
        pv = tables.cell(p.get("p_value"))
        pv = "" if not pv else f"P {pv}" if pv[:1] in "<>" else f"P = {pv}"
        where = tables.cell(p.get("location"))
        lines.append(f"{label.capitalize()}: {tables.published_text(p)}"
                     + (f" at {tp}" if tp else "") + (f", {pv}" if pv else "")
                     + (f" ({where})" if where else "") + ".")
    return tuple(lines)


def headlines(
    protocol: Protocol, by_outcome: dict[str, list[OutcomeSection]],
    pub: pd.DataFrame | None = None, results: list[dict[str, Any]] | None = None,
) -> list[Headline]:
    """One finding per primary outcome (its largest pooled analysis, or why there is none),
    then every other outcome with a published pooled result; each with the published
    results beside the registry's own."""
    out = []
    for o in sorted(protocol.outcomes, key=lambda o: not o.primary):
        published = _published_lines(o, pub, results or [], protocol) if pub is not None \
            else ()
        if not o.primary and not published:
            continue
        h = _headline(o, by_outcome.get(o.id, []))
        out.append(dataclasses.replace(h, published=published))
    return out


def methods(protocol: Protocol, preset_name: str, runs: list[dict[str, Any]]) -> str:
    """Three methods paragraphs: sources, analysis preset, certainty of evidence."""
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
          "in the protocol. Absolute effects per 1,000 apply the pooled risk or odds ratio to the "
          "assumed control risk, the pooled risk of the control arms.")
    return "\n\n".join([p1, p2, p3])


KEYWORD_ORDER = "by the registry's transparent keyword score (registry screen next)"


def _percent(x: Any) -> str:
    return f"{100 * float(x):.0f}%"


def recall_estimate(m: Any) -> dict[str, Any]:
    """The screening model's facts (``registry.screening.progress.ScreeningMethods``) in the
    form :func:`screening_note` reads: how the queue was ordered, the estimated recall, and
    the stopping rule with its verdict and the one-sided 95 % lower bound of recall."""
    criterion = f"{m.stopping_criterion}: {m.verdict}"
    if m.recall_lower is not None:
        criterion += f"; one-sided 95% lower bound of recall {_percent(m.recall_lower)}"
    return {"ordering": f"by {m.ordered_by}", "recall": m.recall_estimate, "criterion": criterion}


def screening_note(scr: dict[str, Any]) -> ScreeningNote:
    """The screening line from the store's screening summary.

    The plug-in point for the screening model is ``scr["recall_estimate"]``, a dict with any
    of ``ordering`` (str), ``recall`` (0-1), ``ci`` ((low, high)), ``target`` (0-1),
    ``p_value``, ``criterion`` (str) and ``safe_to_stop`` (bool). Without it the order is
    today's keyword score and recall and stopping rule read "not estimated".
    """
    est = scr.get("recall_estimate") or {}
    recall = "not estimated"
    if est.get("recall") is not None:
        ci = est.get("ci")
        recall = _percent(est["recall"]) + (
            f" (95% CI {_percent(ci[0])} to {_percent(ci[1])})" if ci else "")
    stopping = "not estimated"
    if est.get("criterion"):
        stopping = str(est["criterion"])
        if est.get("safe_to_stop") is not None:
            target = _percent(est.get("target", 0.95))
            verdict = "safe to stop" if est["safe_to_stop"] else "not yet safe to stop"
            p = f", P = {float(est['p_value']):.3g}" if est.get("p_value") is not None else ""
            stopping += f" ({verdict} at {target} recall{p})"
    return ScreeningNote(
        ordering=str(est.get("ordering") or KEYWORD_ORDER),
        screened=int(scr.get("records_screened", 0) or 0),
        to_screen=int(scr.get("records_to_screen", 0) or 0),
        recall=recall,
        stopping=stopping,
    )
