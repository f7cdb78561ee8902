"""Pooling models: inverse-variance FE, random effects (DL, REML, PM), HKSJ, MH and Peto.

Definitions follow R's metafor 3.8 (``rma.uni``, ``rma.mh``, ``rma.peto``, ``predict``,
``confint``) so that results agree with it to floating-point accuracy; REML and PM are solved
to convergence (metafor's own defaults stop earlier). Everything here is plain NumPy on
arrays: no pandas, so a single fit costs a few microseconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Literal

import numpy as np
from scipy.optimize import brentq
from scipy.special import chdtrc, chdtri, ndtri, stdtr, stdtrit

from registry.errors import StatsError
from registry.pooling.effects import study_label, two_by_two_positive

Method = Literal["FE", "DL", "REML", "PM"]
METHODS: tuple[str, ...] = ("FE", "DL", "REML", "PM")

_SQRT2 = math.sqrt(2.0)
_TOL = 1e-15  # relative step size at which the iterative tau2 solvers stop
_MAXITER = 500
# Smallest sampling variance accepted: the random-effects formulas use sums of 1/vi^3, which
# overflow double precision (~1.8e308) long before vi reaches 1e-300; no real study is this
# precise (an SE of 1e-50 on any scale is a data error).
VI_MIN = 1e-100


@dataclass(frozen=True)
class MetaResult:
    """One fitted meta-analysis (field notation as metafor: yi, vi, tau2, i2 ...).

    ``stat`` is z (``test == "z"``) or t with ``df`` degrees of freedom (``test == "t"``, HKSJ).
    ``i2``/``h2`` are in percent / ratio; for random-effects models they are metafor's (from
    tau2 and the typical within-study variance), for FE/MH/Peto ``(Q - df)/Q`` truncated at 0.
    ``tau2_ci`` is the Q-profile confidence interval for tau2 (None for MH and Peto).
    ``pi_lb``/``pi_ub``: prediction interval (equal to the CI for fixed-effect models; None for
    MH and Peto). ``weights_percent`` are the model's weights in percent, in input order.
    """

    estimate: float
    se: float
    stat: float
    pval: float
    ci_lb: float
    ci_ub: float
    tau2: float
    i2: float
    h2: float
    q: float
    q_pval: float
    df: int
    k: int
    pi_lb: float | None
    pi_ub: float | None
    weights_percent: tuple[float, ...]
    method: str
    test: str
    measure: str = "GEN"
    level: float = 0.95
    notes: tuple[str, ...] = ()
    # (yi, vi) the Q-profile CI is computed from, on first access (it costs more than the fit)
    tau2_ci_data: tuple[np.ndarray, np.ndarray] | None = field(
        default=None, repr=False, compare=False
    )

    @cached_property
    def tau2_ci(self) -> tuple[float, float] | None:
        """Q-profile confidence interval for tau2 (Viechtbauer 2007); None for MH/Peto/k = 1."""
        if self.tau2_ci_data is None:
            return None
        y, v = self.tau2_ci_data
        return tau2_qprofile_ci(y, v, self.level)

    def to_json_dict(self) -> dict[str, object]:
        """The result with the reference files' field names (log scale for OR/RR)."""
        out: dict[str, object] = {
            "k": self.k,
            "estimate": self.estimate,
            "se": self.se,
            "stat": self.stat,
            "pval": self.pval,
            "ci_lb": self.ci_lb,
            "ci_ub": self.ci_ub,
            "tau2": self.tau2,
            "tau2_ci": list(self.tau2_ci) if self.tau2_ci is not None else None,
            "I2": self.i2,
            "H2": self.h2,
            "Q": self.q,
            "Q_pval": self.q_pval,
            "df": self.df,
            "test": self.test,
            "method": self.method,
            "measure": self.measure,
        }
        if self.pi_lb is not None:
            out["pi_lb"] = self.pi_lb
            out["pi_ub"] = self.pi_ub
        out["weights_percent"] = list(self.weights_percent)
        if self.notes:
            out["notes"] = list(self.notes)
        return out


