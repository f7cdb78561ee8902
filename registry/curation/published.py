"""Published pooled results: stored beside the registry's own, and checked for consistency.

A printed result can be internally inconsistent (a typo in a CI bound, a sign lost). Each
stored result is checked: the estimate lies inside its CI; the CI is symmetric about the
estimate on the measure's scale (log scale for ratios); the p-value recomputed from the CI
agrees with the printed p within rounding; CI and p tell the same story about significance;
the arm counts add up. Failures are warnings for the curator, never errors: the registry
stores what was printed and says what does not add up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from scipy import stats

from registry.store import Store
from schemas.protocol import Protocol
from schemas.values import (
    Z975,
    float_or_none,
    is_missing,
    is_ratio,
    parse_p,
    printed_decimals,
)

from .sheets import SheetSet, read_csv
from .validate import Problem, ReviewSchemas, check_sheets


@dataclass(frozen=True)
class Finding:
    """One consistency problem of one published result."""

    result_id: str
    check: str  # ci_contains_estimate | ci_symmetric | p_matches_ci | significance | counts
    message: str

    def __str__(self) -> str:
        return f"published result {self.result_id}: {self.message}"


def _p_from_z(z: float) -> float:
    return float(2 * stats.norm.sf(abs(z)))


def check_result(rec: dict[str, Any]) -> list[Finding]:
    """Consistency findings for one published result (see module docstring)."""
    rid = str(rec.get("result_id"))
    out: list[Finding] = []

    def num(k: str) -> float | None:
        return float_or_none(rec.get(k))

    est, lo, hi = num("estimate"), num("ci_lower"), num("ci_upper")
    measure = str(rec.get("measure") or "")
    out.extend(_count_findings(rid, num("n_experimental"), num("n_control"),
                               num("n_participants"), num("k")))  # fmt: skip
    if est is None or lo is None or hi is None:
        return out
    if lo > hi:
        out.append(Finding(rid, "ci_contains_estimate", f"CI lower {lo:g} above upper {hi:g}"))
        return out
    if not lo <= est <= hi:
        out.append(
            Finding(
                rid,
                "ci_contains_estimate",
                f"estimate {est:g} lies outside its CI [{lo:g}, {hi:g}]",
            )
        )
        return out  # the other checks assume a sane triple
    # rounding: half a unit of the last printed digit of each number
    h = 0.5 * 10.0 ** -max(printed_decimals(est), printed_decimals(lo), printed_decimals(hi), 2)
    ratio = is_ratio(measure)
    if ratio:
        if min(est, lo, hi) <= 0:
            out.append(Finding(rid, "ci_symmetric", f"a {measure} and its CI must be > 0"))
            return out
        e, a, b = math.log(est), math.log(lo), math.log(hi)
        # d ln(x) = dx / x: rounding error on the log scale
        he, ha, hb = h / est, h / lo, h / max(hi - h, h)
        ha = h / max(lo - h, h)
        null = 0.0
    else:
        e, a, b = est, lo, hi
        he = ha = hb = h
        null = 0.0
    asym = (e - a) - (b - e)
    tol = 2 * he + ha + hb
    scale = "log scale" if ratio else "its scale"
    if abs(asym) > tol:
        out.append(
            Finding(
                rid,
                "ci_symmetric",
                f"CI [{lo:g}, {hi:g}] is not symmetric about {est:g} on {scale} "
                f"(difference {abs(asym):.3g} > rounding {tol:.3g}); a bound or the "
                "estimate may be misprinted",
            )
        )
    out.extend(_p_findings(rid, rec.get("p_value"), (e, a, b), (he, ha, hb), null,
                           f"the CI [{lo:g}, {hi:g}] around {est:g}"))  # fmt: skip
    return out


def _count_findings(
    rid: str, ne: float | None, nc: float | None, ntot: float | None, k: float | None
) -> list[Finding]:
    """Arm counts that do not add up to the total, or too few participants for k studies."""
    out = []
    if ne is not None and nc is not None and ntot is not None and ne + nc != ntot:
        text = f"n_experimental {ne:g} + n_control {nc:g} != n_participants {ntot:g}"
        out.append(Finding(rid, "counts", text))
    if k is not None and ntot is not None and ntot < 2 * k:
        out.append(
            Finding(rid, "counts", f"{ntot:g} participants cannot fill {k:g} two-arm studies")
        )
    return out


def _p_findings(
    rid: str,
    pv: Any,
    eab: tuple[float, float, float],
    rounding: tuple[float, float, float],
    null: float,
    ci_text: str,
) -> list[Finding]:
    """A printed p-value against the p its CI implies, and against the CI's significance.

    ``eab``: estimate and CI bounds on the analysis scale; ``rounding``: their rounding
    errors on that scale.
    """
    if is_missing(pv):
        return []
    try:
        p_lo, p_hi = parse_p(pv)
    except ValueError:
        return []
    (e, a, b), (he, ha, hb) = eab, rounding
    out = []
    # p from the CI: SE = width / (2 * 1.96), z = estimate / SE (Altman & Bland 2011, BMJ
    # 343:d2090), taken over the rounding extremes of the printed numbers
    w = b - a
    w_min, w_max = max(w - ha - hb, 1e-12), w + ha + hb
    z_min = max(abs(e) - he, 0.0) / (w_max / (2 * Z975))
    z_max = (abs(e) + he) / (w_min / (2 * Z975))
    pc_lo, pc_hi = _p_from_z(z_max), _p_from_z(z_min)
    if pc_hi < p_lo or pc_lo > p_hi:
        central = _p_from_z(e / (w / (2 * Z975)))
        msg = (
            f"p = {pv} but {ci_text} gives p ≈ {central:.2g} "
            f"(range {pc_lo:.2g}-{pc_hi:.2g} within rounding)"
        )
        out.append(Finding(rid, "p_matches_ci", msg))
    excludes = (a > null) or (b < null)
    includes = (a < null) and (b > null)
    if excludes and p_lo > 0.05:
        out.append(
            Finding(rid, "significance", f"the CI excludes the null yet p = {pv} is above 0.05")
        )
    if includes and p_hi < 0.05:
        out.append(
            Finding(rid, "significance", f"the CI includes the null yet p = {pv} is below 0.05")
        )
    return out


def check_published(df: pd.DataFrame) -> list[Finding]:
    """Findings for every published result in ``df``."""
    if df is None or df.empty:
        return []
    out: list[Finding] = []
    for rec in df.to_dict("records"):
        out.extend(check_result(rec))
    return out


def outside_protocol(df: pd.DataFrame, protocol: Protocol) -> list[str]:
    """Published results whose outcome or time point the protocol does not define (a
    published review may report more than the protocol pools; the curator is told)."""
    if df is None or df.empty:
        return []
    outcomes = {o.id for o in protocol.outcomes}
    times = {t.id for t in protocol.time_points} | {t.label for t in protocol.time_points}
    out = []
    for rec in df.to_dict("records"):
        rid = rec.get("result_id")
        o, t = rec.get("outcome"), rec.get("time_point")
        if o not in outcomes:
            out.append(f"published result {rid}: outcome {o!r} is not a protocol outcome")
        if isinstance(t, str) and t.strip() and t not in times:
            out.append(f"published result {rid}: time point {t!r} is not a protocol time point")
    return out


def read_published(
    folder: Path, protocol: Protocol, schemas: ReviewSchemas | None = None
) -> tuple[pd.DataFrame, list[Problem]]:
    """The review folder's published_results.csv, typed, with its validation problems."""
    f = Path(folder) / "published_results.csv"
    if not f.is_file():
        return pd.DataFrame(), []
    sheets = SheetSet(
        origin=f, frames={"published_results": read_csv(f)}, labels={"published_results": str(f)}
    )
    res = check_sheets(sheets, protocol, names=("published_results",), schemas=schemas)
    # an outcome outside the protocol is allowed (the review may report more) but noted
    return res.typed.get("published_results", pd.DataFrame()), res.problems


def published_results(store: Store, review: str) -> pd.DataFrame:
    """Stored published results of a review with a ``consistency`` column ('' = all fine)."""
    df = store.curation_rows(review, "published_results")
    if df.empty:
        return df.assign(consistency=pd.Series(dtype=object))
    notes: dict[str, list[str]] = {}
    for f in check_published(df):
        notes.setdefault(f.result_id, []).append(f.message)
    df["consistency"] = df["result_id"].map(lambda r: "; ".join(notes.get(str(r), [])))
    return df
