"""What still needs extraction: per study and protocol outcome / time point.

Missing data is reported, never filled in: a study with no values for an outcome, values
without a dispersion or a group size, an arm without its partner, or values reported at a
time the protocol's windows do not cover.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from registry.store import Store
from schemas.protocol import Outcome, Protocol, TimePoint, default_review
from schemas.values import float_or_none

from .inputs import review_protocol

GAP_COLUMNS = ("study_id", "outcome", "time_point", "status", "detail")


def _has_n(row: dict[str, Any], arm: dict[str, Any] | None) -> bool:
    cands = [row.get("n"), row.get("total")]
    if arm:
        cands += [arm.get("n_analysed"), arm.get("n_randomised")]
    return any(float_or_none(v) is not None for v in cands)


def review_gaps(store: Store, review: str | None = None) -> tuple[str, pd.DataFrame]:
    """(review, :func:`gaps` table) for ``review``, else the registry's default review."""
    name = default_review(review, store.curated_reviews())
    return name, gaps(store, name)


Gap = tuple[str, str, str, str, str]  # study_id, outcome, time_point, status, detail


def gaps(store: Store, review: str) -> pd.DataFrame:
    """One row per gap: study_id, outcome, time_point, status, detail.

    ``status`` is one of: no arms, no n, no risk of bias, no values, missing arm, missing
    dispersion, missing n, outside time windows. Studies marked ``included_in = excluded``
    are skipped. '(study)' and '(any)' stand for study-level and all-time-point gaps.
    """
    protocol = review_protocol(store, review)
    studies = store.curation_rows(review, "studies")
    if studies.empty:
        return pd.DataFrame(columns=list(GAP_COLUMNS))
    arms = store.curation_rows(review, "arms")
    outc = store.curation_rows(review, "outcomes")
    rob = store.curation_rows(review, "risk_of_bias")
    arm_by = {(a["study_id"], a["arm_id"]): a for a in arms.to_dict("records")} if len(arms) else {}
    rob_ids = set(rob["study_id"]) if len(rob) else set()
    arms_of: dict[str, list[dict[str, Any]]] = {}
    for (s, _), a in arm_by.items():
        arms_of.setdefault(s, []).append(a)
    rows_of: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in outc.to_dict("records") if len(outc) else []:
        rows_of.setdefault((r["study_id"], r["outcome"]), []).append(r)
    out: list[Gap] = []
    for st in studies.to_dict("records"):
        sid = st["study_id"]
        if st.get("included_in") == "excluded":
            continue
        out.extend(_study_gaps(sid, arms_of.get(sid, []), sid in rob_ids))
        for o in protocol.outcomes:
            out.extend(_outcome_gaps(sid, o, rows_of.get((sid, o.id), []), protocol, arm_by))
    return pd.DataFrame(out, columns=list(GAP_COLUMNS))


def _study_gaps(sid: str, arms: list[dict[str, Any]], has_rob: bool) -> list[Gap]:
    """Study-level gaps: no arms, an arm without n, no risk-of-bias judgements."""
    out: list[Gap] = []
    if not arms:
        out.append((sid, "(study)", "(any)", "no arms", "no arms sheet rows for this study"))
    for a in arms:
        if float_or_none(a.get("n_randomised")) is None:
            out.append((sid, "(study)", "(any)", "no n", f"arm {a['arm_id']} has no n_randomised"))
    if not has_rob:
        out.append((sid, "(study)", "(any)", "no risk of bias", "no judgements extracted"))
    return out


def _outcome_gaps(
    sid: str,
    o: Outcome,
    recs: list[dict[str, Any]],
    protocol: Protocol,
    arm_by: dict[tuple[str, str], dict[str, Any]],
) -> list[Gap]:
    """Gaps of one study for one protocol outcome, per time point."""
    if not recs:
        return [(sid, o.id, "(any)", "no values",
                 f"no {o.name} values extracted for any time point")]  # fmt: skip
    out: list[Gap] = []
    for r in recs:
        w = float_or_none(r.get("time_weeks"))
        if w is not None and protocol.time_point_for(w) is None:
            out.append((sid, o.id, str(r.get("time_point")), "outside time windows",
                        f"arm {r['arm_id']}: {w:g} weeks falls in no protocol time point "
                        "window"))  # fmt: skip
    for t in protocol.time_points:
        in_t = [r for r in recs if _in_window(r, t)]
        if not in_t:
            out.append((sid, o.id, t.id, "no values", f"nothing reported at {t.label}"))
            continue
        roles = {arm_by.get((sid, r["arm_id"]), {}).get("role") for r in in_t}
        for role in ("experimental", "control"):
            if role not in roles:
                out.append((sid, o.id, t.id, "missing arm", f"no {role} arm values"))
        for r in in_t:
            lacks = _value_gaps(o, r, arm_by.get((sid, r["arm_id"])))
            out.extend((sid, o.id, t.id, status, detail) for status, detail in lacks)
    return out


def _in_window(r: dict[str, Any], t: TimePoint) -> bool:
    w = float_or_none(r.get("time_weeks"))
    return w is not None and t.contains(w)


def _value_gaps(o: Outcome, r: dict[str, Any], arm: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(status, detail) for what one arm's row lacks for pooling."""
    out = []
    aid = r["arm_id"]
    if not _has_n(r, arm):
        out.append(("missing n", f"arm {aid}: no n (row, n_analysed or n_randomised)"))
    if o.kind == "continuous":
        if float_or_none(r.get("mean")) is None:
            status = "missing dispersion" if float_or_none(r.get("median")) is not None else (
                "no values")
            out.append((status, f"arm {aid}: no mean (nor a median with IQR or range to "
                                "derive it)"))  # fmt: skip
        elif float_or_none(r.get("sd")) is None:
            out.append(("missing dispersion", f"arm {aid}: mean without SD, SE or CI"))
    elif float_or_none(r.get("events")) is None:
        out.append(("no values", f"arm {aid}: no events"))
    return out