# ----------------------------------------------------------------------------- helpers


def _as_arrays(
    yi: Sequence[float] | np.ndarray, vi: Sequence[float] | np.ndarray,
    labels: Sequence[str] | None,
) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(yi, dtype=float).ravel()
    v = np.asarray(vi, dtype=float).ravel()
    if y.shape != v.shape:
        raise StatsError(f"yi has {y.size} values but vi has {v.size}")
    if y.size == 0:
        raise StatsError("no studies to pool")
    if not (np.isfinite(y).all() and np.isfinite(v).all()):
        i = int(np.flatnonzero(~(np.isfinite(y) & np.isfinite(v)))[0])
        raise StatsError(f"{study_label(labels, i)}: yi or vi is missing (yi={y[i]}, vi={v[i]})")
    if not (v > 0).all():
        i = int(np.flatnonzero(~(v > 0))[0])
        raise StatsError(
            f"{study_label(labels, i)}: sampling variance vi must be > 0, got {v[i]:g}"
        )
    if v.min() < VI_MIN:
        i = int(np.argmin(v))
        raise StatsError(
            f"{study_label(labels, i)}: sampling variance vi = {v[i]:g} is too small to pool "
            f"(below {VI_MIN:g}, its weight 1/vi overflows); check the SE, CI or SD it came from"
        )
    return y, v


def _qgen(y: np.ndarray, v: np.ndarray, tau2: float) -> tuple[float, float]:
    """Generalised Q at tau2 and its derivative dQ/dtau2 (DerSimonian & Kacker 2007)."""
    w = 1.0 / (v + tau2)
    sw = w.sum()
    mu = (w @ y) / sw
    wr = w * (y - mu)
    # d/dtau2 of sum w r^2: the mu-derivative term vanishes because sum w r = 0
    return float(wr @ (y - mu)), float(-(wr @ wr))


def _solve_qgen(y: np.ndarray, v: np.ndarray, target: float, start: float = 0.0) -> float:
    """Root of Q_gen(tau2) = target on [0, inf); 0 if Q_gen(0) <= target.

    Q_gen is decreasing and convex in tau2 (Cauchy-Schwarz on its second derivative), so a
    Newton step from anywhere lands left of the root and Newton from the left climbs
    monotonically to it. While left of the root we take the Newton step for 1/Q_gen (which
    is nearly linear in tau2, so far fewer steps); the first time that overshoots we switch
    to plain Newton for good, which keeps convergence guaranteed.
    """
    t = 0.0
    if start > 0:
        q, dq = _qgen(y, v, start)
        if q > target:
            t = start
    if t == 0.0:
        q, dq = _qgen(y, v, 0.0)
        if q <= target:
            return 0.0
    accelerate = True
    prev = math.inf
    for _ in range(_MAXITER):
        if q > target:
            step = (q - target) / -dq
            if accelerate:
                step *= q / target  # Newton step for 1/Q_gen = 1/target
        else:
            accelerate = False
            step = (q - target) / -dq  # negative: back to the left of the root
        t_new = max(t + step, 0.0)
        if t_new == 0.0 and t == 0.0:
            return 0.0
        if _converged(t_new - t, prev, t_new):
            return t_new
        if _quadratic_done(step, prev, t_new):
            return t_new
        t, prev = t_new, t_new - t
        q, dq = _qgen(y, v, t)
    raise StatsError("Q-profile / Paule-Mandel iteration did not converge")


def tau2_dl(y: np.ndarray, v: np.ndarray) -> float:
    """DerSimonian-Laird tau2 (DerSimonian & Laird 1986), truncated at 0."""
    w = 1.0 / v
    sw = w.sum()
    mu = (w @ y) / sw
    q = float(w @ (y - mu) ** 2)
    c = sw - (w @ w) / sw
    return max(0.0, (q - (y.size - 1)) / c)


