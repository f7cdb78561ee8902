"""Screening results as the lines the CLI prints (the JSON output keeps every key)."""

from __future__ import annotations

from typing import Any

from registry.screening.progress import ScreeningStatus


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def summary_lines(s: dict[str, Any]) -> list[str]:
    """The PRISMA screening boxes and reviewer agreement as readable lines."""
    g = s.get
    lines = [
        f"title/abstract: {g('records_to_screen', 0)} records, {g('records_screened', 0)} "
        f"screened, {g('excluded_title_abstract', 0)} excluded, {g('awaiting_screening', 0)} "
        "awaiting screening",
        f"full text: {g('reports_sought', 0)} sought, {g('reports_not_retrieved', 0)} not "
        f"retrieved, {g('reports_assessed', 0)} assessed, {g('awaiting_full_text', 0)} awaiting, "
        f"{g('awaiting_classification', 0)} awaiting classification",
    ]
    excluded = g("excluded_full_text") or {}
    if isinstance(excluded, dict) and any(excluded.values()):
        lines.append(f"excluded at full text: {g('excluded_full_text_total', 0)}")
        lines.extend(f"  {reason}: {n}" for reason, n in excluded.items() if n)
    studies, reports = g("studies_included", 0), g("reports_included", 0)
    lines.append(
        f"included: {studies} {_plural(studies, 'study', 'studies')} from {reports} "
        f"{_plural(reports, 'report', 'reports')}"
    )
    conflicts = g("conflicts") or {}
    if isinstance(conflicts, dict) and any(conflicts.values()):
        lines.append("conflicts: " + ", ".join(f"{k} {v}" for k, v in conflicts.items()))
    for a in g("agreement") or []:
        if a["pairs"]:
            kappa = "undefined (one category only)" if a["kappa"] is None else f"{a['kappa']:.2f}"
            lines.append(
                f"agreement at {a['stage']}: {a['percent_agreement']:.1f} % of {a['pairs']} "
                f"records decided by two reviewers, Cohen's kappa {kappa}"
            )
    return lines


def _recall(v: dict[str, Any]) -> str:
    r = v["recall"]
    if r["estimate"] is None:
        return "estimated recall: not yet (no include screened)"
    low = "below 50 %" if r["lower"] is None else f"{r['lower']:.1%}"
    return f"estimated recall {r['estimate']:.1%} (95 % interval {low} to {r['upper']:.0%})"


def status_lines(st: ScreeningStatus) -> list[str]:
    """Overall status, then one block per update round."""
    lines = [f"{st.review}: ordered by {st.ordered_by}"]
    blocks = [("all rounds", st.overall)] + [(f"round {r.round}", r) for r in st.rounds]
    if len(st.rounds) == 1:
        blocks = blocks[:1]
    for name, r in blocks:
        v = r.verdict.as_dict()
        lines.append(
            f"{name}: {v['screened']}/{v['total']} screened, {v['includes']} included; "
            f"{_recall(v)}; {r.verdict.line()}; {v['excludes_in_a_row']} excludes in a row "
            f"(heuristic: stop after {v['heuristic_n']})"
        )
    return lines
