"""Per-study effect sizes (``escalc``): MD, SMD (metafor and RevMan 5 forms), OR, RR, RD, GEN.

Definitions follow R's metafor 3.8 ``escalc`` (Viechtbauer 2010, J Stat Softw 36(3)) unless the
measure is RevMan's, which follows the Review Manager 5 statistical algorithms (Deeks &
Higgins 2010, "Statistical algorithms in Review Manager 5").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy.special import gammaln

from registry.errors import StatsError

Measure = Literal["MD", "SMD", "SMD_REVMAN5", "OR", "RR", "RD", "GEN"]
MEASURES: tuple[str, ...] = ("MD", "SMD", "SMD_REVMAN5", "OR", "RR", "RD", "GEN")
CONTINUOUS = frozenset({"MD", "SMD", "SMD_REVMAN5"})
DICHOTOMOUS = frozenset({"OR", "RR", "RD"})
RATIO = frozenset({"OR", "RR"})  # pooled on the log scale


@dataclass(frozen=True)
class EffectSizes:
    """Per-study effect sizes ``yi`` and sampling variances ``vi``.

    Studies that could not be computed (missing input, or double-zero studies dropped by
    ``drop00=True``) have ``nan`` in ``yi``/``vi`` and their index in ``dropped``; ``notes`` says
    which correction was applied to which study and why a study was dropped.
    """

    yi: np.ndarray
    vi: np.ndarray
    measure: str
    notes: tuple[str, ...] = ()
    dropped: tuple[int, ...] = ()
    labels: tuple[str, ...] = field(default=())

    @property
    def k(self) -> int:
        """Number of studies with a usable effect size."""
        return int(np.sum(~np.isnan(self.yi)))


def _arr(x: Sequence[float] | np.ndarray | None, name: str, k: int | None = None) -> np.ndarray:
    if x is None:
        raise StatsError(f"escalc: argument {name!r} is required for this measure")
    a = np.asarray(
        [np.nan if v is None else v for v in x] if not isinstance(x, np.ndarray) else x,
        dtype=float,
    ).ravel()
    if k is not None and a.shape[0] != k:
        raise StatsError(f"escalc: {name!r} has {a.shape[0]} values, expected {k}")
    return a


def _label(labels: tuple[str, ...], i: int) -> str:
    return f"study {labels[i]!r}" if labels else f"study {i + 1}"


def study_label(labels: Sequence[str] | None, i: int) -> str:
    """How an error message names study ``i`` (0-based): 'study 3 (Suk2016)'."""
    return _label(tuple(labels) if labels is not None else (), i)


def _check_missing(
    cols: dict[str, np.ndarray], labels: tuple[str, ...]
) -> tuple[np.ndarray, list[str]]:
    miss = np.zeros(len(next(iter(cols.values()))), dtype=bool)
    for a in cols.values():
        miss |= np.isnan(a)
    notes = [
        f"{_label(labels, int(i))}: missing "
        f"{', '.join(n for n, a in cols.items() if np.isnan(a[i]))}; no effect size"
        for i in np.flatnonzero(miss)
    ]
    return miss, notes


def escalc(
    measure: str,
    *,
    n1: Sequence[float] | np.ndarray | None = None,
    mean1: Sequence[float] | np.ndarray | None = None,
    sd1: Sequence[float] | np.ndarray | None = None,
    n2: Sequence[float] | np.ndarray | None = None,
    mean2: Sequence[float] | np.ndarray | None = None,
    sd2: Sequence[float] | np.ndarray | None = None,
    events1: Sequence[float] | np.ndarray | None = None,
    events2: Sequence[float] | np.ndarray | None = None,
    yi: Sequence[float] | np.ndarray | None = None,
    vi: Sequence[float] | np.ndarray | None = None,
    add: float = 0.5,
    to: Literal["only0", "all", "none"] = "only0",
    drop00: bool = False,
    labels: Sequence[str] | None = None,
) -> EffectSizes:
    """Effect sizes and variances per study, as metafor's ``escalc`` computes them.

    ``measure``: MD, SMD (metafor: exact Hedges correction, large-sample variance),
    SMD_REVMAN5 (Review Manager 5), OR / RR (log scale), RD, GEN (``yi`` and ``vi`` given).
    Zero cells (OR, RR, RD): ``add`` is added to every cell of studies with a zero cell
    (``to="only0"``, metafor's default), of all studies (``"all"``) or never (``"none"``);
    ``drop00=True`` excludes studies with no events in either arm (RevMan for OR/RR).
    Missing inputs give ``nan`` for that study and a note naming it.
    """
    measure = measure.upper()
    if measure not in MEASURES:
        raise StatsError(f"unknown effect measure {measure!r}; use one of {', '.join(MEASURES)}")
    labs = tuple(str(s) for s in labels) if labels is not None else ()
    if measure == "GEN":
        y = _arr(yi, "yi")
        v = _arr(vi, "vi", len(y))
        miss, notes = _check_missing({"yi": y, "vi": v}, labs)
        _check_positive(v, miss, "vi", labs)
        return EffectSizes(y.copy(), v.copy(), measure, tuple(notes), _idx(miss), labs)
    if measure in CONTINUOUS:
        a_n1 = _arr(n1, "n1")
        k = len(a_n1)
        cols = {"n1": a_n1, "mean1": _arr(mean1, "mean1", k), "sd1": _arr(sd1, "sd1", k),
                "n2": _arr(n2, "n2", k), "mean2": _arr(mean2, "mean2", k),
                "sd2": _arr(sd2, "sd2", k)}
        return _continuous(measure, cols, labs)
    e1 = _arr(events1, "events1")
    k = len(e1)
    cols = {"events1": e1, "n1": _arr(n1, "n1", k), "events2": _arr(events2, "events2", k),
            "n2": _arr(n2, "n2", k)}
    return _dichotomous(measure, cols, labs, add, to, drop00)


def _continuous(measure: str, cols: dict[str, np.ndarray],
                labs: tuple[str, ...]) -> EffectSizes:
    """MD, SMD (metafor) or SMD_REVMAN5 from arm means, SDs and sizes."""
    miss, notes = _check_missing(cols, labs)
    m1, s1, m2, s2 = cols["mean1"], cols["sd1"], cols["mean2"], cols["sd2"]
    nn1, nn2 = cols["n1"], cols["n2"]
    _check_positive(nn1, miss, "n1", labs)
    _check_positive(nn2, miss, "n2", labs)
    _check_nonneg(s1, miss, "sd1", labs)
    _check_nonneg(s2, miss, "sd2", labs)
    if measure != "MD":
        _check_smd_df(nn1, nn2, miss, labs)
    with np.errstate(all="ignore"):
        if measure == "MD":
            # metafor escalc "MD": yi = m1 - m2, vi = sd1^2/n1 + sd2^2/n2 (vtype "LS")
            y = m1 - m2
            v = s1**2 / nn1 + s2**2 / nn2
        else:
            y, v = _smd(measure, m1, s1, nn1, m2, s2, nn2, miss, labs)
    y[miss] = np.nan
    v[miss] = np.nan
    _check_positive(v, miss, "variance (vi)", labs)
    return EffectSizes(y, v, measure, tuple(notes), _idx(miss), labs)


def _smd(measure: str, m1: np.ndarray, s1: np.ndarray, nn1: np.ndarray, m2: np.ndarray,
         s2: np.ndarray, nn2: np.ndarray, miss: np.ndarray,
         labs: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Hedges' g and its variance, metafor's or Review Manager 5's form."""
    big_n = nn1 + nn2
    # pooled SD with n - 1 weights (Cohen's d denominator; Hedges & Olkin 1985)
    sp = np.sqrt(((nn1 - 1) * s1**2 + (nn2 - 1) * s2**2) / (big_n - 2))
    d = (m1 - m2) / sp
    if measure == "SMD":
        # exact correction c(m) = Γ(m/2) / (√(m/2) Γ((m-1)/2)), m = N - 2
        # (Hedges 1981; metafor's .cmicalc), via log-gamma so large N is safe
        mdf = big_n - 2
        cm = np.exp(gammaln(mdf / 2) - 0.5 * np.log(mdf / 2) - gammaln((mdf - 1) / 2))
        y = cm * d
        # metafor vtype "LS": vi = 1/n1 + 1/n2 + yi^2 / (2 (n1 + n2))
        v = 1 / nn1 + 1 / nn2 + y**2 / (2 * big_n)
    else:
        # RevMan 5 algorithms: g = d (1 - 3/(4N - 9)), var = N/(n1 n2) + g^2/(2(N-3.94))
        y = d * (1 - 3 / (4 * big_n - 9))
        v = big_n / (nn1 * nn2) + y**2 / (2 * (big_n - 3.94))
    for i in np.flatnonzero(~miss & ~(sp > 0)):
        raise StatsError(f"{_label(labs, int(i))}: pooled SD is 0, the standardised mean "
                         "difference is undefined")
    return y, v


def _dichotomous(measure: str, cols: dict[str, np.ndarray], labs: tuple[str, ...],
                 add: float, to: str, drop00: bool) -> EffectSizes:
    """OR, RR (log) or RD from a 2x2 table a | b (experimental events / non-events), c | d
    (control), with metafor's continuity correction and drop00."""
    k = cols["events1"].size
    miss, notes = _check_missing(cols, labs)
    a, c = cols["events1"], cols["events2"]
    nn1, nn2 = cols["n1"], cols["n2"]
    _check_table(a, nn1, c, nn2, miss, labs)
    b, d = nn1 - a, nn2 - c
    # metafor's drop00: no events in both arms, or only events in both arms
    both0 = ~miss & (((a == 0) & (c == 0)) | ((b == 0) & (d == 0)))
    dropped = miss.copy()
    if drop00:
        for i in np.flatnonzero(both0):
            notes.append(f"{_label(labs, int(i))}: no events (or only events) in both arms; "
                         "excluded (drop00)")
        dropped |= both0
    a, b, c, d = (x.astype(float).copy() for x in (a, b, c, d))
    if to == "all":
        corr = ~dropped
    elif to == "only0":
        corr = ~dropped & ((a == 0) | (b == 0) | (c == 0) | (d == 0))
    elif to == "none":
        corr = np.zeros(k, dtype=bool)
    else:
        raise StatsError(f"escalc: to must be 'only0', 'all' or 'none', not {to!r}")
    if add > 0:
        for i in np.flatnonzero(corr):
            notes.append(f"{_label(labs, int(i))}: {add:g} added to each cell (zero cell)")
        a[corr] += add
        b[corr] += add
        c[corr] += add
        d[corr] += add
    y, v = two_by_two(measure, a, b, c, d)
    y[dropped] = np.nan
    v[dropped] = np.nan
    bad = ~dropped & ~(np.isfinite(y) & np.isfinite(v))
    for i in np.flatnonzero(bad):
        raise StatsError(
            f"{_label(labs, int(i))}: a zero cell makes the {measure} undefined and no continuity "
            "correction was applied (add=0 or to='none')"
        )
    _check_positive(v, dropped, "variance (vi)", labs)
    return EffectSizes(y, v, measure, tuple(notes), _idx(dropped), labs)


def two_by_two(
    measure: str, a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """yi, vi of OR (log), RR (log) or RD from (already corrected) 2x2 cells a|b, c|d."""
    with np.errstate(all="ignore"):
        return two_by_two_positive(measure, a, b, c, d)


def two_by_two_positive(
    measure: str, a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`two_by_two` for cells known to be > 0 (no floating-point guard: MH's Q path)."""
    t1, t2 = a + b, c + d
    if measure == "OR":
        # log odds ratio, Woolf variance (metafor escalc "OR")
        return np.log(a * d / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d
    if measure == "RR":
        # log risk ratio, delta-method variance (metafor escalc "RR")
        return np.log((a / t1) / (c / t2)), 1 / a - 1 / t1 + 1 / c - 1 / t2
    # risk difference, unpooled binomial variance (metafor escalc "RD", vtype "LS")
    p1, p2 = a / t1, c / t2
    return p1 - p2, p1 * (1 - p1) / t1 + p2 * (1 - p2) / t2


def _idx(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.flatnonzero(mask))


def _check_positive(x: np.ndarray, skip: np.ndarray, name: str, labs: tuple[str, ...]) -> None:
    for i in np.flatnonzero(~skip & ~(x > 0)):
        raise StatsError(f"{_label(labs, int(i))}: {name} must be > 0, got {x[i]:g}")


def _check_nonneg(x: np.ndarray, skip: np.ndarray, name: str, labs: tuple[str, ...]) -> None:
    for i in np.flatnonzero(~skip & ~(x >= 0)):
        raise StatsError(f"{_label(labs, int(i))}: {name} must be >= 0, got {x[i]:g}")


def _check_smd_df(n1: np.ndarray, n2: np.ndarray, skip: np.ndarray,
                  labs: tuple[str, ...]) -> None:
    """The pooled SD has n1 + n2 - 2 degrees of freedom: none with one participant per arm."""
    for i in np.flatnonzero(~skip & (n1 + n2 - 2 < 1)):
        raise StatsError(
            f"{_label(labs, int(i))}: n1 = {n1[i]:g} and n2 = {n2[i]:g} leave no degrees of "
            "freedom for the pooled SD (n1 + n2 - 2 = 0; needs n1 + n2 >= 3), so the "
            "standardised mean difference is undefined"
        )


def _check_table(
    a: np.ndarray, n1: np.ndarray, c: np.ndarray, n2: np.ndarray, skip: np.ndarray,
    labs: tuple[str, ...],
) -> None:
    for name, ev, tot in (("1", a, n1), ("2", c, n2)):
        for i in np.flatnonzero(~skip & ~((ev >= 0) & (tot > 0) & (ev <= tot))):
            raise StatsError(
                f"{_label(labs, int(i))}: events{name}={ev[i]:g} and n{name}={tot[i]:g} are not a "
                "valid count (need 0 <= events <= n, n > 0)"
            )
