"""Report tables: included studies, design check, adverse events, data gaps, published vs
re-analysed, the screening queue. Cells arrive formatted; templates only lay them out."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from registry.curation import check_published
from registry.curation.validate import is_rct
from registry.evidence.results import fmt, measure_name, present
from registry.screening.state import screening_queue
from registry.store import Store
from reports.model import Table
from schemas.protocol import Protocol
from schemas.values import is_missing

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def cell(v: Any) -> str:
    """A table cell: blank for missing values, large numbers as 1.6 × 10⁷."""
    if is_missing(v):
        return ""
    if isinstance(v, float):
        if abs(v) >= 1e5:  # cell doses and the like: 1.6 × 10⁷ rather than 1.6e+07
            exp = int(math.floor(math.log10(abs(v))))
            return f"{v / 10**exp:g} × 10{str(exp).translate(_SUPERSCRIPT)}"
        return f"{v:g}"
    return str(v)


def studies_table(studies: pd.DataFrame, arms: pd.DataFrame, protocol: Protocol) -> Table:
    """Characteristics of included studies (protocol's characteristics as columns)."""
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
            cell(sid),
            cell(s.get("country")),
            cell(s.get("design_reported")),
            randomised,
            analysed,
            *[cell(s.get(c)) for c in chars],
            cell(s.get("follow_up")),
            cell(s.get("source")),
        ))
    return Table(tuple(cols), tuple(rows), empty_text="No included studies yet.")


def design_table(studies: pd.DataFrame) -> Table:
    """Design as reported vs as assessed, with the non-randomised flag."""
    rows = []
    for _, s in studies.iterrows():
        rep, ass = s.get("design_reported"), s.get("design_assessed")
        rct = is_rct(ass, rep)
        flag = "" if rct else "flagged: not randomised as assessed; left out of RCT-only analyses"
        if is_missing(ass):
            flag = "design not independently assessed"
        rows.append((cell(s["study_id"]), cell(rep), cell(ass),
                     cell(s.get("design_assessed_source")), flag))
    return Table(("Study", "As reported", "As assessed", "Assessment source", "Check"),
                 tuple(rows), empty_text="No included studies yet.")


def ae_table(ae: pd.DataFrame) -> Table:
    """Adverse events as recorded."""
    rows = []
    for _, r in ae.iterrows():
        rows.append((cell(r.get("study_id")), cell(r.get("arm_id")) or "all",
                     cell(r.get("event")), cell(r.get("count")) or "not reported",
                     cell(r.get("serious")), cell(r.get("reported_text")),
                     cell(r.get("source"))))
    return Table(("Study", "Arm", "Event", "Count", "Serious", "As reported", "Source"),
                 tuple(rows), empty_text="No adverse-event data recorded.")


def gaps_table(
    gaps: Any, screened: dict[str, list[str]] | None = None, study_ids: Sequence[str] = ()
) -> Table:
    """What still needs extraction; studies included at full text without data come first."""
    df = gaps if isinstance(gaps, pd.DataFrame) else pd.DataFrame(gaps)
    pending = [(sid, reps) for sid, reps in (screened or {}).items() if sid not in study_ids]
    if not len(df) and not pending:
        return Table(("Study", "Outcome", "Time point", "Missing"), (),
                     empty_text="Nothing is missing.")
    cols = tuple(str(c) for c in df.columns) if len(df.columns) else (
        "study_id", "outcome", "time_point", "status", "detail")
    rows = [tuple(cell(v) for v in r) for r in df.itertuples(index=False)]
    for sid, reps in pending:
        extra = (sid, "(study)", "(any)", "not extracted",
                 f"included at full text ({', '.join(reps)}); no extraction sheet yet")
        rows.insert(0, extra[: len(cols)] + ("",) * max(0, len(cols) - len(extra)))
    return Table(cols, tuple(rows))


