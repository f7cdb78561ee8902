"""Derived numbers: mean and SD a pooling needs from what a paper reports.

Each function is pure and returns the value with a text saying how it was derived; the text
goes into the outcome row's ``derivation`` column so the stored number never looks as if a
paper had printed it. The arithmetic itself is done once, in ``registry.pooling.conversions``
(with its reference tests); this module decides which conversion a row needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from registry.errors import StatsError
from registry.pooling import conversions as conv
from schemas.sheet_format import DERIVED_MARK
from schemas.values import float_or_none

MARK = DERIVED_MARK


@dataclass(frozen=True)
class Derived:
    """A derived value and how it was obtained."""

    value: float
    how: str


def _how(d: conv.Derived) -> str:
    return f"{d.derivation} ({d.source})"


def sd_from_se(se: float, n: float) -> Derived:
    """SD of a group mean from its standard error (Cochrane Handbook 6.5.2.2)."""
    d = conv.sd_from_se(se, n)
    return Derived(d["sd"], _how(d))


def sd_from_ci(lower: float, upper: float, n: float, level: float = 0.95) -> Derived:
    """SD of a group mean from the CI of that mean (t quantile below n = 60; Handbook 6.5.2.2)."""
    d = conv.sd_from_ci(lower, upper, n, level)
    return Derived(d["sd"], _how(d))


def _median(n: float, median: float, **kw: float) -> tuple[Derived, Derived]:
    # Luo et al. 2018 for the mean; Wan et al. 2014 (Shi et al. 2020 with all five numbers)
    # for the SD, as implemented once in registry.pooling.conversions
    d = conv.mean_sd_from_median(n, median, **kw)
    how = _how(d)
    return Derived(d["mean"], how), Derived(d["sd"], how)


def mean_sd_from_iqr(q1: float, median: float, q3: float, n: float) -> tuple[Derived, Derived]:
    """Mean and SD from median and interquartile range."""
    return _median(n, median, q1=q1, q3=q3)


def mean_sd_from_range(lo: float, median: float, hi: float, n: float) -> tuple[Derived, Derived]:
    """Mean and SD from median and range (min, max)."""
    return _median(n, median, minimum=lo, maximum=hi)


def mean_sd_from_five(
    lo: float, q1: float, median: float, q3: float, hi: float, n: float
) -> tuple[Derived, Derived]:
    """Mean and SD from min, q1, median, q3, max."""
    return _median(n, median, q1=q1, q3=q3, minimum=lo, maximum=hi)


def derive_row(row: dict[str, Any], n: float | None) -> dict[str, Any]:
    """See :func:`_derive_row`; a conversion the numbers do not allow derives nothing."""
    try:
        return _derive_row(row, n)
    except StatsError:
        return {}


def _derive_row(row: dict[str, Any], n: float | None) -> dict[str, Any]:
    """Fill mean/sd of one continuous outcome row where the paper gave something else.

    ``n`` is the group size (row n, else the arm's n analysed / randomised). Returns only the
    changed fields (``mean``, ``sd``, ``derivation``); nothing when no derivation applies.
    """
    num = {c: float_or_none(row.get(c)) for c in ("mean", "sd", "se", "ci_lower", "ci_upper",
                                                  "median", "q1", "q3", "min", "max")}
    mean, sd = num["mean"], num["sd"]
    if mean is not None and sd is not None:
        return {}
    if n is None or n < 2:
        return {}
    out: dict[str, Any] = {}
    notes: list[str] = []
    se, lo, hi = num["se"], num["ci_lower"], num["ci_upper"]
    med, q1, q3, mn, mx = num["median"], num["q1"], num["q3"], num["min"], num["max"]
    if mean is not None and sd is None:
        if se is not None:
            d = sd_from_se(se, n)
        elif lo is not None and hi is not None:
            d = sd_from_ci(lo, hi, n, float_or_none(row.get("ci_level")) or 0.95)
        else:
            d = None
        if d is not None:
            out["sd"] = d.value
            notes.append(d.how)
    elif mean is None and med is not None:
        pair = None
        if None not in (q1, q3, mn, mx):
            pair = mean_sd_from_five(mn, q1, med, q3, mx, n)  # type: ignore[arg-type]
        elif None not in (q1, q3):
            pair = mean_sd_from_iqr(q1, med, q3, n)  # type: ignore[arg-type]
        elif None not in (mn, mx):
            pair = mean_sd_from_range(mn, med, mx, n)  # type: ignore[arg-type]
        if pair is not None:
            out["mean"] = pair[0].value
            notes.append(pair[0].how)
            if sd is None:
                out["sd"] = pair[1].value
    if notes:
        # "registry derived mean, sd: <worked arithmetic> (<source>)": the field list lets a
        # later load blank exactly what the registry filled in and derive it afresh
        fields = ", ".join(k for k in ("mean", "sd") if k in out)
        out["derivation"] = f"{MARK} {fields}: " + "; ".join(notes)
    return out


def derived_fields(derivation: Any) -> list[str]:
    """Fields a registry derivation text says were derived (empty for a curator's text)."""
    if not isinstance(derivation, str) or not derivation.startswith(MARK):
        return []
    head = derivation[len(MARK) :].split(":", 1)[0]
    return [f.strip() for f in head.split(",") if f.strip() in ("mean", "sd")]


def derive_outcomes(
    outcomes: pd.DataFrame, arm_n: dict[tuple[str, str], float], continuous: set[str]
) -> pd.DataFrame:
    """Outcome rows with mean/SD derived where needed and ``derivation`` saying how.

    Rows whose derivation was written by the registry (it starts with ``registry derived``)
    are derived afresh, so a corrected SE or IQR in the sheet updates the derived SD.
    """
    if outcomes.empty:
        return outcomes
    cols = list(outcomes.columns) + [
        c for c in ("mean", "sd", "derivation") if c not in outcomes.columns
    ]
    recs = outcomes.to_dict("records")
    for rec in recs:
        if rec.get("outcome") not in continuous:
            continue
        fields = derived_fields(rec.get("derivation"))
        if fields:
            # recompute: blank what the registry filled in before
            for f in fields:
                rec[f] = float("nan")
            rec["derivation"] = None
        n = float_or_none(rec.get("n"))
        if n is None:
            n = arm_n.get((rec.get("study_id"), rec.get("arm_id")))
        rec.update(derive_row(rec, n))
    df = pd.DataFrame(recs, index=outcomes.index, columns=cols)
    for c in ("mean", "sd"):
        df[c] = pd.to_numeric(df[c]).astype(float)
    df["derivation"] = df["derivation"].astype(object).where(df["derivation"].notna(), None)
    return df
