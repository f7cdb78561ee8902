"""Vectorised entry point: fit thousands of meta-analyses at once (a review's whole analysis
plan, simulation studies).

Each row of ``yi``/``vi`` is one meta-analysis; rows may have different numbers of studies
(pad with ``nan``). The formulas are those of :func:`registry.pooling.models.rma` applied
row-wise with NumPy broadcasting; REML and PM iterate all rows together until every row has
converged, so results equal the scalar path to rounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import chdtrc, ndtr, ndtri, stdtr, stdtrit

from registry.errors import StatsError
from registry.pooling.models import VI_MIN, MetaResult, tau2_reml
from registry.pooling.rowsolve import pm_rows, reml_rows


@dataclass(frozen=True)
class BatchResult:
    """Arrays with one entry per meta-analysis (same meaning as MetaResult's fields)."""

    estimate: np.ndarray
    se: np.ndarray
    stat: np.ndarray
    pval: np.ndarray
    ci_lb: np.ndarray
    ci_ub: np.ndarray
    tau2: np.ndarray
    i2: np.ndarray
    h2: np.ndarray
    q: np.ndarray
    q_pval: np.ndarray
    k: np.ndarray
    pi_lb: np.ndarray
    pi_ub: np.ndarray
    weights_percent: np.ndarray  # (analyses, max studies), nan where padded
    method: str
    test: str

    def __len__(self) -> int:
        return int(self.estimate.shape[0])

    def result(self, i: int, *, measure: str = "GEN", level: float = 0.95) -> MetaResult:
        """Row ``i`` as a :class:`~registry.pooling.models.MetaResult` (no tau2 CI)."""
        k = int(self.k[i])
        single = k == 1
        w = self.weights_percent[i]
        return MetaResult(
            estimate=float(self.estimate[i]), se=float(self.se[i]), stat=float(self.stat[i]),
            pval=float(self.pval[i]), ci_lb=float(self.ci_lb[i]), ci_ub=float(self.ci_ub[i]),
            tau2=float(self.tau2[i]), i2=float(self.i2[i]), h2=float(self.h2[i]),
            q=float(self.q[i]), q_pval=float(self.q_pval[i]), df=k - 1, k=k,
            pi_lb=float(self.pi_lb[i]), pi_ub=float(self.pi_ub[i]),
            weights_percent=tuple(w[~np.isnan(w)].tolist()),
            method="FE" if single else self.method, test=self.test, measure=measure,
            level=level,
        )


def _pad(rows: Sequence[Sequence[float]]) -> np.ndarray:
    kmax = max(len(r) for r in rows)
    out = np.full((len(rows), kmax), np.nan)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


def _as_2d(x: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
    if isinstance(x, np.ndarray):
        a = x.astype(float, copy=False)
    else:
        a = _pad(list(x))
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2:
        raise StatsError("rma_batch: yi and vi must be 2-D (analyses x studies)")
    return a


def _qgen(y: np.ndarray, v: np.ndarray, m: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, ...]:
    w = np.where(m, 1.0 / (v + t[:, None]), 0.0)
    sw = w.sum(1)
    mu = (w * y).sum(1) / sw
    r = y - mu[:, None]
    wr = w * r
    return (wr * r).sum(1), -(wr * wr).sum(1)


def _reml_steps(y: np.ndarray, v: np.ndarray, m: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Row-wise Newton step on the REML score, Fisher step where the observed information is
    not positive (as models._reml_newton_step); the sign is that of the score."""
    w = np.where(m, 1.0 / (v + t[:, None]), 0.0)
    sw = w.sum(1)
    mu = (w * y).sum(1) / sw
    a = w * (y - mu[:, None])
    w2 = (w * w).sum(1)
    tr_p = sw - w2 / sw
    tr_pp = w2 - 2.0 * (w * w * w).sum(1) / sw + (w2 / sw) ** 2
    b = w * a - w * ((w * a).sum(1) / sw)[:, None]
    num = (a * a).sum(1) - tr_p
    obs = 2.0 * (a * b).sum(1) - tr_pp
    return num / np.where(obs > 0, obs, tr_pp)


def rma_batch(
    yi: np.ndarray | Sequence[Sequence[float]],
    vi: np.ndarray | Sequence[Sequence[float]],
    *,
    method: str = "DL",
    hksj: bool = False,
    level: float = 0.95,
) -> BatchResult:
    """Fit one inverse-variance meta-analysis per row (FE, DL, REML or PM; optional HKSJ).

    ``yi``/``vi``: arrays of shape (analyses, max studies) with ``nan`` padding, or lists of
    per-analysis sequences. A row with one study gets tau2 = 0 (as metafor); HKSJ needs two.
    """
    method = method.upper()
    if method not in ("FE", "DL", "REML", "PM"):
        raise StatsError(f"rma_batch: unknown method {method!r}")
    y, v, m, k = _batch_inputs(yi, vi, hksj)
    df = k - 1
    w0 = np.where(m, 1.0 / v, 0.0)
    sw0 = w0.sum(1)
    mu0 = (w0 * y).sum(1) / sw0
    q = (w0 * (y - mu0[:, None]) ** 2).sum(1)
    c = sw0 - (w0 * w0).sum(1) / sw0
    multi = df > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        tau2 = _batch_tau2(method, y, v, m, q, df, c)
        w = np.where(m, 1.0 / (v + tau2[:, None]), 0.0)
        sw = w.sum(1)
        mu = (w * y).sum(1) / sw
        se, crit, stat, pval, test = _batch_tests(y, m, w, sw, mu, df, hksj, level)
        dfs = np.where(multi, df, 1)
        if method == "FE":
            i2 = np.where(multi & (q > 0), np.maximum(0.0, (q - df) / np.where(q > 0, q, 1)), 0.0)
            i2 = 100.0 * i2
            h2 = np.where(multi, q / dfs, 1.0)
            half = crit * se
        else:
            # Higgins & Thompson 2002 typical within-study variance (metafor vt)
            vt = np.where(multi, df * sw0 / np.where(multi, sw0**2 - (w0 * w0).sum(1), 1.0), 1.0)
            i2 = np.where(multi, 100.0 * tau2 / (vt + tau2), 0.0)
            h2 = np.where(multi, (vt + tau2) / vt, 1.0)
            half = crit * np.sqrt(se * se + tau2)
        q_pval = np.where(multi, chdtrc(dfs, q), 1.0)
        q = np.where(multi, q, 0.0)
    return BatchResult(
        estimate=mu, se=se, stat=stat, pval=pval, ci_lb=mu - crit * se, ci_ub=mu + crit * se,
        tau2=tau2, i2=i2, h2=h2, q=q, q_pval=q_pval, k=k, pi_lb=mu - half, pi_ub=mu + half,
        weights_percent=np.where(m, 100.0 * w / sw[:, None], np.nan), method=method, test=test,
    )


def _batch_inputs(
    yi: np.ndarray | Sequence[Sequence[float]], vi: np.ndarray | Sequence[Sequence[float]],
    hksj: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Checked 2-D arrays (padding replaced by harmless values), the mask and k per row."""
    y = _as_2d(yi)
    v = _as_2d(vi)
    if y.shape != v.shape:
        raise StatsError(f"rma_batch: yi {y.shape} and vi {v.shape} differ in shape")
    m = ~np.isnan(y)
    if (m != ~np.isnan(v)).any():
        r, c = np.argwhere(m != ~np.isnan(v))[0]
        raise StatsError(f"rma_batch: analysis {r + 1}, study {c + 1}: yi or vi is missing")
    bad = m & ~(v >= VI_MIN)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        what = "must be > 0" if not v[r, c] > 0 else f"is below {VI_MIN:g} (its weight overflows)"
        raise StatsError(f"rma_batch: analysis {r + 1}, study {c + 1}: vi {what}")
    k = m.sum(1)
    if (k == 0).any():
        raise StatsError(f"rma_batch: analysis {int(np.argmax(k == 0)) + 1} has no studies")
    if hksj and (k < 2).any():
        raise StatsError(f"rma_batch: analysis {int(np.argmax(k < 2)) + 1} has one study; "
                         "HKSJ needs at least 2")
    return np.where(m, y, 0.0), np.where(m, v, 1.0), m, k


def _batch_tau2(method: str, y: np.ndarray, v: np.ndarray, m: np.ndarray, q: np.ndarray,
                df: np.ndarray, c: np.ndarray) -> np.ndarray:
    """tau2 per row (0 for FE and single-study rows); DL also starts REML."""
    if method == "FE":
        return np.zeros(y.shape[0])
    multi = df > 0
    # DerSimonian & Laird 1986
    tau2 = np.where(multi, np.maximum(0.0, (q - df) / np.where(multi, c, 1.0)), 0.0)
    if method == "PM":
        tau2 = pm_rows(lambda r, t: _qgen(y[r], v[r], m[r], t), df.astype(float))
    elif method == "REML":
        tau2 = reml_rows(lambda r, t: _reml_steps(y[r], v[r], m[r], t), tau2,
                         lambda i: tau2_reml(y[i, m[i]], v[i, m[i]]))
    return np.where(multi, tau2, 0.0)


def _batch_tests(
    y: np.ndarray, m: np.ndarray, w: np.ndarray, sw: np.ndarray, mu: np.ndarray,
    df: np.ndarray, hksj: bool, level: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """(se, critical value, statistic, p-value, "z" | "t") per row: Wald or HKSJ."""
    alpha = 1.0 - level
    if hksj:
        s2 = (w * (y - mu[:, None]) ** 2).sum(1) / df
        spread = np.where(m, y, -np.inf).max(1) - np.where(m, y, np.inf).min(1)
        flat = ~(s2 > 0) | (spread == 0)
        if flat.any():
            raise StatsError(f"rma_batch: analysis {int(np.argmax(flat)) + 1}: all studies "
                             "have the same estimate, so the HKSJ variance factor is 0")
        se = np.sqrt(s2 / sw)
        crit = stdtrit(df, 1 - alpha / 2)
        stat = mu / se
        return se, crit, stat, 2 * stdtr(df, -np.abs(stat)), "t"
    se = np.sqrt(1.0 / sw)
    crit = np.full(y.shape[0], ndtri(1 - alpha / 2))
    stat = mu / se
    return se, crit, stat, 2 * ndtr(-np.abs(stat)), "z"
