"""Analyses around a model: subgroups, leave-one-out, cumulative, Egger, trim-and-fill,
meta-regression on one moderator.

Definitions follow metafor 3.8 (``leave1out``, ``cumul``, ``regtest``, ``trimfill``, ``rma.uni``
with ``mods``) and Review Manager 5 for the test for subgroup differences.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import chdtrc, ndtr, ndtri, stdtr, stdtrit

from registry.errors import StatsError
from registry.pooling.effects import study_label
from registry.pooling.models import (
    METHODS,
    MetaResult,
    _as_arrays,
    _fe_heterogeneity,
    fisher_scoring,
    rma,
)

if TYPE_CHECKING:
    from registry.pooling.batch import BatchResult

Fit = Callable[[np.ndarray], MetaResult]


def _batch(y: np.ndarray, v: np.ndarray, **kw: Any) -> BatchResult:
    from registry.pooling.batch import rma_batch  # batch imports models; imported late

    return rma_batch(y, v, **kw)


def _fitter(
    y: np.ndarray, v: np.ndarray, method: str, hksj: bool, level: float, measure: str,
    labels: Sequence[str] | None,
) -> Fit:
    """A function fitting the model on a subset of studies (index array)."""
    labs = list(labels) if labels is not None else None

    def fit(idx: np.ndarray) -> MetaResult:
        sub = [labs[i] for i in idx] if labs is not None else None
        single = idx.size == 1
        return rma(y[idx], v[idx], method="FE" if single else method,
                   hksj=hksj and not single, level=level, measure=measure, labels=sub,
                   allow_single=True)

    return fit


# ----------------------------------------------------------------------------- subgroups


@dataclass(frozen=True)
class Subgroup:
    """One subgroup: its label, the 0-based rows it holds and the model fitted within it."""

    label: str
    rows: tuple[int, ...]
    result: MetaResult


@dataclass(frozen=True)
class SubgroupAnalysis:
    """Per-subgroup fits and the test for subgroup differences (Review Manager 5).

    The test is a fixed-effect Cochran's Q across the subgroup estimates weighted by
    1/se^2 (Deeks, Altman & Bradburn 2001; RevMan 5 algorithms), df = groups - 1, and
    I2 = (Q - df)/Q truncated at 0.
    """

    subgroups: tuple[Subgroup, ...]
    q: float
    df: int
    pval: float
    i2: float

    def to_json_dict(self) -> dict[str, object]:
        """Reference-file layout: subgroups keyed by label (rows 1-based) and the test."""
        subs: dict[str, object] = {}
        for s in self.subgroups:
            d = s.result.to_json_dict()
            subs[s.label] = {"rows": [r + 1 for r in s.rows], **d}
        return {
            "subgroups": subs,
            "test_for_subgroup_differences": {
                "Q": self.q, "df": self.df, "pval": self.pval, "I2": self.i2,
            },
        }


def subgroup_test(results: Sequence[MetaResult]) -> tuple[float, int, float, float]:
    """RevMan's test for subgroup differences from subgroup estimates: (Q, df, p, I2%)."""
    est = np.array([r.estimate for r in results])
    w = 1.0 / np.array([r.se for r in results]) ** 2
    mu = (w @ est) / w.sum()
    q = float(w @ (est - mu) ** 2)
    df = est.size - 1
    if df < 1:
        return 0.0, 0, 1.0, 0.0
    i2, _h2, p = _fe_heterogeneity(q, df)
    return q, df, p, i2


def subgroups_from_fit(groups: Sequence[Hashable], fit: Fit) -> SubgroupAnalysis:
    """Subgroup analysis with any per-subset fitting function (used for MH/Peto too)."""
    g = list(groups)
    if not g:
        raise StatsError("no studies to split into subgroups")
    order: list[Hashable] = []
    for x in g:
        if x not in order:
            order.append(x)
    subs = []
    for lev in order:
        idx = np.array([i for i, x in enumerate(g) if x == lev])
        subs.append(Subgroup(str(lev), tuple(int(i) for i in idx), fit(idx)))
    q, df, p, i2 = subgroup_test([s.result for s in subs])
    return SubgroupAnalysis(tuple(subs), q, df, p, i2)


