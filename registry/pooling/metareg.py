"""Meta-regression on one moderator (metafor 3.8 ``rma.uni`` with ``mods``).

Split from ``around.py`` (analyses around a model) to keep each module to one subject.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import chdtrc, fdtrc, ndtr, ndtri, stdtr, stdtrit

from registry.errors import StatsError
from registry.pooling.effects import study_label
from registry.pooling.models import (
    METHODS,
    _as_arrays,
    _fe_heterogeneity,
    fisher_scoring,
    tau2_estimate,
)


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
    qe, qe_p, i2, r2 = _metareg_heterogeneity(x, y, v, tau2, method)
    qm = float(stat[1] ** 2)
    # omnibus test of the slope: F(1, k - p) under HKSJ, else chi2(1)
    qm_p = float(fdtrc(1, k - p, qm)) if hksj else float(chdtrc(1, qm))
    return MetaRegression(
        intercept=float(b[0]), slope=float(b[1]), se_intercept=float(se[0]),
        se_slope=float(se[1]), stat_intercept=float(stat[0]), stat_slope=float(stat[1]),
        pval_intercept=float(pv[0]), pval_slope=float(pv[1]),
        ci_slope=(float(b[1] - crit * se[1]), float(b[1] + crit * se[1])), tau2=float(tau2),
        i2=float(i2), r2=r2, qe=qe, qe_pval=qe_p, qm=qm, qm_pval=qm_p, k=k, method=method,
        test=test,
    )


def _metareg_heterogeneity(
    x: np.ndarray, y: np.ndarray, v: np.ndarray, tau2: float, method: str,
) -> tuple[float, float, float, float | None]:
    """Residual QE and its p-value, residual I2 and pseudo-R2 of a meta-regression."""
    k, p = x.shape
    w0 = 1.0 / v
    _b0, inv0, r0 = _wls(x, y, w0)
    qe = float((w0 * r0) @ r0)
    # residual I2 with the typical within-study variance (k - p)/tr(P) (metafor)
    xtw0 = x.T * w0
    tr_p0 = w0.sum() - np.trace(inv0 @ (xtw0 * w0) @ x)
    vt = (k - p) / tr_p0
    i2 = 100.0 * tau2 / (vt + tau2) if method != "FE" else _fe_heterogeneity(qe, k - p)[0]
    r2: float | None = None
    if method != "FE":
        t0 = tau2_estimate(y, v, method)
        # pseudo-R2 (Raudenbush 2009): proportional reduction in tau2, truncated at 0
        r2 = max(0.0, 100.0 * (t0 - tau2) / t0) if t0 > 0 else 0.0
    return qe, float(chdtrc(k - p, qe)), float(i2), r2


# ----------------------------------------------------------------------------- trim and fill
