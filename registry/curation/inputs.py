"""What pooling receives: one row per study for each protocol outcome x time point.

Rows come from the stored extraction: the arm values whose ``time_weeks`` fall in the time
point's window (the one nearest the time point's weeks when a study reports several), unit-
converted to the outcome's canonical unit, experimental vs control. A study with two or
more experimental (or control) arms has them combined into one group with the Cochrane
Handbook formula (6.5.2.10, Table 6.5.a) for continuous data, or by adding events and totals
for dichotomous data; the row says so in ``combined``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from registry.pooling.conversions import combine_arms
from registry.store import Store
from schemas.pooling_input import validate_pooling_data
from schemas.protocol import (
    Outcome,
    Protocol,
    TimePoint,
    load_protocol,
    parse_protocol,
    protocol_path,
)
from schemas.sheet_format import ROB1_KEY_DOMAINS
from schemas.values import float_or_none
from schemas.yaml_reader import load_yaml

from .validate import is_rct


@dataclass(frozen=True)
class PoolingInput:
    """Data for one protocol outcome at one protocol time point."""

    outcome: Outcome
    time_point: TimePoint
    kind: str  # continuous | dichotomous
    data: pd.DataFrame
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def measure(self) -> str:
        """The protocol's effect measure for the outcome."""
        return self.outcome.measure

    @property
    def k(self) -> int:
        """Number of studies."""
        return len(self.data)


def review_protocol(store: Store, review: str) -> Protocol:
    """The review's protocol file; the snapshot stored at load time if the file is gone.

    The file wins so that ``registry validate`` re-checks stored rows against the protocol
    as it stands now (a tightened range shows which stored values no longer pass); a broken
    file is an error, never silently replaced by the snapshot.
    """
    snap = None if protocol_path(review).is_file() else store.stored_protocol(review)
    if snap is None:
        return load_protocol(review)
    file = Path(f"<registry>/{review}/protocol.yaml")
    return parse_protocol(load_yaml(file, snap[0]), file)


def rob_overall(judgements: dict[str, str], tool: str = "RoB1") -> str | None:
    """Overall risk of bias of a study from its domain judgements.

    RoB1: high if any key domain is high, low if all key domains are low, else unclear
    (Cochrane Handbook 5.1, Table 8.7.a). RoB2: the 'overall' judgement if given, else the
    worst domain (RoB 2 guidance: any high -> high; all low -> low; else some concerns).
    """
    if not judgements:
        return None
    if tool == "RoB2":
        if "overall" in judgements:
            return judgements["overall"]
        vals = list(judgements.values())
        if "high" in vals:
            return "high"
        return "low" if all(v == "low" for v in vals) and len(vals) >= 5 else "some_concerns"
    key = [judgements.get(d) for d in ROB1_KEY_DOMAINS]
    if "high" in key:
        return "high"
    if all(v == "low" for v in key):
        return "low"
    return "unclear"


