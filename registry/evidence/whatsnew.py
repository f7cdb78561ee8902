"""What changed between two report versions: records, studies, moved estimates, conclusions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from registry.evidence.results import fmt, measure_name, present

MOVE_FRACTION = 0.10  # an estimate "moved" when it shifted by >10% of its previous CI width
SENSITIVITY_LABELS = {"rct_only": "RCTs only", "low_rob": "low risk of bias only"}


@dataclass(frozen=True)
class WhatsNew:
    """Changes since the previous report version."""

    first_version: bool
    previous_label: str | None
    new_records: int
    new_studies: tuple[str, ...]
    moved: tuple[str, ...]  # human sentences, one per estimate that moved
    changed_conclusions: tuple[str, ...]
    removed_studies: tuple[str, ...] = ()  # in the previous version, not in this one
    first_estimates: tuple[str, ...] = ()  # analyses pooled for the first time (k reached 2)


def describe(r: dict[str, Any], names: dict[str, str], tp_labels: dict[str, str]) -> str:
    """'Serum albumin (6 months) [route = hepatic artery]' for one stored result."""
    out = names.get(r["outcome"], r["outcome"])
    if r.get("time_point"):
        out += f" ({tp_labels.get(r['time_point'], r['time_point'])})"
    if r.get("subgroup_set"):
        out += f" [{r['subgroup_set']} = {r['subgroup']}]"
    if r.get("sensitivity"):
        out += f" [{SENSITIVITY_LABELS.get(r['sensitivity'], r['sensitivity'])}]"
    return out


def _significant(r: dict[str, Any]) -> bool:
    return r["pval"] is not None and r["pval"] < 0.05


def _compare(
    o: dict[str, Any], r: dict[str, Any], what: str, moved: list[str], changed: list[str]
) -> None:
    """Moved (> MOVE_FRACTION of the old CI width) and changed significance or direction."""
    width = abs((o["ci_ub"] or 0) - (o["ci_lb"] or 0))
    shift = abs(r["estimate"] - o["estimate"])
    m = r["measure"]
    if width > 0 and shift > MOVE_FRACTION * width:
        moved.append(
            f"{what}: {fmt(present(m, o['estimate']))} → {fmt(present(m, r['estimate']))}"
            f" (k {o['k']} → {r['k']})")
    sig_old, sig_new = _significant(o), _significant(r)
    flipped = sig_old and sig_new and np.sign(o["estimate"]) != np.sign(r["estimate"])
    if sig_old != sig_new or flipped:
        changed.append(
            f"{what}: was {'significant' if sig_old else 'not significant'}, now "
            f"{'significant' if sig_new else 'not significant'}"
            + (" in the opposite direction" if flipped else ""))


def _first(r: dict[str, Any], what: str) -> str:
    """'Ascites (6 months): first pooled estimate, RR 0.52 [0.30, 0.91], k = 2, P = 0.02'."""
    m = r["measure"]
    sig = "significant" if _significant(r) else "not significant"
    return (f"{what}: first pooled estimate, {measure_name(m)} {fmt(present(m, r['estimate']))} "
            f"[{fmt(present(m, r['ci_lb']))}, {fmt(present(m, r['ci_ub']))}], k = {r['k']} "
            f"({sig})")


def whats_new(
    prev: dict[str, Any] | None,
    prev_results: list[dict[str, Any]],
    results: list[dict[str, Any]],
    study_ids: Sequence[str],
    n_records: int,
    names: dict[str, str],
    tp_labels: dict[str, str] | None = None,
) -> WhatsNew:
    """Compare this version's results with the previous version's stored ones."""
    if prev is None:
        return WhatsNew(True, None, n_records, tuple(study_ids), (), ())
    tp_labels = tp_labels or {}
    old = {r["analysis_id"]: r for r in prev_results}
    now = {r["analysis_id"] for r in results}
    moved: list[str] = []
    changed: list[str] = []
    first: list[str] = []
    for r in results:
        o = old.get(r["analysis_id"])
        if o is None and not r.get("subgroup_set") and not r.get("sensitivity"):
            first.append(_first(r, describe(r, names, tp_labels)))
        if o is None or o["estimate"] is None or r["estimate"] is None:
            continue
        _compare(o, r, describe(r, names, tp_labels), moved, changed)
    for aid, o in old.items():  # analyses the previous version had and this one cannot pool
        if aid in now or o.get("subgroup_set") or o.get("sensitivity"):
            continue
        what = describe(o, names, tp_labels)
        moved.append(f"{what}: no longer pooled (was k = {o['k']})")
        if _significant(o):
            changed.append(f"{what}: was significant, now no pooled estimate")
    before = list(prev.get("study_ids") or [])
    return WhatsNew(
        first_version=False,
        previous_label=prev["label"],
        new_records=max(0, n_records - int(prev.get("n_records") or 0)),
        new_studies=tuple(s for s in study_ids if s not in set(before)),
        moved=tuple(moved),
        changed_conclusions=tuple(changed),
        removed_studies=tuple(s for s in before if s not in set(study_ids)),
        first_estimates=tuple(first),
    )