def subgroups(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray,
    groups: Sequence[Hashable],
    *,
    method: str = "DL",
    hksj: bool = False,
    level: float = 0.95,
    measure: str = "GEN",
    labels: Sequence[str] | None = None,
) -> SubgroupAnalysis:
    """Fit the model within each level of ``groups`` (levels in order of first appearance).

    A subgroup with a single study is reported as metafor does (its own estimate, tau2 = 0).
    Missing group labels should be given an explicit level (e.g. "missing") by the caller.
    """
    y, v = _as_arrays(yi, vi, labels)
    if len(groups) != y.size:
        raise StatsError(f"groups has {len(groups)} labels for {y.size} studies")
    return subgroups_from_fit(groups, _fitter(y, v, method, hksj, level, measure, labels))


# ----------------------------------------------------------------------------- leave-one-out


@dataclass(frozen=True)
class Sequential:
    """Leave-one-out or cumulative results, one entry per refit.

    ``order`` holds the 0-based study index left out (leave-one-out) or added last
    (cumulative) at each step.
    """

    kind: str
    order: tuple[int, ...]
    results: tuple[MetaResult, ...]

    def column(self, name: str) -> list[float]:
        """One field across steps, e.g. ``column("estimate")``."""
        return [getattr(r, name) for r in self.results]

    def to_json_dict(self) -> dict[str, object]:
        """Reference-file layout (parallel lists)."""
        out: dict[str, object] = {}
        if self.kind == "cumulative":
            out["order"] = [i + 1 for i in self.order]
        else:
            out["omitted"] = [i + 1 for i in self.order]
        for key, attr in (("estimate", "estimate"), ("se", "se"), ("ci_lb", "ci_lb"),
                          ("ci_ub", "ci_ub"), ("pval", "pval"), ("tau2", "tau2"), ("I2", "i2"),
                          ("Q", "q"), ("k", "k")):
            out[key] = self.column(attr)
        return out


def leave_one_out(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray,
    *,
    method: str = "DL",
    hksj: bool = False,
    level: float = 0.95,
    measure: str = "GEN",
    labels: Sequence[str] | None = None,
    fit: Fit | None = None,
) -> Sequential:
    """Refit without each study in turn, in input order (metafor ``leave1out``)."""
    y, v = _as_arrays(yi, vi, labels)
    k = y.size
    if k < 2:
        raise StatsError("leave-one-out needs at least 2 studies")
    allidx = np.arange(k)
    if fit is None and method.upper() in METHODS and (not hksj or k > 2):
        # all k refits at once (vectorised); identical to fitting one at a time
        drop = ~np.eye(k, dtype=bool)
        rows_y = y[None, :].repeat(k, 0)[drop].reshape(k, k - 1)
        rows_v = v[None, :].repeat(k, 0)[drop].reshape(k, k - 1)
        b = _batch(rows_y, rows_v, method=method, hksj=hksj, level=level)
        res = tuple(b.result(i, measure=measure, level=level) for i in range(k))
        return Sequential("leave_one_out", tuple(range(k)), res)
    f = fit or _fitter(y, v, method, hksj, level, measure, labels)
    res = tuple(f(allidx[allidx != i]) for i in range(k))
    return Sequential("leave_one_out", tuple(range(k)), res)


def cumulative(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray,
    *,
    order: Sequence[float] | None = None,
    method: str = "DL",
    hksj: bool = False,
    level: float = 0.95,
    measure: str = "GEN",
    labels: Sequence[str] | None = None,
    fit: Fit | None = None,
) -> Sequential:
    """Cumulative meta-analysis adding studies by ascending ``order`` (e.g. year).

    Ties keep input order (stable sort, as R's ``order``); without ``order`` the input order
    is used. The first step is a single study (its own estimate, as metafor ``cumul``).
    """
    y, v = _as_arrays(yi, vi, labels)
    k = y.size
    if order is None:
        perm = np.arange(k)
    else:
        key = np.asarray(order, dtype=float)
        if key.size != k:
            raise StatsError(f"order has {key.size} values for {k} studies")
        if np.isnan(key).any():
            i = int(np.flatnonzero(np.isnan(key))[0])
            raise StatsError(f"{study_label(labels, i)}: no value to order the cumulative "
                             "analysis by")
        perm = np.argsort(key, kind="stable")
    if fit is None and method.upper() in METHODS and not hksj:
        # all k prefixes at once (vectorised, nan-padded); the first is a single study
        tri = np.tri(k, dtype=bool)
        rows_y = np.where(tri, y[perm][None, :], np.nan)
        rows_v = np.where(tri, v[perm][None, :], np.nan)
        b = _batch(rows_y, rows_v, method=method, level=level)
        res = tuple(b.result(j, measure=measure, level=level) for j in range(k))
        return Sequential("cumulative", tuple(int(i) for i in perm), res)
    f = fit or _fitter(y, v, method, hksj, level, measure, labels)
    res = tuple(f(perm[: j + 1]) for j in range(k))
    return Sequential("cumulative", tuple(int(i) for i in perm), res)


