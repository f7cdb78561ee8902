"""Conversions curators need before pooling. Each returns the numbers and how they were derived.

The ``derivation`` text is meant to be stored with the derived value (the registry's
``derivation`` column), so a reader can redo the arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.special import ndtri, stdtrit

from registry.errors import StatsError


@dataclass(frozen=True)
class Derived:
    """Derived numbers (``values``) with the method, its source and the worked derivation."""

    values: dict[str, float]
    method: str
    source: str
    derivation: str

    def __getitem__(self, key: str) -> float:
        return self.values[key]


def _g(x: float) -> str:
    return f"{x:.6g}"


def _pos(name: str, x: float | None) -> float:
    if x is None or not math.isfinite(x) or x <= 0:
        raise StatsError(f"{name} must be a positive number, got {x!r}")
    return float(x)


def _num(name: str, x: float | None) -> float:
    if x is None or not math.isfinite(x):
        raise StatsError(f"{name} must be a number, got {x!r}")
    return float(x)


# ----------------------------------------------------------------------------- SE / CI -> SD


def sd_from_se(se: float, n: float) -> Derived:
    """SD of a group from the standard error of its mean: SD = SE * sqrt(n)."""
    se, n = _pos("se", se), _pos("n", n)
    sd = se * math.sqrt(n)  # Cochrane Handbook 6.5.2.2
    return Derived({"sd": sd}, "sd_from_se", "Cochrane Handbook v6.5, section 6.5.2.2",
                   f"SD = SE x sqrt(n) = {_g(se)} x sqrt({_g(n)}) = {_g(sd)}")


def sd_from_ci(lower: float, upper: float, n: float, level: float = 0.95,
               dist: str = "auto") -> Derived:
    """Mean and SD of a group from a CI for its mean (Handbook 6.5.2.2).

    SD = sqrt(n) (upper - lower) / (2 c), c the t quantile with n - 1 df (``dist="t"``) or the
    normal quantile (``"z"``); ``"auto"`` uses t below n = 60 as the Handbook suggests.
    """
    lower, upper, n = _num("lower", lower), _num("upper", upper), _pos("n", n)
    if upper <= lower:
        raise StatsError(f"CI upper limit {upper} must exceed the lower limit {lower}")
    use_t = dist == "t" or (dist == "auto" and n < 60)
    p = 1 - (1 - level) / 2
    crit = float(stdtrit(n - 1, p)) if use_t else float(ndtri(p))
    sd = math.sqrt(n) * (upper - lower) / (2 * crit)  # Cochrane Handbook 6.5.2.2
    mean = (upper + lower) / 2
    q = f"t({_g(n - 1)} df)" if use_t else "z"
    return Derived({"mean": mean, "sd": sd}, "sd_from_ci", "Cochrane Handbook v6.5, 6.5.2.2",
                   f"SD = sqrt(n) x (upper - lower) / (2 x {q}_{p:g}) = sqrt({_g(n)}) x "
                   f"({_g(upper)} - {_g(lower)}) / (2 x {crit:.6f}) = {_g(sd)}; "
                   f"mean = midpoint = {_g(mean)}")


def se_from_ci(lower: float, upper: float, level: float = 0.95, log: bool = False) -> Derived:
    """Estimate and SE for generic inverse variance from a CI (Handbook 6.3.1).

    ``log=True`` for ratio measures: the CI is logged first and the estimate is the log of the
    geometric midpoint.
    """
    lower, upper = _num("lower", lower), _num("upper", upper)
    if log:
        if lower <= 0 or upper <= 0:
            raise StatsError("a ratio CI must be positive to be logged")
        lo, hi = math.log(lower), math.log(upper)
    else:
        lo, hi = lower, upper
    if hi <= lo:
        raise StatsError(f"CI upper limit {upper} must exceed the lower limit {lower}")
    z = float(ndtri(1 - (1 - level) / 2))
    se = (hi - lo) / (2 * z)  # Cochrane Handbook 6.3.1
    scale = "log " if log else ""
    return Derived({"yi": (lo + hi) / 2, "sei": se, "vi": se * se}, "se_from_ci",
                   "Cochrane Handbook v6.5, 6.3.1",
                   f"SE = ({scale}upper - {scale}lower) / (2 x {z:.6f}) = ({_g(hi)} - {_g(lo)})"
                   f" / {2 * z:.6f} = {_g(se)}")


# ----------------------------------------------------------------------------- median -> mean/SD


def _xi(n: float) -> float:
    # expected range of n standard normals (Wan et al. 2014, approximation for scenario C1)
    return 2 * float(ndtri((n - 0.375) / (n + 0.25)))


def _eta(n: float) -> float:
    # expected IQR of n standard normals (Wan et al. 2014, approximation for scenario C3)
    return 2 * float(ndtri((0.75 * n - 0.125) / (n + 0.25)))


def mean_sd_from_median(
    n: float,
    median: float,
    *,
    q1: float | None = None,
    q3: float | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    mean_method: str = "luo",
    sd_method: str = "shi",
) -> Derived:
    """Mean and SD from the median with the IQR and/or range (normal data assumed).

    Scenarios: S1 = {min, median, max}, S2 = {min, q1, median, q3, max}, S3 = {q1, median, q3}.
    Mean: Luo et al. 2018 (default) or Wan et al. 2014. SD: Wan et al. 2014 for S1 and S3;
    for S2 Shi et al. 2020 (default, ``sd_method="shi"``) or Wan et al. 2014.
    """
    n, m = _pos("n", n), _num("median", median)
    has_iqr = q1 is not None and q3 is not None
    has_range = minimum is not None and maximum is not None
    if not has_iqr and not has_range:
        raise StatsError("the median needs the IQR (q1, q3) and/or the range (min, max)")
    mean_method, sd_method = mean_method.lower(), sd_method.lower()
    if mean_method not in ("luo", "wan") or sd_method not in ("shi", "wan"):
        raise StatsError("mean_method must be 'luo' or 'wan'; sd_method 'shi' or 'wan'")
    steps: list[str] = []
    if has_iqr and has_range:
        scen, mean, sd = _median_s2(n, m, minimum, maximum, q1, q3, mean_method, sd_method,
                                    steps)
    elif has_range:
        scen, mean, sd = _median_s1(n, m, minimum, maximum, mean_method, steps)
    else:
        scen, mean, sd = _median_s3(n, m, q1, q3, mean_method, steps)
    src = ("Wan X et al. BMC Med Res Methodol 2014;14:135; Luo D et al. Stat Methods Med Res "
           "2018;27:1785-805; Shi J et al. Res Synth Methods 2020;11:641-54")
    return Derived({"mean": mean, "sd": sd}, f"median_{mean_method}_{sd_method}", src,
                   f"{scen}, n = {_g(n)}: " + "; ".join(steps))


def _median_s2(n: float, m: float, minimum: float | None, maximum: float | None,
               q1: float | None, q3: float | None, mean_method: str, sd_method: str,
               steps: list[str]) -> tuple[str, float, float]:
    """Scenario S2 (min, q1, median, q3, max): (scenario, mean, SD), steps appended."""
    a, b, lo, hi = _num("min", minimum), _num("max", maximum), _num("q1", q1), _num("q3", q3)
    if not a <= lo <= m <= hi <= b:
        raise StatsError("need min <= q1 <= median <= q3 <= max")
    scen = "S2 (min, q1, median, q3, max)"
    if mean_method == "luo":
        # Luo et al. 2018, eq. (15)
        w1 = 2.2 / (2.2 + n**0.75)
        w2 = 0.7 - 0.72 / n**0.55
        mean = w1 * (a + b) / 2 + w2 * (lo + hi) / 2 + (1 - w1 - w2) * m
        steps.append(f"mean (Luo 2018 eq. 15) = w1 (min+max)/2 + w2 (q1+q3)/2 + "
                     f"(1-w1-w2) median, w1 = 2.2/(2.2+n^0.75) = {w1:.6f}, "
                     f"w2 = 0.7-0.72/n^0.55 = {w2:.6f} -> {_g(mean)}")
    else:
        mean = (a + 2 * lo + 2 * m + 2 * hi + b) / 8  # Wan et al. 2014, eq. (10)
        steps.append(f"mean (Wan 2014 eq. 10) = (min + 2 q1 + 2 median + 2 q3 + max)/8 = "
                     f"{_g(mean)}")
    xi, eta = _xi(n), _eta(n)
    if sd_method == "shi":
        # Shi et al. 2020, eq. (11)
        w = 1 / (1 + 0.07 * n**0.6)
        sd = w * (b - a) / xi + (1 - w) * (hi - lo) / eta
        steps.append(f"SD (Shi 2020 eq. 11) = w (max-min)/xi + (1-w)(q3-q1)/eta, "
                     f"w = 1/(1+0.07 n^0.6) = {w:.6f}, xi = {xi:.6f}, eta = {eta:.6f} "
                     f"-> {_g(sd)}")
    else:
        sd = 0.5 * ((b - a) / xi + (hi - lo) / eta)  # Wan et al. 2014, eqs. (12)-(13)
        steps.append(f"SD (Wan 2014 eqs. 12-13) = ((max-min)/xi + (q3-q1)/eta)/2, "
                     f"xi = {xi:.6f}, eta = {eta:.6f} -> {_g(sd)}")
    return scen, mean, sd


def _median_s1(n: float, m: float, minimum: float | None, maximum: float | None,
               mean_method: str, steps: list[str]) -> tuple[str, float, float]:
    """Scenario S1 (min, median, max): (scenario, mean, SD), steps appended."""
    a, b = _num("min", minimum), _num("max", maximum)
    if not a <= m <= b:
        raise StatsError("need min <= median <= max")
    scen = "S1 (min, median, max)"
    if mean_method == "luo":
        w = 4 / (4 + n**0.75)  # Luo et al. 2018, scenario C1
        mean = w * (a + b) / 2 + (1 - w) * m
        steps.append(f"mean (Luo 2018, C1) = w (min+max)/2 + (1-w) median, "
                     f"w = 4/(4+n^0.75) = {w:.6f} -> {_g(mean)}")
    else:
        mean = (a + 2 * m + b) / 4  # Wan et al. 2014, C1 (Hozo et al. 2005)
        steps.append(f"mean (Wan 2014, C1) = (min + 2 median + max)/4 = {_g(mean)}")
    xi = _xi(n)
    sd = (b - a) / xi  # Wan et al. 2014, scenario C1
    steps.append(f"SD (Wan 2014, C1) = (max-min)/xi, xi = 2 Phi^-1((n-0.375)/(n+0.25)) "
                 f"= {xi:.6f} -> {_g(sd)}")
    return scen, mean, sd


def _median_s3(n: float, m: float, q1: float | None, q3: float | None, mean_method: str,
               steps: list[str]) -> tuple[str, float, float]:
    """Scenario S3 (q1, median, q3): (scenario, mean, SD), steps appended."""
    lo, hi = _num("q1", q1), _num("q3", q3)
    if not lo <= m <= hi:
        raise StatsError("need q1 <= median <= q3")
    scen = "S3 (q1, median, q3)"
    if mean_method == "luo":
        w = 0.7 + 0.39 / n  # Luo et al. 2018, scenario C3
        mean = w * (lo + hi) / 2 + (1 - w) * m
        steps.append(f"mean (Luo 2018, C3) = w (q1+q3)/2 + (1-w) median, "
                     f"w = 0.7+0.39/n = {w:.6f} -> {_g(mean)}")
    else:
        mean = (lo + m + hi) / 3  # Wan et al. 2014, scenario C3
        steps.append(f"mean (Wan 2014, C3) = (q1 + median + q3)/3 = {_g(mean)}")
    eta = _eta(n)
    sd = (hi - lo) / eta  # Wan et al. 2014, scenario C3
    steps.append(f"SD (Wan 2014, C3) = (q3-q1)/eta, eta = 2 Phi^-1((0.75n-0.125)/"
                 f"(n+0.25)) = {eta:.6f} -> {_g(sd)}")
    return scen, mean, sd


# ----------------------------------------------------------------------------- change scores


def change_sd(sd_baseline: float, sd_final: float, corr: float) -> Derived:
    """SD of the change from baseline with an assumed baseline-final correlation.

    SD_change = sqrt(SD_b^2 + SD_f^2 - 2 r SD_b SD_f) (Cochrane Handbook 6.5.2.8).
    """
    sb, sf = _pos("sd_baseline", sd_baseline), _pos("sd_final", sd_final)
    r = _num("corr", corr)
    if not -1 <= r <= 1:
        raise StatsError(f"the correlation must be in [-1, 1], got {r}")
    sd = math.sqrt(sb * sb + sf * sf - 2 * r * sb * sf)
    return Derived({"sd": sd}, "change_sd", "Cochrane Handbook v6.5, 6.5.2.8",
                   f"SD_change = sqrt({_g(sb)}^2 + {_g(sf)}^2 - 2 x {_g(r)} x {_g(sb)} x "
                   f"{_g(sf)}) = {_g(sd)} (assumed correlation {_g(r)})")


def correlation_from_sds(sd_baseline: float, sd_final: float, sd_change: float) -> Derived:
    """The baseline-final correlation implied by a study reporting all three SDs (Handbook
    6.5.2.8), to impute the correlation for studies that do not."""
    sb, sf, sc = (_pos(n, x) for n, x in (("sd_baseline", sd_baseline),
                                           ("sd_final", sd_final), ("sd_change", sd_change)))
    r = (sb * sb + sf * sf - sc * sc) / (2 * sb * sf)
    return Derived({"corr": r}, "correlation_from_sds", "Cochrane Handbook v6.5, 6.5.2.8",
                   f"r = ({_g(sb)}^2 + {_g(sf)}^2 - {_g(sc)}^2) / (2 x {_g(sb)} x {_g(sf)}) "
                   f"= {r:.6f}")


# ----------------------------------------------------------------------------- arms


def combine_arms(n1: float, mean1: float, sd1: float, n2: float, mean2: float,
                 sd2: float) -> Derived:
    """Combine two arms into one group (Cochrane Handbook 6.5.2.10, Table 6.5.a)."""
    n1, n2 = _pos("n1", n1), _pos("n2", n2)
    m1, m2 = _num("mean1", mean1), _num("mean2", mean2)
    s1, s2 = _num("sd1", sd1), _num("sd2", sd2)
    if s1 < 0 or s2 < 0:
        raise StatsError("SDs must be >= 0")
    n = n1 + n2
    mean = (n1 * m1 + n2 * m2) / n
    var = ((n1 - 1) * s1 * s1 + (n2 - 1) * s2 * s2
           + n1 * n2 / n * (m1 * m1 + m2 * m2 - 2 * m1 * m2)) / (n - 1)
    sd = math.sqrt(var)
    return Derived({"n": n, "mean": mean, "sd": sd}, "combine_arms",
                   "Cochrane Handbook v6.5, 6.5.2.10, Table 6.5.a",
                   f"N = {_g(n1)} + {_g(n2)} = {_g(n)}; mean = ({_g(n1)} x {_g(m1)} + {_g(n2)} x "
                   f"{_g(m2)}) / {_g(n)} = {_g(mean)}; SD = sqrt((({_g(n1)}-1) {_g(s1)}^2 + "
                   f"({_g(n2)}-1) {_g(s2)}^2 + {_g(n1)} x {_g(n2)}/{_g(n)} ({_g(m1)}^2 + "
                   f"{_g(m2)}^2 - 2 x {_g(m1)} x {_g(m2)})) / ({_g(n)} - 1)) = {_g(sd)}")


def combine_arms_events(events1: float, n1: float, events2: float, n2: float) -> Derived:
    """Combine two arms of a dichotomous outcome: add events and totals (Handbook 6.5.2.10)."""
    n1, n2 = _pos("n1", n1), _pos("n2", n2)
    e1, e2 = _num("events1", events1), _num("events2", events2)
    return Derived({"events": e1 + e2, "n": n1 + n2}, "combine_arms_events",
                   "Cochrane Handbook v6.5, 6.5.2.10",
                   f"events = {_g(e1)} + {_g(e2)} = {_g(e1 + e2)}; N = {_g(n1)} + {_g(n2)} = "
                   f"{_g(n1 + n2)}")


def split_shared_control(n: float, comparisons: int, events: float | None = None) -> Derived:
    """Split a control group shared by several comparisons (Cochrane Handbook 23.3.4).

    The sample size (and the events) are divided by the number of comparisons so that the
    control participants are not counted twice; means and SDs stay unchanged.
    """
    n = _pos("n", n)
    if comparisons < 2:
        raise StatsError("a shared control is split between at least 2 comparisons")
    vals = {"n": n / comparisons}
    text = f"n = {_g(n)} / {comparisons} = {_g(n / comparisons)}"
    if events is not None:
        e = _num("events", events)
        vals["events"] = e / comparisons
        text += f"; events = {_g(e)} / {comparisons} = {_g(e / comparisons)}"
    return Derived(vals, "split_shared_control", "Cochrane Handbook v6.5, 23.3.4",
                   text + " (mean and SD unchanged)")
