"""Row-wise tau2 solvers: many REML or Paule-Mandel estimates iterated together.

The caller supplies the per-row quantity at a given tau2 (a REML step, or the generalised Q
and its derivative) for a set of rows; these functions own the iteration control, so that
:func:`registry.pooling.batch.rma_batch` (rows = separate meta-analyses) and leave-one-out
(rows = refits without one study, summed by :mod:`registry.pooling.series`) converge by the
same rules as the scalar solvers in :mod:`registry.pooling.models`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from registry.errors import StatsError

TOL = 1e-15
MAXITER = 500
_BRACKETED_STEPS = 40

# steps(rows, t) -> the REML step (sign of the score) of each row in ``rows`` at tau2 = t
RemlSteps = Callable[[np.ndarray, np.ndarray], np.ndarray]
# qgen(rows, t) -> (Q_gen, dQ_gen/dtau2) of each row in ``rows`` at tau2 = t
QGen = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def reml_rows(steps: RemlSteps, start: np.ndarray,
              fallback: Callable[[int], float]) -> np.ndarray:
    """Row-wise REML with the algorithm of models.tau2_reml (bracketed Newton/Fisher steps).

    Each iteration only evaluates the rows that have not converged yet; rows still oscillating
    after 40 steps are finished by ``fallback(row)``, the scalar solver (which switches to
    Brent's method).
    """
    t = start.astype(float)
    s0 = steps(np.arange(t.size), np.zeros_like(t))
    at_bound = (t == 0) & (s0 <= 0)
    idx = np.flatnonzero(~at_bound)
    lo = np.zeros(idx.size)
    hi = np.full(idx.size, np.inf)
    prev = np.full(idx.size, np.inf)
    for _ in range(_BRACKETED_STEPS):
        if idx.size == 0:
            return t
        ti = t[idx]
        s0i = s0[idx]
        pos = ti > 0
        adj = s0i.copy()
        if pos.any():
            adj[pos] = steps(idx[pos], ti[pos])
        lo = np.where(adj > 0, np.maximum(lo, ti), lo)
        hi = np.where(adj < 0, np.minimum(hi, ti), hi)
        t_new = ti + adj
        to0 = (t_new < 0) & (s0i <= 0)
        inside = (lo < t_new) & (t_new < hi)
        a = np.abs(adj)
        # as models._converged: tiny relative step, or stalled at rounding level
        done = (adj == 0) | to0 | (inside & (
            (a <= 1e-14 * t_new) | (a < 1e-300) | ((a <= 1e-10 * t_new) & (a >= 0.5 * prev))))
        bis = ~inside & ~to0
        with np.errstate(invalid="ignore"):
            t_new = np.where(bis, 0.5 * (lo + hi), t_new)
            done |= bis & (hi - lo <= 1e-14 * hi)
        t_new = np.where(to0, 0.0, np.where(adj == 0, ti, t_new))
        t[idx] = t_new
        prev = np.where(bis, np.inf, a)
        keep = ~done
        idx, lo, hi, prev = idx[keep], lo[keep], hi[keep], prev[keep]
    for i in idx:  # rare: oscillating rows
        t[i] = fallback(int(i))
    return t


def pm_rows(qgen: QGen, target: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    """Row-wise root of Q_gen(tau2) = target (Paule & Mandel 1982), by Newton's method.

    Q_gen is convex and decreasing in tau2, so Newton from below the root climbs to it
    monotonically, and from above it lands below the root in one step. Rows whose Q_gen(0) is
    not above the target have tau2 = 0. ``start`` (default 0) only saves iterations.
    """
    n = target.size
    rows = np.arange(n)
    t = np.zeros(n)
    q, dq = qgen(rows, t)
    active = q > target
    if start is not None and active.any():
        t = np.where(active, np.maximum(start, 0.0), 0.0)
        moved = np.flatnonzero(active & (t > 0))
        if moved.size:
            q[moved], dq[moved] = qgen(moved, t[moved])
    idx = np.flatnonzero(active)
    q, dq = q[idx], dq[idx]
    for _ in range(MAXITER):
        if idx.size == 0:
            return t
        step = (q - target[idx]) / -dq
        ti = np.maximum(t[idx] + step, 0.0)
        t[idx] = ti
        keep = ~(np.abs(step) <= TOL * ti)
        idx, ti = idx[keep], ti[keep]
        if idx.size:
            q, dq = qgen(idx, ti)
            # after a step every row is at or below its root: Q_gen <= target is the root
            below = q > target[idx]
            idx, q, dq = idx[below], q[below], dq[below]
    if idx.size == 0:
        return t
    raise StatsError("Paule-Mandel iteration did not converge")
