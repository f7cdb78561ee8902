"""When is it safe to stop screening? A statistical rule and the common heuristic.

Statistical rule: Callaghan MW, Müller-Hansen F. Statistical stopping criteria for automated
screening in systematic reviews. Systematic Reviews 2020;9:273
(https://doi.org/10.1186/s13643-020-01521-4), as implemented in their ``buscar`` package
(``calculate_h0``). The records screened last are treated as a sample drawn from the
records that were still unscreened when that sample began (an "urn"). H0 is "recall is
below the target τ", i.e. the population (urn + unscreened) holds at least
K̂ = ⌊r_seen/τ − r_before + 1⌋ relevant records, r_before being the inclusions found
before the urn. Under H0, seeing no more than the k inclusions actually found in an urn of
n records has probability hypergeom.cdf(k; N_pop, K̂, n). Every urn of the last 1, 2, …
screened records is tested (so the urn that starts right after the last inclusion is
among them) and the smallest p is reported; stop when p < α (1 − confidence).

Recall estimate: the same test inverted. The lower bound is the largest τ the test
rejects at α (one-sided 95 % bound: recall is at least this with p < α), the point
estimate the largest τ rejected at p < 0.5 (median-unbiased); the upper bound is 1.

Heuristic: stop after N consecutive excludes (known to be unreliable; shown for comparison).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import hypergeom

TARGET = 0.95
ALPHA = 0.05
CONSECUTIVE_EXCLUDES = 50
# Recall targets searched when inverting the test (0.001 steps).
_TAU_GRID = np.round(np.arange(0.5, 1.0, 0.001), 3)


def h0_pvalue(labels: Sequence[int], n_total: int, target: float = TARGET) -> float | None:
    """p-value of H0 "recall < target" after screening ``labels`` (1/0, in order) of
    ``n_total`` records (Callaghan & Müller-Hansen 2020; buscar ``calculate_h0``).

    None when no inclusion has been seen (nothing to estimate recall of).
    """
    y = np.asarray(labels, dtype=np.int64)
    n_seen = len(y)
    r_seen = int(y.sum())
    if n_seen == 0 or r_seen == 0:
        return None
    if n_seen >= n_total:
        return 0.0  # everything screened: recall is 1 for certain
    urn_k = np.cumsum(y[::-1])  # inclusions in the last 1, 2, ... n_seen records
    urn_n = np.arange(1, n_seen + 1)
    population = n_total - (n_seen - urn_n)  # urn + unscreened records
    k_hat = np.floor(r_seen / target - (r_seen - urn_k) + 1)
    p = hypergeom.cdf(urn_k, population, np.minimum(k_hat, population), urn_n)
    return float(np.nanmin(p))


@dataclass(frozen=True)
class RecallEstimate:
    """Estimated recall of the screening so far, from the same test inverted."""

    found: int
    estimate: float | None
    lower: float | None
    upper: float | None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready mapping."""
        return {
            "includes_found": self.found,
            "estimate": self.estimate,
            "lower": self.lower,
            "upper": self.upper,
        }


def recall_estimate(labels: Sequence[int], n_total: int) -> RecallEstimate:
    """Point estimate and one-sided 95 % interval of recall (see module docstring)."""
    found = int(np.sum(labels)) if len(labels) else 0
    if found == 0:
        return RecallEstimate(0, None, None, None)
    if len(labels) >= n_total:
        return RecallEstimate(found, 1.0, 1.0, 1.0)
    ps = np.array([h0_pvalue(labels, n_total, float(t)) for t in _TAU_GRID])
    # p grows with the target: the largest target still rejected is the bound.
    low = _TAU_GRID[ps < ALPHA]
    mid = _TAU_GRID[ps < 0.5]
    return RecallEstimate(
        found,
        float(mid.max()) if mid.size else None,
        float(low.max()) if low.size else None,
        1.0,
    )


def consecutive_excludes(labels: Sequence[int]) -> int:
    """Excludes screened since the last inclusion (all of them if none yet)."""
    y = list(labels)
    run = 0
    for v in reversed(y):
        if v:
            break
        run += 1
    return run


@dataclass(frozen=True)
class StopVerdict:
    """What the stopping rules say after screening ``screened`` of ``total`` records."""

    screened: int
    total: int
    includes: int
    p_value: float | None
    target: float
    alpha: float
    recall: RecallEstimate
    excludes_in_a_row: int
    heuristic_n: int

    @property
    def safe(self) -> bool:
        """The statistical rule rejects H0 (recall below target) at ``alpha``."""
        return self.p_value is not None and self.p_value < self.alpha

    @property
    def heuristic_met(self) -> bool:
        """At least ``heuristic_n`` excludes since the last include."""
        return self.excludes_in_a_row >= self.heuristic_n

    def line(self) -> str:
        """The verdict as one sentence."""
        tgt, a = f"{self.target:.0%}".replace("%", " %"), f"{self.alpha:g}"
        if self.p_value is None:
            return f"no estimate yet (no include among the {self.screened} screened records)"
        if self.safe:
            return f"safe to stop at {tgt} recall (p = {self.p_value:.3g} < {a})"
        return f"not yet safe to stop at {tgt} recall (p = {self.p_value:.3g} ≥ {a})"

    def as_dict(self) -> dict[str, object]:
        """JSON-ready mapping."""
        return {
            "screened": self.screened,
            "total": self.total,
            "includes": self.includes,
            "target": self.target,
            "alpha": self.alpha,
            "p_value": self.p_value,
            "safe_to_stop": self.safe,
            "verdict": self.line(),
            "recall": self.recall.as_dict(),
            "excludes_in_a_row": self.excludes_in_a_row,
            "heuristic_n": self.heuristic_n,
            "heuristic_met": self.heuristic_met,
        }


def verdict(
    labels: Sequence[int],
    n_total: int,
    *,
    target: float = TARGET,
    alpha: float = ALPHA,
    heuristic_n: int = CONSECUTIVE_EXCLUDES,
) -> StopVerdict:
    """Both stopping rules for ``labels`` (decisions in screening order) of ``n_total``."""
    return StopVerdict(
        screened=len(labels),
        total=n_total,
        includes=int(np.sum(labels)) if len(labels) else 0,
        p_value=h0_pvalue(labels, n_total, target),
        target=target,
        alpha=alpha,
        recall=recall_estimate(labels, n_total),
        excludes_in_a_row=consecutive_excludes(labels),
        heuristic_n=heuristic_n,
    )


def first_stop(
    labels: Sequence[int], n_total: int, *, target: float = TARGET, alpha: float = ALPHA,
    every: int = 10,
) -> int | None:
    """Records screened when the statistical rule first says stop (checked every ``every``
    records, as a team would between batches); None if it never does before the end."""
    y = np.asarray(labels, dtype=np.int64)
    for n in range(every, len(y) + 1, every):
        p = h0_pvalue(y[:n], n_total, target)
        if p is not None and p < alpha:
            return n
    return None


def first_heuristic_stop(
    labels: Sequence[int], n_excludes: int = CONSECUTIVE_EXCLUDES
) -> int | None:
    """Records screened when ``n_excludes`` excludes in a row first occur after an include."""
    run, seen_include = 0, False
    for i, v in enumerate(labels, start=1):
        if v:
            run, seen_include = 0, True
        else:
            run += 1
            if seen_include and run >= n_excludes:
                return i
    return None