# ----------------------------------------------------------------------------- Egger


@dataclass(frozen=True)
class EggerResult:
    """Egger's regression test (metafor ``regtest(model="lm")``).

    ``bias`` is Egger's intercept (slope on the standard error in the weighted regression,
    identical to the intercept of standardised effect on precision); ``stat`` is its t with
    ``dfs`` = k - 2 df; ``limit_estimate`` is the fitted effect at se = 0.
    """

    bias: float
    se: float
    stat: float
    pval: float
    dfs: int
    limit_estimate: float
    k: int

    def to_json_dict(self) -> dict[str, object]:
        """Reference-file field names."""
        return {"stat": self.stat, "pval": self.pval, "dfs": self.dfs, "bias": self.bias,
                "se": self.se, "limit_estimate": self.limit_estimate, "k": self.k}


def _min_k(k: int, min_k: int, what: str) -> None:
    if k < min_k:
        raise StatsError(f"{what} needs at least {min_k} studies (Cochrane Handbook 13.3.5.4); "
                         f"got {k}")


def egger(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray,
    *,
    min_k: int = 10,
    labels: Sequence[str] | None = None,
) -> EggerResult:
    """Egger et al. 1997 regression test for funnel-plot asymmetry.

    Weighted least squares of yi on sei with weights 1/vi and a free residual variance
    (metafor ``regtest(model="lm", predictor="sei")``); the test is on the sei coefficient.
    """
    y, v = _as_arrays(yi, vi, labels)
    k = y.size
    _min_k(k, max(min_k, 3), "Egger's test")
    sei = np.sqrt(v)
    if np.ptp(sei) <= 1e-12 * sei.max():
        raise StatsError("Egger's test needs studies of different precision; all standard "
                         "errors are equal")
    x = np.column_stack([np.ones(k), sei])
    w = 1.0 / v
    xtw = x.T * w
    xtwx_inv = np.linalg.inv(xtw @ x)
    b = xtwx_inv @ (xtw @ y)
    r = y - x @ b
    dfs = k - 2
    s2 = float((w * r) @ r) / dfs
    se = math.sqrt(s2 * xtwx_inv[1, 1])
    stat = float(b[1] / se)
    return EggerResult(float(b[1]), se, stat, float(2 * stdtr(dfs, -abs(stat))), dfs,
                       float(b[0]), k)


# ----------------------------------------------------------------------------- meta-regression


@dataclass(frozen=True)
class MetaRegression:
    """Meta-regression on one moderator: yi = intercept + slope * x (+ u_i) + e_i.

    ``tau2`` is the residual heterogeneity, ``i2`` the residual I2, ``r2`` the proportion of
    tau2 explained (metafor's pseudo-R2, %), ``qe`` the residual heterogeneity test and
    ``qm`` the omnibus test of the moderator (chi2 with 1 df, or F(1, k - 2) under HKSJ).
    """

    intercept: float
    slope: float
    se_intercept: float
    se_slope: float
    stat_intercept: float
    stat_slope: float
    pval_intercept: float
    pval_slope: float
    ci_slope: tuple[float, float]
    tau2: float
    i2: float
    r2: float | None
    qe: float
    qe_pval: float
    qm: float
    qm_pval: float
    k: int
    method: str
    test: str

    def to_json_dict(self) -> dict[str, object]:
        """Plain dict with metafor-like names."""
        return {
            "k": self.k, "method": self.method, "test": self.test,
            "intercept": self.intercept, "slope": self.slope,
            "se_intercept": self.se_intercept, "se_slope": self.se_slope,
            "stat_intercept": self.stat_intercept, "stat_slope": self.stat_slope,
            "pval_intercept": self.pval_intercept, "pval_slope": self.pval_slope,
            "ci_lb_slope": self.ci_slope[0], "ci_ub_slope": self.ci_slope[1],
            "tau2": self.tau2, "I2": self.i2, "R2": self.r2, "QE": self.qe,
            "QE_pval": self.qe_pval, "QM": self.qm, "QM_pval": self.qm_pval,
        }


