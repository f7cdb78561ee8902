"""Analyses around a model: subgroups, leave-one-out, cumulative, Egger, trim-and-fill
(meta-regression on one moderator lives in ``metareg.py``).

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
from registry.pooling.metareg import metareg
from registry.pooling.models import (
    METHODS,
    MetaResult,
    _as_arrays,
    _fe_heterogeneity,
    rma,
    tau2_reml,
)
from registry.pooling.series import LooSums, loo_tau2

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

# Scalar fields of one fit, kept as one array each across the k refits of a sequential
# analysis (O(k) memory); a refit's weights are rebuilt only when its MetaResult is read.
_SEQ_FIELDS = ("estimate", "se", "stat", "pval", "ci_lb", "ci_ub", "tau2", "i2", "h2", "q",
               "q_pval", "k", "pi_lb", "pi_ub")
# Elements of one (fits x studies) block of a chunked computation: bounds its memory.
_BLOCK = 2_000_000


class _LazyFits(Sequence[MetaResult]):
    """The refits of a leave-one-out or cumulative analysis, built on access.

    Holding k MetaResults with k weights each would take k^2 memory; this keeps one array per
    scalar field and recomputes a refit's weights (1 / (vi + tau2) over its studies) when it
    is read.
    """

    def __init__(self, cols: dict[str, np.ndarray], v: np.ndarray,
                 members: Callable[[int], np.ndarray], method: str, test: str, measure: str,
                 level: float) -> None:
        self.cols, self._v, self._members = cols, v, members
        self._method, self._test, self._measure, self._level = method, test, measure, level

    def __len__(self) -> int:
        return int(self.cols["estimate"].size)

    def _key(self) -> tuple:
        return (self._method, self._test, self._measure, self._level,
                *(self.cols[n].tobytes() for n in _SEQ_FIELDS))

    def __eq__(self, other: object) -> bool:
        # value equality, as the tuple of MetaResults it stands for
        return isinstance(other, _LazyFits) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"_LazyFits({len(self)} fits, {self._method})"

    def __getitem__(self, i: int) -> MetaResult:  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]  # type: ignore[return-value]
        c = {name: self.cols[name][i] for name in _SEQ_FIELDS}
        k = int(c.pop("k"))
        w = 1.0 / (self._v[self._members(i)] + c["tau2"])
        return MetaResult(
            **{name: float(x) for name, x in c.items()}, df=k - 1, k=k,
            weights_percent=tuple((100.0 * w / w.sum()).tolist()),
            method="FE" if k == 1 else self._method, test=self._test, measure=self._measure,
            level=self._level,
        )


@dataclass(frozen=True)
class Sequential:
    """Leave-one-out or cumulative results, one entry per refit.

    ``order`` holds the 0-based study index left out (leave-one-out) or added last
    (cumulative) at each step. ``results`` is a sequence of MetaResult (built on access for
    the vectorised inverse-variance models, so k refits take O(k) memory).
    """

    kind: str
    order: tuple[int, ...]
    results: Sequence[MetaResult]

    def column(self, name: str) -> list[float]:
        """One field across steps, e.g. ``column("estimate")``."""
        if isinstance(self.results, _LazyFits) and name in _SEQ_FIELDS:
            return self.results.cols[name].tolist()
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


def _batched_fits(
    y: np.ndarray, v: np.ndarray, mask: Callable[[int, int], np.ndarray], n: int,
    method: str, hksj: bool, level: float,
) -> tuple[dict[str, np.ndarray], str]:
    """Fit ``n`` subsets with :func:`rma_batch`, a block of rows at a time.

    ``mask(start, stop)`` gives the (rows x k) membership of fits start..stop-1; memory is
    O(block), time O(n k) per iteration of the tau2 estimator.
    """
    step = max(1, _BLOCK // max(y.size, 1))
    parts: dict[str, list[np.ndarray]] = {name: [] for name in _SEQ_FIELDS}
    test = "z"
    for start in range(0, n, step):
        m = mask(start, min(n, start + step))
        b = _batch(np.where(m, y, np.nan), np.where(m, v, np.nan), method=method, hksj=hksj,
                   level=level)
        test = b.test
        for name in _SEQ_FIELDS:
            parts[name].append(getattr(b, name))
    return {name: np.concatenate(a) for name, a in parts.items()}, test


def _loo_closed_form(
    y: np.ndarray, v: np.ndarray, method: str, hksj: bool, level: float,
    labels: Sequence[str] | None,
) -> dict[str, np.ndarray]:
    """Leave-one-out refits from sums over all studies minus the left-out term.

    Cochran's Q, the DL tau2 (DerSimonian & Laird 1986) and the FE estimate of the k - 1
    others are sums minus one term. A random-effects refit's weights depend on its own tau2;
    its sums come from :class:`registry.pooling.series.LooSums` (a power series around the
    refits' common tau2), and REML and PM iterate all refits together on those sums
    (:func:`registry.pooling.series.loo_tau2`): O(k) time per iteration and O(k) memory.
    y is centred at the FE mean first so that no subtraction cancels.
    """
    k = y.size
    df = k - 2
    w0 = 1.0 / v
    yc = y - (w0 @ y) / w0.sum()
    sw0 = w0.sum() - w0
    s1 = w0 @ yc - w0 * yc
    s2 = w0 @ (yc * yc) - w0 * yc * yc
    ww0 = w0 @ w0 - w0 * w0
    q = np.maximum(s2 - s1 * s1 / sw0, 0.0)
    sums = LooSums(yc, v)
    tau2 = np.zeros(k)
    if method != "FE":
        tau2 = np.maximum(0.0, (q - df) / (sw0 - ww0 / sw0))
    if method in ("REML", "PM"):
        tau2 = loo_tau2(sums, method, tau2,
                        lambda i: tau2_reml(np.delete(y, i), np.delete(v, i)))
    sw, swy, swyy = sw0, s1, s2
    re = np.flatnonzero(tau2 > 0)
    if re.size:
        sw, swy, swyy = sw0.copy(), s1.copy(), s2.copy()
        at = sums.at(re, tau2[re])[:, 0, :]
        sw[re], swy[re], swyy[re] = at[:, 0], at[:, 1], at[:, 2]
    mu_c = swy / sw
    if hksj:
        s2h = (swyy - swy * mu_c) / df
        flat = ~(s2h > 0) | _flat_without(y)
        if flat.any():
            raise StatsError(f"leave-one-out without {study_label(labels, int(np.argmax(flat)))}"
                             ": all other studies have the same estimate, so the HKSJ variance "
                             "factor is 0 (use the Wald CI)")
        se = np.sqrt(s2h / sw)
        crit = float(stdtrit(df, 1 - (1 - level) / 2))
    else:
        se = np.sqrt(1.0 / sw)
        crit = float(ndtri(1 - (1 - level) / 2))
    mu = mu_c + (w0 @ y) / w0.sum()
    stat = mu / se
    pval = 2 * stdtr(df, -np.abs(stat)) if hksj else 2 * ndtr(-np.abs(stat))
    if method == "FE":
        i2 = np.where(q > 0, 100.0 * np.maximum(0.0, (q - df) / np.where(q > 0, q, 1.0)), 0.0)
        h2 = q / df
        half = crit * se
    else:
        # typical within-study variance (Higgins & Thompson 2002, eq. 9; metafor's vt)
        vt = df * sw0 / (sw0 * sw0 - ww0)
        i2 = 100.0 * tau2 / (vt + tau2)
        h2 = (vt + tau2) / vt
        half = crit * np.sqrt(se * se + tau2)
    return {"estimate": mu, "se": se, "stat": stat, "pval": pval, "ci_lb": mu - crit * se,
            "ci_ub": mu + crit * se, "tau2": tau2, "i2": i2, "h2": h2, "q": q,
            "q_pval": chdtrc(df, q), "k": np.full(k, k - 1), "pi_lb": mu - half,
            "pi_ub": mu + half}


def _flat_without(y: np.ndarray) -> np.ndarray:
    """For each study, whether all the other studies have the same estimate."""
    u, inv, counts = np.unique(y, return_inverse=True, return_counts=True)
    if u.size == 1:
        return np.ones(y.size, dtype=bool)
    if u.size == 2:
        return counts[inv] == 1
    return np.zeros(y.size, dtype=bool)


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
    """Refit without each study in turn, in input order (metafor ``leave1out``).

    Inverse-variance models (FE, DL, REML, PM) run in O(k) memory and, as the refits' tau2 lie
    close together, O(k) time per iteration: sums minus the left-out term, random-effects
    sums by a power series (:mod:`registry.pooling.series`). ``fit`` (MH, Peto) refits one
    subset at a time.
    """
    y, v = _as_arrays(yi, vi, labels)
    k = y.size
    if k < 2:
        raise StatsError("leave-one-out needs at least 2 studies")
    meth = method.upper()
    order = tuple(range(k))
    if fit is None and meth in METHODS and (not hksj or k > 2):
        def members(i: int) -> np.ndarray:
            return np.delete(np.arange(k), i)

        if k > 2:
            cols, test = _loo_closed_form(y, v, meth, hksj, level, labels), "t" if hksj else "z"
        else:
            def mask(start: int, stop: int) -> np.ndarray:
                return np.arange(k)[None, :] != np.arange(start, stop)[:, None]

            cols, test = _batched_fits(y, v, mask, k, meth, hksj, level)
        return Sequential("leave_one_out", order,
                          _LazyFits(cols, v, members, meth, test, measure, level))
    f = fit or _fitter(y, v, method, hksj, level, measure, labels)
    allidx = np.arange(k)
    return Sequential("leave_one_out", order, tuple(f(allidx[allidx != i]) for i in range(k)))


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
    Inverse-variance models run in blocks of steps: O(k) memory.
    """
    y, v = _as_arrays(yi, vi, labels)
    k = y.size
    perm = _cumulative_order(order, k, labels)
    steps = tuple(int(i) for i in perm)
    if fit is None and method.upper() in METHODS and not hksj:
        yp, vp = y[perm], v[perm]

        def mask(start: int, stop: int) -> np.ndarray:
            return np.arange(k)[None, :] <= np.arange(start, stop)[:, None]

        cols, test = _batched_fits(yp, vp, mask, k, method.upper(), False, level)
        return Sequential("cumulative", steps, _LazyFits(
            cols, vp, lambda j: np.arange(j + 1), method.upper(), test, measure, level))
    f = fit or _fitter(y, v, method, hksj, level, measure, labels)
    return Sequential("cumulative", steps, tuple(f(perm[: j + 1]) for j in range(k)))


def _cumulative_order(order: Sequence[float] | None, k: int,
                      labels: Sequence[str] | None) -> np.ndarray:
    """Indices by ascending ``order`` (stable), or input order without one."""
    if order is None:
        return np.arange(k)
    key = np.asarray(order, dtype=float)
    if key.size != k:
        raise StatsError(f"order has {key.size} values for {k} studies")
    if np.isnan(key).any():
        i = int(np.flatnonzero(np.isnan(key))[0])
        raise StatsError(f"{study_label(labels, i)}: no value to order the cumulative "
                         "analysis by")
    return np.argsort(key, kind="stable")


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
    k0, b = _trimfill_k0(ys, vs, method, estimator)
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


def _trimfill_k0(ys: np.ndarray, vs: np.ndarray, method: str,
                 estimator: str) -> tuple[int, float]:
    """Duval & Tweedie's iteration on sorted, side-flipped estimates: (k0, trimmed estimate)."""
    k = ys.size
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
    return k0, b
