"""Derived numbers: mean and SD a pooling needs from what a paper reports.

Each function is pure and returns the value with a text saying how it was derived; the text
goes into the outcome row's ``derivation`` column so the stored number never looks as if a
paper had printed it. When ``registry.pooling.conversions`` offers the same conversions the
pooling helper's versions are used (one implementation, one set of reference tests).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
from scipy import stats

MARK = "registry derived"


@dataclass(frozen=True)
class Derived:
    """A derived value and how it was obtained."""

    value: float
    how: str


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def sd_from_se(se: float, n: float) -> Derived:
    """SD of a group mean from its standard error."""
    # Cochrane Handbook 6.5.2.2: SD = SE * sqrt(N)
    return Derived(
        se * math.sqrt(n),
        f"sd = se * sqrt(n) = {_fmt(se)} * sqrt({_fmt(n)}) (Cochrane Handbook 6.5.2.2)",
    )


def sd_from_ci(lower: float, upper: float, n: float, level: float = 0.95) -> Derived:
    """SD of a group mean from the CI of that mean (t distribution below n = 60)."""
    # Cochrane Handbook 6.5.2.2: SD = sqrt(N) * (upper - lower) / (2 * z), with z replaced by
    # the t quantile on N - 1 df when N < 60.
    q = 1 - (1 - level) / 2
    if n < 60:
        crit, dist = float(stats.t.ppf(q, n - 1)), f"t({_fmt(n - 1)} df)"
    else:
        crit, dist = float(stats.norm.ppf(q)), "normal"
    sd = math.sqrt(n) * (upper - lower) / (2 * crit)
    how = (
        f"sd = sqrt(n) * (ci_upper - ci_lower) / (2 * {crit:.4f}) with the {dist} quantile "
        f"for a {level:.0%} CI, n = {_fmt(n)} (Cochrane Handbook 6.5.2.2)"
    )
    return Derived(sd, how)


def mean_sd_from_iqr(q1: float, median: float, q3: float, n: float) -> tuple[Derived, Derived]:
    """Mean and SD from median and interquartile range."""
    # Luo et al. 2018 (Stat Methods Med Res 27:1785), scenario S2: w = 0.7 + 0.39 / n
    w = 0.7 + 0.39 / n
    mean = w * (q1 + q3) / 2 + (1 - w) * median
    # Wan et al. 2014 (BMC Med Res Methodol 14:135), eq. 16: SD = (q3 - q1) / eta(n),
    # eta(n) = 2 * Phi^-1((0.75 n - 0.125) / (n + 0.25))
    eta = 2 * float(stats.norm.ppf((0.75 * n - 0.125) / (n + 0.25)))
    sd = (q3 - q1) / eta
    return (
        Derived(mean, f"mean from median and IQR, n = {_fmt(n)} (Luo et al. 2018)"),
        Derived(sd, f"sd = IQR / {eta:.4f}, n = {_fmt(n)} (Wan et al. 2014)"),
    )


def mean_sd_from_range(lo: float, median: float, hi: float, n: float) -> tuple[Derived, Derived]:
    """Mean and SD from median and range (min, max)."""
    # Luo et al. 2018, scenario S1: w = 4 / (4 + n^0.75)
    w = 4 / (4 + n**0.75)
    mean = w * (lo + hi) / 2 + (1 - w) * median
    # Wan et al. 2014, eq. 9: SD = (max - min) / xi(n), xi(n) = 2 * Phi^-1((n - 0.375)/(n + 0.25))
    xi = 2 * float(stats.norm.ppf((n - 0.375) / (n + 0.25)))
    sd = (hi - lo) / xi
    return (
        Derived(mean, f"mean from median and range, n = {_fmt(n)} (Luo et al. 2018)"),
        Derived(sd, f"sd = range / {xi:.4f}, n = {_fmt(n)} (Wan et al. 2014)"),
    )


def mean_sd_from_five(
    lo: float, q1: float, median: float, q3: float, hi: float, n: float
) -> tuple[Derived, Derived]:
    """Mean and SD from min, q1, median, q3, max."""
    # Luo et al. 2018, scenario S3: w1 = 2.2 / (2.2 + n^0.75), w2 = 0.7 - 0.72 / n^0.55
    w1 = 2.2 / (2.2 + n**0.75)
    w2 = 0.7 - 0.72 / n**0.55
    mean = w1 * (lo + hi) / 2 + w2 * (q1 + q3) / 2 + (1 - w1 - w2) * median
    # Wan et al. 2014, eq. 15: SD = (max - min)/(2 xi'(n)) + (q3 - q1)/(2 eta'(n)) with
    # xi' = 2 Phi^-1((n - 0.375)/(n + 0.25)), eta' = 2 Phi^-1((0.75 n - 0.125)/(n + 0.25))
    xi = 2 * float(stats.norm.ppf((n - 0.375) / (n + 0.25)))
    eta = 2 * float(stats.norm.ppf((0.75 * n - 0.125) / (n + 0.25)))
    sd = (hi - lo) / (2 * xi) + (q3 - q1) / (2 * eta)
    return (
        Derived(mean, f"mean from min, quartiles and max, n = {_fmt(n)} (Luo et al. 2018)"),
        Derived(sd, f"sd from range and IQR, n = {_fmt(n)} (Wan et al. 2014)"),
    )


def _v(x: Any) -> float | None:
    if x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def derive_row(row: dict[str, Any], n: float | None) -> dict[str, Any]:
    """Fill mean/sd of one continuous outcome row where the paper gave something else.

    ``n`` is the group size (row n, else the arm's n analysed / randomised). Returns only the
    changed fields (``mean``, ``sd``, ``derivation``); nothing when no derivation applies.
    """
    mean, sd = _v(row.get("mean")), _v(row.get("sd"))
    if mean is not None and sd is not None:
        return {}
    if n is None or n < 2:
        return {}
    out: dict[str, Any] = {}
    notes: list[str] = []
    se, lo, hi = _v(row.get("se")), _v(row.get("ci_lower")), _v(row.get("ci_upper"))
    med, q1, q3 = _v(row.get("median")), _v(row.get("q1")), _v(row.get("q3"))
    mn, mx = _v(row.get("min")), _v(row.get("max"))
    if mean is not None and sd is None:
        if se is not None:
            d = sd_from_se(se, n)
        elif lo is not None and hi is not None:
            d = sd_from_ci(lo, hi, n, _v(row.get("ci_level")) or 0.95)
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
                notes.append(pair[1].how)
    if notes:
        out["derivation"] = f"{MARK}: " + "; ".join(notes)
    return out


def derive_outcomes(
    outcomes: pd.DataFrame, arm_n: dict[tuple[str, str], float], continuous: set[str]
) -> pd.DataFrame:
    """Outcome rows with mean/SD derived where needed and ``derivation`` saying how.

    Rows whose derivation was written by the registry (it starts with ``registry derived``)
    are derived afresh, so a corrected SE or IQR in the sheet updates the derived SD.
    """
    if outcomes.empty:
        return outcomes
    df = outcomes.copy()
    for c in ("mean", "sd", "derivation"):
        if c not in df.columns:
            df[c] = None if c == "derivation" else float("nan")
    df["derivation"] = df["derivation"].astype(object)
    for i, rec in df.iterrows():
        if rec.get("outcome") not in continuous:
            continue
        prev = rec.get("derivation")
        if isinstance(prev, str) and prev.startswith(MARK):
            # recompute: blank what the registry filled in before
            if "mean from" in prev:
                rec["mean"] = float("nan")
            rec["sd"] = float("nan")
            rec["derivation"] = None
            df.loc[i, ["mean", "sd"]] = [rec["mean"], rec["sd"]]
            df.at[i, "derivation"] = None
        n = _v(rec.get("n"))
        if n is None:
            n = arm_n.get((rec.get("study_id"), rec.get("arm_id")))
        changes = derive_row(rec.to_dict(), n)
        for k, v in changes.items():
            if k == "derivation":
                df.at[i, k] = v
            else:
                df.loc[i, k] = v
    return df