def _wls(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xtw = x.T * w
    inv = np.linalg.inv(xtw @ x)
    b = inv @ (xtw @ y)
    return b, inv, y - x @ b


def _qe(x: np.ndarray, y: np.ndarray, v: np.ndarray, tau2: float) -> float:
    w = 1.0 / (v + tau2)
    _b, _inv, r = _wls(x, y, w)
    return float((w * r) @ r)


def _tau2_mods(x: np.ndarray, y: np.ndarray, v: np.ndarray, method: str) -> float:
    k, p = x.shape
    if method == "FE":
        return 0.0
    if method == "DL":
        # DerSimonian-Laird with moderators (Raudenbush 2009; metafor rma.uni "DL")
        w = 1.0 / v
        _b, inv, r = _wls(x, y, w)
        qe = float((w * r) @ r)
        xtw = x.T * w
        tr_p = w.sum() - np.trace(inv @ (xtw * w) @ x)
        return max(0.0, (qe - (k - p)) / tr_p)
    if method == "PM":
        # generalised Q with moderators equals k - p; QE(tau2) is decreasing
        target = float(k - p)
        if _qe(x, y, v, 0.0) <= target:
            return 0.0
        lo, hi = 0.0, max(1.0, float(np.var(y)) * 10)
        while _qe(x, y, v, hi) > target:
            hi *= 10
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if _qe(x, y, v, mid) > target:
                lo = mid
            else:
                hi = mid
            if hi - lo <= 1e-15 * hi:
                break
        return 0.5 * (lo + hi)
    if method == "REML":
        # Fisher scoring on the restricted likelihood (Viechtbauer 2005), safeguarded
        def step(t: float) -> tuple[float, bool]:
            w = 1.0 / (v + t)
            xtw = x.T * w
            inv = np.linalg.inv(xtw @ x)
            pmat = np.diag(w) - (xtw.T @ inv @ xtw)
            py = pmat @ y
            return float((py @ py - np.trace(pmat)) / np.sum(pmat * pmat)), False

        return fisher_scoring(step, _tau2_mods(x, y, v, "DL"))
    raise StatsError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")


def metareg(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray,
    moderator: Sequence[float] | np.ndarray,
    *,
    method: str = "REML",
    hksj: bool = False,
    level: float = 0.95,
    labels: Sequence[str] | None = None,
) -> MetaRegression:
    """Meta-regression on one continuous moderator (metafor ``rma.uni(yi, vi, mods = ~ x)``)."""
    method = method.upper()
    y, v = _as_arrays(yi, vi, labels)
    xm = np.asarray(moderator, dtype=float).ravel()
    k = y.size
    if xm.size != k:
        raise StatsError(f"moderator has {xm.size} values for {k} studies")
    for i in np.flatnonzero(~np.isfinite(xm)):
        raise StatsError(f"{study_label(labels, int(i))}: moderator value is missing")
    if k < 3:
        raise StatsError(f"meta-regression needs at least 3 studies; got {k}")
    if np.ptp(xm) == 0:
        raise StatsError("the moderator takes a single value; the slope cannot be estimated")
    x = np.column_stack([np.ones(k), xm])
    p = 2
    tau2 = _tau2_mods(x, y, v, method)
    w = 1.0 / (v + tau2)
    b, inv, r = _wls(x, y, w)
    if hksj:
        s2 = float((w * r) @ r) / (k - p)
        vb = s2 * inv
        test = "t"
    else:
        vb = inv
        test = "z"
    se = np.sqrt(np.diag(vb))
    stat = b / se
    if hksj:
        pv = 2 * stdtr(k - p, -np.abs(stat))
        crit = float(stdtrit(k - p, 1 - (1 - level) / 2))
    else:
        pv = 2 * ndtr(-np.abs(stat))
        crit = float(ndtri(1 - (1 - level) / 2))
    w0 = 1.0 / v
    _b0, inv0, r0 = _wls(x, y, w0)
    qe = float((w0 * r0) @ r0)
    qe_p = float(chdtrc(k - p, qe))
    qm = float(stat[1] ** 2)
    if hksj:
        from scipy.stats import f as fdist

        qm_p = float(fdist.sf(qm, 1, k - p))
    else:
        qm_p = float(chdtrc(1, qm))
    # residual I2 with the typical within-study variance (k - p)/tr(P) (metafor)
    xtw0 = x.T * w0
    tr_p0 = w0.sum() - np.trace(inv0 @ (xtw0 * w0) @ x)
    vt = (k - p) / tr_p0
    i2 = 100.0 * tau2 / (vt + tau2) if method != "FE" else _fe_heterogeneity(qe, k - p)[0]
    r2: float | None = None
    if method != "FE":
        from registry.pooling.models import tau2_estimate

        t0 = tau2_estimate(y, v, method)
        # pseudo-R2 (Raudenbush 2009): proportional reduction in tau2, truncated at 0
        r2 = max(0.0, 100.0 * (t0 - tau2) / t0) if t0 > 0 else 0.0
    return MetaRegression(
        intercept=float(b[0]), slope=float(b[1]), se_intercept=float(se[0]),
        se_slope=float(se[1]), stat_intercept=float(stat[0]), stat_slope=float(stat[1]),
        pval_intercept=float(pv[0]), pval_slope=float(pv[1]),
        ci_slope=(float(b[1] - crit * se[1]), float(b[1] + crit * se[1])), tau2=float(tau2),
        i2=float(i2), r2=r2, qe=qe, qe_pval=qe_p, qm=qm, qm_pval=qm_p, k=k, method=method,
        test=test,
    )


# ----------------------------------------------------------------------------- trim and fill


@dataclass(frozen=True)
class TrimFillResult:
    """Trim-and-fill (Duval & Tweedie 2000), metafor ``trimfill`` with the L0 estimator.

    ``k0`` studies are imputed on ``side``; ``result`` is the model refitted on the original
    plus the ``filled_yi``/``filled_vi`` studies.
    """

    k0: int
    side: str
    estimate: float
    se: float
    ci_lb: float
    ci_ub: float
    filled_yi: tuple[float, ...]
    filled_vi: tuple[float, ...]
    result: MetaResult

    def to_json_dict(self) -> dict[str, object]:
        """Reference-file field names."""
        return {"k0": self.k0, "side": self.side, "estimate": self.estimate, "se": self.se,
                "ci_lb": self.ci_lb, "ci_ub": self.ci_ub, "filled_yi": list(self.filled_yi),
                "filled_vi": list(self.filled_vi)}


def trimfill(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray,
    *,
    method: str = "FE",
    side: str | None = None,
    estimator: str = "L0",
    level: float = 0.95,
    min_k: int = 10,
    measure: str = "GEN",
    labels: Sequence[str] | None = None,
) -> TrimFillResult:
    """Trim-and-fill for funnel-plot asymmetry (Duval & Tweedie 2000; metafor ``trimfill``).

    ``side`` defaults to the side opposite the sign of the slope of yi on sqrt(vi) (metafor);
    ``estimator``: "L0" (default) or "R0".
    """
    method = method.upper()
    y, v = _as_arrays(yi, vi, labels)
    k = y.size
    _min_k(k, max(min_k, 3), "trim-and-fill")
    if estimator not in ("L0", "R0"):
        raise StatsError(f"trim-and-fill estimator must be L0 or R0, not {estimator!r}")
    if side is None:
        # metafor: regress yi on sqrt(vi) with the same model; negative slope -> right side
        slope = metareg(y, v, np.sqrt(v), method=method).slope if np.ptp(v) > 0 else 0.0
        side = "right" if slope < 0 else "left"
    if side not in ("left", "right"):
        raise StatsError(f"side must be 'left' or 'right', not {side!r}")
    ys = -y if side == "right" else y.copy()
    ix = np.argsort(ys, kind="stable")
    ys, vs = ys[ix], v[ix]
    k0, k0_prev, b = 0, -1, 0.0
    it = 0
    while k0 != k0_prev:
        k0_prev = k0
        it += 1
        if it > 100:
            raise StatsError("trim-and-fill did not converge")
        b = rma(ys[: k - k0], vs[: k - k0], method=method, tau2_ci=False,
                allow_single=True).estimate
        yc = ys - b
        # ranks of |yi - b|, ties by position (R's rank(ties.method = "first"))
        ranks = np.empty(k)
        ranks[np.argsort(np.abs(yc), kind="stable")] = np.arange(1, k + 1)
        if estimator == "L0":
            sr = ranks[yc > 0].sum()
            k0_raw = (4 * sr - k * (k + 1)) / (2 * k - 1)
        else:
            neg = ranks[yc < 0]
            k0_raw = (k - (neg.max() if neg.size else 0)) - 1
        k0 = int(max(0, round(k0_raw)))
    if k0 > 0:
        fill = 2 * b - ys[k - k0:]
        fy = -fill if side == "right" else fill
        fv = vs[k - k0:]
        res = rma(np.concatenate([y, fy]), np.concatenate([v, fv]), method=method, level=level,
                  measure=measure, tau2_ci=False)
    else:
        fy, fv = np.empty(0), np.empty(0)
        res = rma(y, v, method=method, level=level, measure=measure, tau2_ci=False)
    return TrimFillResult(k0, side, res.estimate, res.se, res.ci_lb, res.ci_ub,
                          tuple(fy.tolist()), tuple(fv.tolist()), res)