def tau2_pm(y: np.ndarray, v: np.ndarray) -> float:
    """Paule-Mandel tau2: generalised Q equals k - 1 (Paule & Mandel 1982)."""
    return _solve_qgen(y, v, y.size - 1.0, start=tau2_dl(y, v))


def _reml_step(y: np.ndarray, v: np.ndarray, t: float) -> float:
    """Fisher-scoring step (score / expected information) of the REML likelihood at tau2 = t."""
    w = 1.0 / (v + t)
    sw = w.sum()
    mu = (w @ y) / sw
    py = w * (y - mu)
    w2 = w @ w
    tr_p = sw - w2 / sw
    tr_pp = w2 - 2.0 * (w @ (w * w)) / sw + (w2 / sw) ** 2
    return float((py @ py - tr_p) / tr_pp)


def _reml_newton_step(y: np.ndarray, v: np.ndarray, t: float) -> tuple[float, bool]:
    """Newton step on the REML score (observed information), else the Fisher step.

    With a = Py and b = Pa: score = (a'a - tr P)/2, its derivative = -a'b + tr(PP)/2
    (Viechtbauer 2005), where a'b = sum(w a^2) - (sum w a)^2 / sum w. Newton converges
    quadratically near the root; where the observed information is not positive the expected
    one (Fisher scoring) is used. Either way the step has the sign of the score, which the
    bracket in :func:`fisher_scoring` relies on.
    """
    w = 1.0 / (v + t)
    sw = w.sum()
    a = w * (y - (w @ y) / sw)
    ww = w * w
    w2 = ww.sum()
    tr_p = sw - w2 / sw
    tr_pp = w2 - 2.0 * (ww @ w) / sw + (w2 / sw) ** 2
    wa = w @ a
    num = a @ a - tr_p
    obs = 2.0 * ((w * a) @ a - wa * wa / sw) - tr_pp
    return (float(num / obs), True) if obs > 0 else (float(num / tr_pp), False)


def tau2_reml(y: np.ndarray, v: np.ndarray, start: float | None = None) -> float:
    """REML tau2 (as metafor rma.uni, solved to convergence).

    Newton / Fisher-scoring steps on the restricted likelihood's score (Viechtbauer 2005,
    eqs. 8-9; Fisher step = (y'PPy - tr P) / tr(PP), P = W - W11'W / sum(W)), safeguarded by
    a bracket (see :func:`fisher_scoring`).
    """
    return fisher_scoring(lambda t: _reml_newton_step(y, v, t),
                          tau2_dl(y, v) if start is None else start,
                          root_fn=lambda t: _reml_step(y, v, t))


def fisher_scoring(
    step: Callable[[float], tuple[float, bool]], start: float,
    root_fn: Callable[[float], float] | None = None,
) -> float:
    """Root of the score on [0, inf) by Newton / Fisher-scoring steps, safeguarded by a bracket.

    ``step(t)`` returns the step (its sign is the sign of the score) and whether it is a Newton
    step (quadratic convergence: once a Newton step is below 1e-7 relative, the error after it
    is ~1e-14 and no further evaluation is needed). Every evaluated point narrows a bracket
    around the root; a step leaving it is replaced by bisection, and a step that does not
    contract hands over to Brent's method, so the iteration converges where plain Fisher
    scoring oscillates (metafor then stops with "did not converge"). If the iteration heads
    below 0 and the score at 0 is not positive, the maximum is at the bound.
    """
    s0_cache: list[float] = []

    def s0() -> float:
        if not s0_cache:
            s0_cache.append(step(0.0)[0])
        return s0_cache[0]

    t = start
    if t == 0.0 and s0() <= 0:
        return 0.0
    lo, hi = 0.0, math.inf
    prev = math.inf
    for _ in range(_MAXITER):
        adj, newton = step(t) if t > 0 else (s0(), False)
        if adj == 0.0:
            return t
        if adj > 0:
            lo = max(lo, t)
        else:
            hi = min(hi, t)
        t_new = t + adj
        if t_new < 0 and s0() <= 0:
            return 0.0
        if lo < t_new < hi:
            if _converged(adj, prev, t_new) or (newton and _quadratic_done(adj, prev, t_new)):
                return t_new
            if abs(adj) > 0.5 * abs(prev) and hi < math.inf and (lo > 0 or s0() > 0):
                # oscillating inside a bracket (slow or no contraction): Brent's method on the
                # score's sign-carrying step
                fn = root_fn or (lambda x: step(x)[0])
                return float(brentq(fn, lo, hi, xtol=1e-300, rtol=1e-15, maxiter=_MAXITER))
            prev = adj
        else:
            t_new = 0.5 * (lo + hi)  # the step left the bracket: bisect instead
            if hi - lo <= 1e-14 * hi:
                return t_new
            prev = math.inf
        t = t_new
    raise StatsError("REML iteration did not converge")


