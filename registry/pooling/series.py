"""Leave-one-out sums at each refit's own tau2, in O(k) time and memory for all k refits.

A refit without study i at heterogeneity t_i needs S[m, p] = sum_{j != i} yc_j^p / (v_j + t_i)^m
(m = 1 for the estimate and Q, up to 3 for the REML score and its derivative; p = 0, 1, 2).
Summing directly costs O(k) per refit, O(k^2) for all. The refits' t_i lie close together,
so each sum is a power series around a centre t0 (the median t_i): with s = min(v) + t0,
u_j = s / (v_j + t0) <= 1 and r = (t_i - t0) / s,

    1 / (v_j + t_i)^m = s^-m * sum_n C(n + m - 1, m - 1) (-r)^n u_j^(n + m),

which converges for |r u_j| < 1. The moments sum_j yc_j^p u_j^q are computed once per call
(O(k N)); a refit with |r| <= 0.1 then costs O(N), the truncation error after N = 24 terms
being below 1e-20 of the sum of |terms|. Refits further from the centre are summed directly,
a block at a time (O(k) each, memory O(block)); at tau2 = 0 the full sums are computed once.
The left-out study's own term is subtracted at the end.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import comb

from registry.pooling.rowsolve import pm_rows, reml_rows

_TERMS = 24
_NEAR = 0.1
# Elements of one (refits x studies) block summed directly: bounds its memory.
_BLOCK = 2_000_000


class LooSums:
    """Sums over all studies but one, for refits at their own tau2 (see the module doc).

    ``yc`` should be centred (e.g. at the fixed-effect mean) so that no later subtraction
    cancels.
    """

    def __init__(self, yc: np.ndarray, v: np.ndarray) -> None:
        self.yc, self.v = yc, v
        self.basis = np.column_stack([np.ones(yc.size), yc, yc * yc])
        self._at_zero: np.ndarray | None = None

    def at(self, rows: np.ndarray, t: np.ndarray, m_max: int = 1) -> np.ndarray:
        """S[row, m - 1, p] for the refits without study ``rows[i]`` at tau2 = ``t[i]``."""
        out = np.empty((rows.size, m_max, 3))
        zero = t == 0
        if zero.any():
            out[zero] = self._zero(m_max)[None, :, :]
        todo = np.flatnonzero(~zero)
        if todo.size:
            near = self._near(t[todo])
            if near is not None:
                hit, r, t0 = near
                out[todo[hit]] = self._series(r, t0, m_max)
                todo = todo[~hit]
            self._direct(t[todo], m_max, out, todo)
        own = 1.0 / (self.v[rows] + t)
        om = np.ones_like(own)
        for m in range(m_max):
            om = om * own
            out[:, m, :] -= om[:, None] * self.basis[rows]
        return out

    def _zero(self, m_max: int) -> np.ndarray:
        if self._at_zero is None or self._at_zero.shape[0] < m_max:
            w = 1.0 / self.v
            self._at_zero = np.stack([(w ** (m + 1)) @ self.basis for m in range(m_max)])
        return self._at_zero[:m_max]

    def _near(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, float] | None:
        # below ~100 studies summing directly is cheaper than setting up the series
        if self.v.size <= 4 * _TERMS:
            return None
        t0 = float(np.median(t))
        r = (t - t0) / (float(self.v.min()) + t0)
        hit = np.abs(r) <= _NEAR
        return (hit, r[hit], t0) if hit.any() else None

    def _series(self, r: np.ndarray, t0: float, m_max: int) -> np.ndarray:
        s = float(self.v.min()) + t0
        u = s / (self.v + t0)
        moments = np.empty((_TERMS + m_max, 3))  # row q - 1: sum_j basis_j u_j^q
        up = np.ones_like(u)
        for q in range(_TERMS + m_max):  # one power at a time: O(k) memory
            up = up * u
            moments[q] = up @ self.basis
        n = np.arange(_TERMS + 1)
        powers = (-r[:, None]) ** n[None, :]
        out = np.empty((r.size, m_max, 3))
        for m in range(1, m_max + 1):
            coef = comb(n + m - 1, m - 1)
            out[:, m - 1, :] = (powers * coef) @ moments[m - 1: m + _TERMS] / s ** m
        return out

    def _direct(self, t: np.ndarray, m_max: int, out: np.ndarray, at: np.ndarray) -> None:
        step = max(1, _BLOCK // self.v.size)
        for b in range(0, t.size, step):
            w = 1.0 / (self.v[None, :] + t[b: b + step, None])
            wm = np.ones_like(w)
            for m in range(m_max):
                wm = wm * w
                out[at[b: b + step], m, :] = wm @ self.basis


def _centred(s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """sum w, the weighted mean of yc and sum w (yc - mu)^2 from S[:, m, :] of one power m."""
    sw = s[:, 0]
    mu = s[:, 1] / sw
    return sw, mu, s[:, 2] - 2.0 * mu * s[:, 1] + mu * mu * sw


def _reml_steps(sums: np.ndarray) -> np.ndarray:
    """The REML Newton (else Fisher) step from S[:, m, p], m = 1..3; as models._reml_newton_step.

    With a = w (y - mu): a'a = S2 weighted residual square, sum(w a^2) = S3's, and
    sum(w a) = S2[p=1] - mu S2[p=0] (Viechtbauer 2005, eqs. 8-9).
    """
    sw, mu, _ = _centred(sums[:, 0, :])
    s2 = sums[:, 1, :]
    aa = s2[:, 2] - 2.0 * mu * s2[:, 1] + mu * mu * s2[:, 0]
    w2 = s2[:, 0]
    s3 = sums[:, 2, :]
    waa = s3[:, 2] - 2.0 * mu * s3[:, 1] + mu * mu * s3[:, 0]
    wa = s2[:, 1] - mu * w2
    tr_p = sw - w2 / sw
    tr_pp = w2 - 2.0 * s3[:, 0] / sw + (w2 / sw) ** 2
    num = aa - tr_p
    obs = 2.0 * (waa - wa * wa / sw) - tr_pp
    return num / np.where(obs > 0, obs, tr_pp)


def loo_tau2(sums: LooSums, method: str, start: np.ndarray,
             fallback: Callable[[int], float]) -> np.ndarray:
    """tau2 of every leave-one-out refit by REML or Paule-Mandel, in O(k) per iteration.

    ``start`` is a first guess per refit (e.g. the leave-one-out DL tau2); ``fallback(i)`` is
    the scalar REML solver for refit i, used only for rows that oscillate.
    """
    k = start.size
    if method == "REML":
        return reml_rows(lambda r, t: _reml_steps(sums.at(r, t, 3)), start, fallback)

    def qgen(r: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = sums.at(r, t, 2)
        _, mu, q = _centred(s[:, 0, :])
        # d/dtau2 sum w (y - mu)^2 = -sum w^2 (y - mu)^2 (mu's own derivative term is 0)
        s2 = s[:, 1, :]
        return q, -(s2[:, 2] - 2.0 * mu * s2[:, 1] + mu * mu * s2[:, 0])

    # Paule & Mandel 1982: Q_gen of the k - 1 others equals k - 2
    return pm_rows(qgen, np.full(k, k - 2.0), start)
