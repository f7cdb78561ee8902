"""Stored analysis results and the small value helpers every evidence step shares."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from registry.pooling.api import Analysis
from registry.pooling.models import MetaResult
from schemas.values import float_or_none, is_missing, is_ratio


@dataclass(frozen=True)
class NotComputed:
    """An analysis the plan asked for that could not be fitted, with the reason why."""

    reason: str

    def text(self, prefix: str = "Not computed") -> str:
        """'Not computed: <reason>' as the report prints it."""
        return f"{prefix}: {self.reason}"


def present(measure: str, x: float | None) -> float | None:
    """Presentation scale: ratio measures exponentiated, missing values None."""
    if is_missing(x):
        return None
    assert x is not None
    return math.exp(x) if is_ratio(measure) else x


def measure_name(m: str) -> str:
    """The measure as a reader knows it (RevMan 5's SMD variant is still 'SMD')."""
    return {"SMD_REVMAN5": "SMD"}.get(m, m)


def fmt(x: float | None, d: int = 2) -> str:
    """A number with ``d`` decimals, a dash when missing (sentences and table cells)."""
    return "—" if is_missing(x) else f"{x:.{d}f}"


def year(v: Any) -> int | None:
    """A publication year from a cell (None when missing or not a number)."""
    f = float_or_none(v)
    return None if f is None else int(f)


def n_participants(df: pd.DataFrame) -> int | None:
    """Participants of the pooled studies (n1 + n2), None when a size is missing."""
    if not all(c in df.columns for c in ("n1", "n2")):
        return None
    vals = pd.to_numeric(df["n1"], errors="coerce") + pd.to_numeric(df["n2"], errors="coerce")
    total = vals.sum(min_count=1)
    return None if pd.isna(total) else int(total)


def result_row(
    analysis_id: str,
    outcome: str,
    time_point: str | None,
    a: Analysis,
    n: int | None,
    *,
    subgroup_set: str | None = None,
    subgroup: str | None = None,
    sensitivity: str | None = None,
    result: MetaResult | None = None,
) -> dict[str, Any]:
    """One row of ``analysis_results`` (analysis scale: OR/RR as logs); ``result`` is a
    subgroup's fit when given, else the analysis' main model."""
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


def subgroup_rows(
    a: Analysis, df: pd.DataFrame, outcome_id: str, tp_id: str | None, base_id: str,
    set_id: str,
) -> list[dict[str, Any]]:
    """One stored result per subgroup of a subgroup analysis."""
    assert a.subgroups is not None
    rows = []
    for sg in a.subgroups.subgroups:
        labels = [a.studies[i] for i in sg.rows]
        n = n_participants(df[df["label"].isin(labels)])
        rows.append(result_row(f"{base_id}/{set_id}={sg.label}", outcome_id, tp_id, a, n,
                               subgroup_set=set_id, subgroup=sg.label, result=sg.result))
    return rows