def _registry_estimate(r: dict[str, Any] | None) -> str:
    if r is None:
        return "not re-analysed (data not yet extracted)"
    m = r["measure"]
    return (f"{measure_name(m)} {fmt(present(m, r['estimate']))} "
            f"[{fmt(present(m, r['ci_lb']))}, {fmt(present(m, r['ci_ub']))}], k = {r['k']}")


PUBLISHED_ONLY = "as published, not re-analysed (trial data not yet extracted)"


def published_text(p: pd.Series) -> str:
    """'MD -1.12 [-1.84, -0.4], k = 6' as printed in the publication."""
    return (f"{cell(p.get('measure'))} {cell(p.get('estimate'))} "
            f"[{cell(p.get('ci_lower'))}, {cell(p.get('ci_upper'))}]"
            + (f", k = {cell(p.get('k'))}" if cell(p.get("k")) else ""))


def reanalysis_of(
    p: pd.Series, results: list[dict[str, Any]], protocol: Protocol
) -> dict[str, Any] | None:
    """The registry's main result for a published overall result's outcome and time point."""
    if cell(p.get("subgroup")):
        return None
    tp_raw = cell(p.get("time_point"))
    tp = {t.label.lower(): t.id for t in protocol.time_points}.get(tp_raw.lower(), tp_raw)
    for r in results:
        if r.get("subgroup_set") or r.get("sensitivity") or r["outcome"] != str(p.get("outcome")):
            continue
        if r["time_point"] == tp:
            return r
    return None


def _checked(p: pd.Series) -> str:
    """What the consistency check compared when it found nothing wrong."""
    parts = []
    if all(cell(p.get(c)) for c in ("estimate", "ci_lower", "ci_upper")):
        parts += ["estimate inside its CI", "CI symmetric"]
        if cell(p.get("p_value")):
            parts.append("P agrees with the CI")
    if all(cell(p.get(c)) for c in ("n_experimental", "n_control", "n_participants")):
        parts.append("arm counts add up")
    if not parts:
        return "not checked (no estimate with its CI)"
    return "consistent within the publication: " + ", ".join(parts)


def published_table(pub: pd.DataFrame, results: list[dict[str, Any]], protocol: Protocol
                    ) -> Table:
    """Each published pooled result next to the registry's re-analysis and its check."""
    findings: dict[str, list[str]] = {}
    for f in check_published(pub):
        findings.setdefault(str(f.result_id), []).append(f.message)
    rows = []
    for _, p in pub.iterrows():
        r = reanalysis_of(p, results, protocol)
        rows.append((cell(p.get("outcome")), cell(p.get("time_point")),
                     cell(p.get("subgroup")) or "overall", published_text(p),
                     cell(p.get("p_value")), _registry_estimate(r), cell(p.get("location")),
                     "; ".join(findings.get(str(p.get("result_id")), [])) or _checked(p)))
    return Table(("Outcome", "Time point", "Subgroup", "Published", "Published P",
                  "Registry re-analysis", "Where published", "Consistency check"),
                 tuple(rows), empty_text="No published results are stored for this review.")


def queue_table(store: Store, review: str, limit: int = 10) -> Table:
    """The best-ranked records still awaiting title/abstract screening."""
    items = screening_queue(store, review)
    rows = []
    for it in items[:limit]:
        r = it.record
        ident = f"PMID {r['pmid']}" if r.get("pmid") else f"{r.get('source')} {r.get('source_id')}"
        rows.append((cell(r.get("title")), cell(r.get("year")), cell(r.get("journal")),
                     ident, f"{it.score.total:g}"))
    caption = (f"{len(items)} records await title/abstract screening"
               + (f"; the {limit} best-ranked are shown" if len(items) > limit else "")
               + " (registry screen next).")
    return Table(("Title", "Year", "Journal", "Identifier", "Score"), tuple(rows),
                 caption=caption, empty_text="No record awaits screening.")


SOF_COLUMNS = ("Outcome", "Time point", "Studies", "Participants", "Effect [95% CI]",
               "Absolute effect per 1,000 (control → intervention)", "Risk of bias",
               "Inconsistency", "Indirectness", "Imprecision", "Publication bias", "Certainty",
               "Why")