def _quadratic_done(adj: float, prev: float, t: float) -> bool:
    """Newton in its quadratic phase: the next step is about adj^2 * |adj| / prev^2; stop when
    that predicted correction is below 1e-13 relative (saves the confirming evaluation)."""
    return (abs(adj) < 0.1 * abs(prev) and abs(adj) <= 1e-4 * t
            and adj * adj * abs(adj) <= 1e-13 * t * prev * prev)


def _converged(adj: float, prev: float, t: float) -> bool:
    """Step below 1e-14 relative, or stalled at rounding level (steps no longer shrinking)."""
    a = abs(adj)
    return a <= 1e-14 * t or a < 1e-300 or (a <= 1e-10 * t and a >= 0.5 * abs(prev))


def tau2_estimate(y: np.ndarray, v: np.ndarray, method: str) -> float:
    """tau2 by the named method (FE gives 0)."""
    if method == "FE":
        return 0.0
    if method == "DL":
        return tau2_dl(y, v)
    if method == "REML":
        return tau2_reml(y, v)
    if method == "PM":
        return tau2_pm(y, v)
    raise StatsError(f"unknown tau2 method {method!r}; use one of {', '.join(METHODS)}")


def tau2_qprofile_ci(y: np.ndarray, v: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Q-profile confidence interval for tau2 (Viechtbauer 2007; metafor ``confint``).

    Bounds solve Q_gen(tau2) = chi2_{k-1} quantiles 1 - a/2 (lower) and a/2 (upper), each
    truncated at 0.
    """
    df = y.size - 1
    if df < 1:
        raise StatsError("a Q-profile CI for tau2 needs at least 2 studies")
    alpha = 1.0 - level
    crit_lb = float(chdtri(df, alpha / 2))  # upper quantile (chdtri takes the upper tail)
    crit_ub = float(chdtri(df, 1 - alpha / 2))
    return _solve_qgen(y, v, crit_lb), _solve_qgen(y, v, crit_ub)


@lru_cache(maxsize=16)
def _zcrit(level: float) -> float:
    return float(ndtri(1 - (1 - level) / 2))


def _pz(z: float) -> float:
    # two-sided normal p-value, 2 * Phi(-|z|) = erfc(|z| / sqrt 2)
    return math.erfc(abs(z) / _SQRT2)


def _fe_heterogeneity(q: float, df: int) -> tuple[float, float, float]:
    """I2, H2 and Q p-value from Q alone (Higgins & Thompson 2002; RevMan)."""
    if df < 1:
        return 0.0, 1.0, 1.0  # metafor's values for a single study
    i2 = max(0.0, (q - df) / q) * 100.0 if q > 0 else 0.0
    return i2, q / df, float(chdtrc(df, q))


# ----------------------------------------------------------------------------- rma


def rma(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray,
    *,
    method: str = "REML",
    hksj: bool = False,
    level: float = 0.95,
    measure: str = "GEN",
    labels: Sequence[str] | None = None,
    tau2_ci: bool = True,
    allow_single: bool = False,
) -> MetaResult:
    """Inverse-variance meta-analysis (metafor ``rma.uni`` without moderators).

    ``method``: FE (fixed/common effect), DL, REML or PM (random effects). ``hksj``: the
    Hartung-Knapp-Sidik-Jonkman adjustment (metafor ``test="knha"``; t with k - 1 df).
    ``labels`` name the studies in error messages. A random-effects model, HKSJ and the tau2
    CI need at least two studies; with ``allow_single=True`` a single study is returned as
    metafor does (tau2 = 0, Q = 0, I2 = 0, H2 = 1), which cumulative and subgroup analyses use.
    """
    method = method.upper()
    if method not in METHODS:
        raise StatsError(f"unknown method {method!r} for rma; use one of {', '.join(METHODS)}")
    y, v = _as_arrays(yi, vi, labels)
    k = y.size
    if k == 1 and not allow_single and (method != "FE" or hksj):
        what = "the HKSJ adjustment" if hksj else f"a random-effects model ({method})"
        raise StatsError(
            f"{what} needs at least 2 studies; only {study_label(labels, 0)} is available"
        )
    if k == 1 and hksj:
        only = study_label(labels, 0)
        raise StatsError(f"the HKSJ adjustment needs at least 2 studies; only {only}")
    try:
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # checked below
            res = _fit_iv(y, v, method, hksj, level, measure, tau2_ci and k > 1)
    except (ZeroDivisionError, OverflowError, FloatingPointError):
        res = None
    if res is None or not (math.isfinite(res.estimate) and math.isfinite(res.se)):
        # one weight dwarfs the others so far that sums of weights lose every digit
        i = int(np.argmin(v))
        raise StatsError(
            f"{study_label(labels, i)}: sampling variance vi = {v[i]:g} is too small beside "
            f"the others' (largest {v.max():g}) to fit a {method} model in double precision; "
            "check the SE, CI or SD it came from"
        )
    return res


def _fit_iv(y: np.ndarray, v: np.ndarray, method: str, hksj: bool, level: float,
            measure: str, keep_ci_data: bool) -> MetaResult:
    """The inverse-variance model on validated arrays: tau2, pooled estimate, CI, test."""
    k = y.size
    df = k - 1
    w0 = 1.0 / v
    sw0 = float(w0.sum())
    ww0 = float(w0 @ w0)
    mu0 = float(w0 @ y) / sw0
    r0 = y - mu0
    q = float(w0 @ (r0 * r0))  # Cochran's Q (inverse-variance FE weights)

    if k == 1 or method == "FE":
        tau2 = 0.0
    elif method == "DL":
        # DerSimonian & Laird 1986 (as tau2_dl, reusing Q and the weights)
        tau2 = max(0.0, (q - df) / (sw0 - ww0 / sw0))
    else:
        tau2 = tau2_estimate(y, v, method)
    if tau2 == 0.0:
        w, sw, mu = w0, sw0, mu0
    else:
        w = 1.0 / (v + tau2)
        sw = float(w.sum())
        mu = float(w @ y) / sw
    se, crit, stat, pval, test = _wald_or_hksj(y, w, sw, mu, df, hksj, level)
    ci_lb, ci_ub = mu - crit * se, mu + crit * se

    if method == "FE" or k == 1:
        i2, h2, q_pval = _fe_heterogeneity(q, df)
        pi_lb, pi_ub = ci_lb, ci_ub
    else:
        # typical within-study variance (Higgins & Thompson 2002, eq. 9; metafor's vt)
        vt = df * sw0 / (sw0**2 - ww0)
        i2 = 100.0 * tau2 / (vt + tau2)
        h2 = (vt + tau2) / vt
        q_pval = float(chdtrc(df, q))
        # prediction interval (Riley et al. 2011; metafor predict: crit is t_{k-1} under knha)
        half = crit * math.sqrt(se * se + tau2)
        pi_lb, pi_ub = mu - half, mu + half

    return MetaResult(
        estimate=float(mu), se=se, stat=float(stat), pval=pval, ci_lb=float(ci_lb),
        ci_ub=float(ci_ub), tau2=float(tau2), i2=float(i2), h2=float(h2), q=q,
        q_pval=q_pval, df=df, k=k, pi_lb=float(pi_lb), pi_ub=float(pi_ub),
        weights_percent=tuple((100.0 * w / sw).tolist()), method=method, test=test,
        measure=measure, level=level, tau2_ci_data=(y, v) if keep_ci_data else None,
    )


def _wald_or_hksj(
    y: np.ndarray, w: np.ndarray, sw: float, mu: float, df: int, hksj: bool, level: float,
) -> tuple[float, float, float, float, str]:
    """(se, critical value, statistic, p-value, "z" | "t") of the pooled estimate."""
    if hksj:
        # Knapp & Hartung 2003 / Sidik & Jonkman 2002: scaled variance, t_{k-1}
        s2 = float(w @ (y - mu) ** 2) / df
        if not s2 > 0 or np.ptp(y) == 0:
            raise StatsError("the HKSJ adjustment is undefined here: all studies have the "
                             "same estimate, so its variance factor is 0 (use the Wald CI)")
        se = math.sqrt(s2 / sw)
        stat = mu / se
        return (se, float(stdtrit(df, 1 - (1 - level) / 2)), stat,
                float(2 * stdtr(df, -abs(stat))), "t")
    se = math.sqrt(1.0 / sw)
    stat = mu / se
    return se, _zcrit(level), stat, _pz(stat), "z"


# ----------------------------------------------------------------------------- MH and Peto


def _tables(
    events1: Sequence[float] | np.ndarray, n1: Sequence[float] | np.ndarray,
    events2: Sequence[float] | np.ndarray, n2: Sequence[float] | np.ndarray,
    labels: Sequence[str] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    try:
        tab = np.array([events1, n1, events2, n2], dtype=float)
    except ValueError:
        raise StatsError("events1, n1, events2 and n2 must have the same length") from None
    if tab.ndim != 2 or tab.shape[1] == 0:
        raise StatsError("no studies to pool")
    a, t1, c, t2 = tab
    finite = np.isfinite(tab).all(0)
    valid = finite & (a >= 0) & (a <= t1) & (c >= 0) & (c <= t2) & (t1 > 0) & (t2 > 0)
    if not valid.all():
        i = int(np.flatnonzero(~valid)[0])
        if not finite[i]:
            raise StatsError(f"{study_label(labels, i)}: events or totals are missing")
        raise StatsError(
            f"{study_label(labels, i)}: invalid counts (events1={a[i]:g}, n1={t1[i]:g}, "
            f"events2={c[i]:g}, n2={t2[i]:g})"
        )
    return a, t1 - a, c, t2 - c


def _het_from_yi(
    measure: str, a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray, est: float
) -> tuple[float, int]:
    """Q around the MH estimate from per-study yi/vi, as rma.mh computes it.

    metafor uses escalc with add = 1/2, to = "only0" and drop00 = TRUE for this test only.
    """
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    if zero.any():
        keep = ~(((a == 0) & (c == 0)) | ((b == 0) & (d == 0)))
        a, b, c, d, zero = a[keep], b[keep], c[keep], d[keep], zero[keep]
        z = 0.5 * zero
        a, b, c, d = a + z, b + z, c + z, d + z
    # every cell is > 0 here (zero cells corrected, double zeros dropped): no guard needed
    yi, vi = two_by_two_positive(measure, a, b, c, d)
    if yi.size < 2:
        return 0.0, 0  # no heterogeneity test from fewer than 2 tables (metafor: QE = 0)
    return float(((yi - est) ** 2 / vi).sum()), yi.size - 1


def _finish(
    est: float, se: float, q: float, df: int, k: int, weights: np.ndarray, method: str,
    measure: str, level: float,
) -> MetaResult:
    crit = _zcrit(level)
    stat = est / se
    i2, h2, q_pval = _fe_heterogeneity(q, df)
    sw = weights.sum()
    return MetaResult(
        estimate=float(est), se=float(se), stat=float(stat), pval=_pz(stat),
        ci_lb=float(est - crit * se), ci_ub=float(est + crit * se), tau2=0.0,
        i2=i2, h2=h2, q=q, q_pval=q_pval, df=df, k=k, pi_lb=None, pi_ub=None,
        weights_percent=tuple((100.0 * weights / sw).tolist()), method=method, test="z",
        measure=measure, level=level,
    )


def rma_mh(
    events1: Sequence[float] | np.ndarray,
    n1: Sequence[float] | np.ndarray,
    events2: Sequence[float] | np.ndarray,
    n2: Sequence[float] | np.ndarray,
    measure: str = "OR",
    *,
    level: float = 0.95,
    labels: Sequence[str] | None = None,
) -> MetaResult:
    """Mantel-Haenszel fixed-effect pooling of 2x2 tables (metafor ``rma.mh``) for OR, RR, RD.

    Raw counts are pooled (no continuity correction). Variances: Robins, Breslow & Greenland
    1986 (OR), Greenland & Robins 1985 (RR), Sato, Greenland & Robins 1989 (RD).
    """
    measure = measure.upper()
    if measure not in ("OR", "RR", "RD"):
        raise StatsError(f"Mantel-Haenszel pools OR, RR or RD, not {measure!r}")
    a, b, c, d = _tables(events1, n1, events2, n2, labels)
    t1, t2 = a + b, c + d
    n = t1 + t2
    k = a.size
    if measure == "OR":
        r = a * d / n
        s = b * c / n
        sr, ss = r.sum(), s.sum()
        if sr == 0 or ss == 0:
            raise StatsError("the Mantel-Haenszel odds ratio is undefined: no informative study "
                             "(every study has a zero in both a*d and b*c)")
        est = math.log(sr / ss)
        p = (a + d) / n
        qq = (b + c) / n
        # Robins, Breslow & Greenland 1986 variance of log OR_MH
        var = ((p * r).sum() / (2 * sr * sr) + (p * s + qq * r).sum() / (2 * sr * ss)
               + (qq * s).sum() / (2 * ss * ss))
        weights = s
    elif measure == "RR":
        r = a * t2 / n
        s = c * t1 / n
        sr, ss = r.sum(), s.sum()
        if sr == 0 or ss == 0:
            raise StatsError("the Mantel-Haenszel risk ratio is undefined: no events in one arm "
                             "of every study")
        est = math.log(sr / ss)
        # Greenland & Robins 1985 variance of log RR_MH
        var = ((t1 * t2 * (a + c) - a * c * n) / (n * n)).sum() / (sr * ss)
        weights = s
    else:
        wsum = (t1 * t2 / n).sum()
        est = float(((a * t2 - c * t1) / n).sum() / wsum)
        # Sato, Greenland & Robins 1989 variance (consistent in sparse and large strata)
        pp = (t1 * t1 * c - t2 * t2 * a + t1 * t2 * (t2 - t1) / 2) / (n * n)
        qq = (a * (t2 - c) + c * (t1 - a)) / (2 * n)
        var = (est * pp.sum() + qq.sum()) / (wsum * wsum)
        weights = t1 * t2 / n
    q, df = _het_from_yi(measure, a, b, c, d, est)
    return _finish(est, math.sqrt(var), q, df, k, weights, "MH", measure, level)


def rma_peto(
    events1: Sequence[float] | np.ndarray,
    n1: Sequence[float] | np.ndarray,
    events2: Sequence[float] | np.ndarray,
    n2: Sequence[float] | np.ndarray,
    measure: str = "OR",
    *,
    level: float = 0.95,
    labels: Sequence[str] | None = None,
) -> MetaResult:
    """Peto's one-step log odds ratio (Yusuf et al. 1985; metafor ``rma.peto``)."""
    if measure.upper() != "OR":
        raise StatsError(f"Peto's method pools odds ratios only, not {measure!r}")
    a, b, c, d = _tables(events1, n1, events2, n2, labels)
    t1, t2 = a + b, c + d
    n = t1 + t2
    e = t1 * (a + c) / n
    # hypergeometric variance of a; 0 when no events or no non-events in the study
    with np.errstate(all="ignore"):
        vv = np.where(n > 1, t1 * t2 * (a + c) * (b + d) / (n * n * (n - 1)), 0.0)
    sv = vv.sum()
    if sv == 0:
        raise StatsError("Peto's odds ratio is undefined: no study has both events and non-events")
    o_e = a - e
    est = float(o_e.sum() / sv)
    # Q of the per-study Peto log ORs (O - E)/V with variance 1/V around the estimate, over
    # the studies with V > 0 (metafor's drop00 for this test): sum (O - E - est V)^2 / V
    inf = vv > 0
    df = int(inf.sum()) - 1
    q = float(((o_e[inf] - est * vv[inf]) ** 2 / vv[inf]).sum()) if df >= 1 else 0.0
    df = max(df, 0)
    return _finish(est, math.sqrt(1.0 / sv), q, df, a.size, vv, "PETO", "OR", level)


def rma_mh_dl(
    events1: Sequence[float] | np.ndarray,
    n1: Sequence[float] | np.ndarray,
    events2: Sequence[float] | np.ndarray,
    n2: Sequence[float] | np.ndarray,
    measure: str = "OR",
    *,
    level: float = 0.95,
    labels: Sequence[str] | None = None,
) -> MetaResult:
    """DerSimonian-Laird random effects for 2x2 tables as Review Manager 5 computes it.

    RevMan 5 algorithms (Deeks & Higgins 2010, "random effects: DerSimonian and Laird"): Q is
    the Mantel-Haenszel heterogeneity statistic sum (yi - theta_MH)^2 / vi, tau2 = max(0,
    (Q - df) / (sum w - sum w^2 / sum w)), then inverse-variance pooling with 1/(vi + tau2).
    Per-study yi/vi get 1/2 in every cell of a zero-cell study; studies without events in
    either arm are left out of OR and RR. I2 is RevMan's (Q - df)/Q.
    """
    from registry.pooling.effects import escalc

    measure = measure.upper()
    mh = rma_mh(events1, n1, events2, n2, measure, level=level, labels=labels)
    es = escalc(measure, events1=events1, n1=n1, events2=events2, n2=n2,
                drop00=measure != "RD", labels=labels)
    ok = ~np.isnan(es.yi)
    y, v = es.yi[ok], es.vi[ok]
    k = y.size
    if k < 2:
        raise StatsError(f"a random-effects model (DL) needs at least 2 informative studies; "
                         f"got {k}")
    w0 = 1.0 / v
    sw0 = w0.sum()
    q = float(w0 @ (y - mh.estimate) ** 2)
    df = k - 1
    tau2 = max(0.0, (q - df) / (sw0 - (w0 @ w0) / sw0))
    w = 1.0 / (v + tau2)
    sw = w.sum()
    mu = float((w @ y) / sw)
    se = math.sqrt(1.0 / sw)
    crit = _zcrit(level)
    stat = mu / se
    i2, h2, q_pval = _fe_heterogeneity(q, df)
    half = crit * math.sqrt(se * se + tau2)
    return MetaResult(
        estimate=mu, se=se, stat=stat, pval=_pz(stat), ci_lb=mu - crit * se,
        ci_ub=mu + crit * se, tau2=tau2, tau2_ci_data=(y, v), i2=i2, h2=h2,
        q=q, q_pval=q_pval, df=df, k=k, pi_lb=mu - half, pi_ub=mu + half,
        weights_percent=tuple((100.0 * w / sw).tolist()), method="DL", test="z",
        measure=measure, level=level,
        notes=("tau2 from the Mantel-Haenszel Q (Review Manager 5)",) + es.notes,
    )