def combine_groups(groups: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    """Combine (n, mean, sd) groups into one (n, mean, sd) (Cochrane Handbook 6.5.2.10)."""
    n, m, s = groups[0]
    for n2, m2, s2 in groups[1:]:
        # Cochrane Handbook 6.5.2.10 Table 6.5.a, applied pairwise (registry.pooling.conversions)
        d = combine_arms(n, m, s, n2, m2, s2)
        n, m, s = d["n"], d["mean"], d["sd"]
    return n, m, s


def _study_table(store: Store, protocol: Protocol, review: str) -> pd.DataFrame:
    studies = store.curation_rows(review, "studies")
    rob = store.curation_rows(review, "risk_of_bias")
    judg: dict[str, dict[str, str]] = {}
    tools: dict[str, str] = {}
    for r in rob.to_dict("records") if len(rob) else []:
        judg.setdefault(r["study_id"], {})[r["domain"]] = r["judgement"]
        tools[r["study_id"]] = r["tool"]
    rows = []
    for r in studies.to_dict("records") if len(studies) else []:
        sid = r["study_id"]
        year = float_or_none(r.get("year"))
        author = r.get("first_author")
        label = f"{author} {int(year)}" if isinstance(author, str) and year else sid
        rec = {
            "study_id": sid,
            "label": label,
            "year": year,
            "included_in": r.get("included_in")
            if isinstance(r.get("included_in"), str)
            else "main",
            "country": r.get("country"),
            "design_assessed": r.get("design_assessed")
            if isinstance(r.get("design_assessed"), str)
            else None,
            "is_rct": is_rct(r.get("design_assessed"), r.get("design_reported")),
            "rob_overall": rob_overall(judg.get(sid, {}), tools.get(sid, "RoB1")),
        }
        for c in protocol.characteristics:
            v = r.get(c.id)
            text = v if isinstance(v, str) else None
            rec[c.id] = float_or_none(v) if c.type == "number" else text
        rows.append(rec)
    return pd.DataFrame(rows)


def _arm_n(row: dict[str, Any], arm: dict[str, Any]) -> float | None:
    for v in (row.get("n"), arm.get("n_analysed"), arm.get("n_randomised")):
        if float_or_none(v) is not None:
            return float_or_none(v)
    return None


def pooling_inputs(store: Store, review: str) -> list[PoolingInput]:
    """Per protocol outcome x time point, the studies' arm data ready for pooling.

    Studies with ``included_in = excluded`` are left out; non-randomised studies stay in with
    ``is_rct`` False (pooling leaves them out of RCT-only analyses). Studies whose values
    miss a dispersion or n are left out and show up in :func:`registry.curation.gaps`.
    Every frame is validated by :mod:`schemas.pooling_input`.
    """
    protocol = review_protocol(store, review)
    studies = _study_table(store, protocol, review)
    arms = store.curation_rows(review, "arms")
    outcomes = store.curation_rows(review, "outcomes")
    arm_by = {(a["study_id"], a["arm_id"]): a for a in arms.to_dict("records")} if len(arms) else {}
    out: list[PoolingInput] = []
    if studies.empty:
        return out
    study_by = {s["study_id"]: s for s in studies.to_dict("records")}
    # group once: (outcome, study) -> rows, in sheet order (per-study filtering is O(n^2))
    by_os: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in outcomes.to_dict("records") if len(outcomes) else []:
        by_os.setdefault((r["outcome"], r["study_id"]), []).append(r)
    for o in protocol.outcomes:
        sids = [sid for (oid, sid) in by_os if oid == o.id]
        for t in protocol.time_points:
            rows = []
            notes: list[str] = []
            for sid in sids:
                st = study_by.get(sid)
                if st is None or st["included_in"] == "excluded":
                    continue
                in_win = [r for r in by_os[(o.id, sid)] if t.contains(float(r["time_weeks"]))]
                if not in_win:
                    continue
                rec = _study_row(o, t, st, in_win, arm_by, notes)
                if rec is not None:
                    rows.append(rec)
            data = pd.DataFrame(rows)
            if data.empty:
                continue
            data = data.sort_values(["year", "study_id"], na_position="last").reset_index(drop=True)
            data = validate_pooling_data(data, o.kind, f"{review} {o.id} at {t.label}")
            out.append(PoolingInput(o, t, o.kind, data, tuple(notes)))
    return out


def _value_type(r: dict[str, Any]) -> str:
    v = r.get("value_type")
    return v if isinstance(v, str) and v else "final"


Picked = dict[str, list[dict[str, Any]]]  # role -> the arm rows read for it


def _study_row(
    o: Outcome,
    t: TimePoint,
    st: dict[str, Any],
    srows: list[dict[str, Any]],
    arm_by: dict[tuple[str, str], dict[str, Any]],
    notes: list[str],
) -> dict[str, Any] | None:
    """One study's pooling row for outcome ``o`` at time point ``t`` (None if unusable)."""
    # both groups must use the same kind of value: final values first, else change scores
    for value_type in ("final", "change"):
        picked = _pick_arms(o, t, st["study_id"], srows, value_type, arm_by, notes)
        if not picked["experimental"] or not picked["control"]:
            continue
        groups: dict[str, tuple[float, float, float]] = {}
        for role, prs in picked.items():
            g = _group(o, prs)
            if g is None:
                break  # an incomplete group: try change scores, else no row
            groups[role] = g
        else:
            return _row_of(o, st, value_type, picked, groups, notes)
    return None


def _pick_arms(
    o: Outcome,
    t: TimePoint,
    sid: str,
    srows: list[dict[str, Any]],
    value_type: str,
    arm_by: dict[tuple[str, str], dict[str, Any]],
    notes: list[str],
) -> Picked:
    """The rows of each experimental and control arm, read at one shared week."""
    by_arm: dict[str, list[dict[str, Any]]] = {}
    for r in srows:
        if _value_type(r) == value_type:
            by_arm.setdefault(r["arm_id"], []).append(r)
    arms = {aid: arm_by.get((sid, aid)) for aid in by_arm}
    arms = {a: arm for a, arm in arms.items()
            if arm is not None and arm.get("role") in ("experimental", "control")}  # fmt: skip
    # every arm must be read at the same week: the week nearest the time point's weeks
    # that every arm reports (comparing week 3 with week 6 would not be a comparison)
    weeks_per_arm = [{float(r["time_weeks"]) for r in by_arm[a]} for a in arms]
    shared = set.intersection(*weeks_per_arm) if weeks_per_arm else set()
    picked: Picked = {"experimental": [], "control": []}
    if shared:
        week = min(shared, key=lambda w: (abs(w - t.weeks), w))
        for aid, arm in arms.items():
            row = next(r for r in by_arm[aid] if float(r["time_weeks"]) == week)
            picked[arm["role"]].append({**row, "_arm": arm})
    elif len(arms) > 1:
        notes.append(f"{sid}: arms report {o.id} at different weeks within "
                     f"'{t.label}'; left out")  # fmt: skip
    return picked


def _joined(picked: Picked, key: str, *, unique: bool = False) -> str | None:
    """The text cells ``key`` of every picked row, joined with '; ' (None if there is none)."""
    texts = [str(p[key]) for prs in picked.values() for p in prs if isinstance(p.get(key), str)]
    return "; ".join(dict.fromkeys(texts) if unique else texts) or None


def _row_of(
    o: Outcome,
    st: dict[str, Any],
    value_type: str,
    picked: Picked,
    groups: dict[str, tuple[float, float, float]],
    notes: list[str],
) -> dict[str, Any]:
    """The pooling row from the two combined groups, with its provenance."""
    sid = st["study_id"]
    rec: dict[str, Any] = {"study_id": sid, "label": st["label"], "year": st["year"]}
    e, c = groups["experimental"], groups["control"]
    if o.kind == "continuous":
        rec.update(n1=e[0], mean1=e[1], sd1=e[2], n2=c[0], mean2=c[1], sd2=c[2])
    else:
        rec.update(events1=e[1], n1=e[0], events2=c[1], n2=c[0])
    weeks = [float(p["time_weeks"]) for prs in picked.values() for p in prs]
    rec["time_weeks"] = max(set(weeks), key=weeks.count)
    rec["value_type"] = value_type
    rec["unit"] = o.unit
    combined = [
        f"{role} arms {' + '.join(p['_arm']['arm_id'] for p in prs)} combined"
        for role, prs in picked.items()
        if len(prs) > 1
    ]
    rec["combined"] = "; ".join(combined) or None
    if combined:
        how = ("(Cochrane Handbook 6.5.2.10 formula)" if o.kind == "continuous"
               else "(events and totals added)")  # fmt: skip
        notes.append(f"{sid}: {'; '.join(combined)} {how}")
    rec["derivation"] = _joined(picked, "derivation")
    rec["source"] = _joined(picked, "source", unique=True)
    for k, v in st.items():
        if k not in rec and k != "included_in":
            rec[k] = v
    return rec


def _group(o: Outcome, prs: list[dict[str, Any]]) -> tuple[float, float, float] | None:
    """(n, mean, sd) or (n, events, 0) of one role's arms, combined; None if incomplete."""
    vals = []
    for p in prs:
        arm = p["_arm"]
        if o.kind == "continuous":
            n, m, s = _arm_n(p, arm), float_or_none(p.get("mean")), float_or_none(p.get("sd"))
            if n is None or m is None or s is None or s <= 0:
                return None
            f = o.factor(p.get("unit") if isinstance(p.get("unit"), str) else None)
            vals.append((n, m * f, s * f))
        else:
            ev = float_or_none(p.get("events"))
            tot = float_or_none(p.get("total")) or _arm_n(p, arm)
            if ev is None or tot is None:
                return None
            vals.append((tot, ev, 0.0))
    if o.kind == "continuous":
        return combine_groups(vals)
    return (sum(v[0] for v in vals), sum(v[1] for v in vals), 0.0)
